"""The pure model of Istmo: entities, value objects, domain events and errors.

Nothing here imports a framework or another layer of the project.
"""
