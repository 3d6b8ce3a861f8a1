"""Tenancy: who a bearer token says is asking."""

from __future__ import annotations

from dependency_injector import providers

from entrypoints.containers.base import DomainServices

from application.tenancy.auth import Authenticator


class Services(DomainServices):
    core = providers.DependenciesContainer()
    gateways = providers.DependenciesContainer()

    authenticator = providers.Singleton(
        Authenticator, verifier=gateways.token_verifier, uow_factory=core.uow_factory.provider
    )

    exports = providers.Dict()
