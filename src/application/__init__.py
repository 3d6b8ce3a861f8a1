"""Use cases: commands, queries, their handlers, the ports they need, and the message bus.

Imports ``domain`` only; the adapters implement the ports declared here.
"""
