"""Invoicing: the PAC (Alanube) that authorizes invoices, and this instance's PAC settings."""

from __future__ import annotations

from dependency_injector import providers

from application.invoicing.pac import PacPolicy
from domain.invoicing.pac import SignatureMode
from entrypoints.config import Settings
from entrypoints.containers.base import DomainServices


def _pac_policy(settings: Settings) -> PacPolicy:
    return PacPolicy(
        webhook_secret=settings.pac_webhook_secret,
        signature_mode=SignatureMode(settings.pac_signature_mode),
        api_key=settings.pac_api_key,
        poll_after=settings.pac_poll_after,
    )


class Services(DomainServices):
    settings = providers.Dependency(instance_of=Settings)
    gateways = providers.DependenciesContainer()

    pac_policy = providers.Singleton(_pac_policy, settings=settings)

    exports = providers.Dict(
        pac_client=gateways.pac_client,
        pac_policy=pac_policy,
        pac_poll_every=settings.provided.pac_poll_every,
    )
