"""What every domain's container is given: the settings, the core and the gateways."""

from __future__ import annotations

from dependency_injector import containers, providers

from entrypoints.config import Settings


class DomainServices(containers.DeclarativeContainer):
    """A domain's container (``entrypoints/containers/<domain>.py``, its class ``Services``) provides
    ``exports``: what its module in ``application/<domain>/module.py`` needs, by name."""

    settings = providers.Dependency(instance_of=Settings)
    core = providers.DependenciesContainer()
    gateways = providers.DependenciesContainer()

    exports = providers.Dict()
