"""Aurinko: OAuth connections, inbox sync, and sending through a tenant's connected mailbox."""

from __future__ import annotations

import hashlib
import hmac

from dependency_injector import providers

from application.integrations.aurinko.commands import AurinkoPolicy
from application.integrations.aurinko.oauth_state import OAuthStateCodec
from entrypoints.config import Settings
from entrypoints.containers.base import DomainServices


def _aurinko_policy(settings: Settings) -> AurinkoPolicy:
    return AurinkoPolicy(
        configured=bool(settings.aurinko_client_id and settings.aurinko_client_secret),
        return_url=settings.aurinko_callback_url,
        days_within=settings.aurinko_sync_days,
    )


def _oauth_state_codec(settings: Settings) -> OAuthStateCodec:
    # A key of its own, derived from the signing secret: a state never verifies as a file link.
    key = hmac.new(settings.signing_secret.encode(), b"istmo:aurinko:oauth-state", hashlib.sha256).digest()
    return OAuthStateCodec(key)


class Services(DomainServices):
    settings = providers.Dependency(instance_of=Settings)
    gateways = providers.DependenciesContainer()

    aurinko_policy = providers.Singleton(_aurinko_policy, settings=settings)
    oauth_state_codec = providers.Singleton(_oauth_state_codec, settings=settings)

    exports = providers.Dict(
        aurinko_oauth=gateways.aurinko_oauth,
        inbox_provider=gateways.inbox_provider,
        oauth_states=oauth_state_codec,
        aurinko_policy=aurinko_policy,
        aurinko_sync_every=settings.provided.aurinko_sync_every,
    )
