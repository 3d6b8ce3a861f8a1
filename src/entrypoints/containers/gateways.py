"""The gateways container: clients of the providers we call (Aurinko, the WhatsApp Graph API, the
PAC, the mail outbox), the bearer-token verifier, and the verifiers of the webhooks providers send us.

A verifier whose secret is not configured is ``None``: its route answers 503 (the provider retries).
"""

from __future__ import annotations

from collections.abc import Callable

from dependency_injector import containers, providers

from adapters.alanube.client import AlanubePacClient
from adapters.auth.jwt import HmacJwtVerifier, JwksJwtVerifier
from adapters.aurinko.http import AurinkoHttp
from adapters.aurinko.inbox import AurinkoInboxProvider
from adapters.aurinko.oauth import AurinkoOAuthProvider
from adapters.aurinko.sender import AurinkoEmailSender
from adapters.email.outbox import LocalOutboxEmailSender
from adapters.webhooks.aurinko import AurinkoWebhookVerifier
from adapters.webhooks.standard import StandardWebhooksVerifier
from adapters.webhooks.whatsapp import HubSignatures
from adapters.webhooks.workos import WorkOsWebhookVerifier
from adapters.whatsapp.graph import GraphWhatsAppSender
from application.shared.ports import Clock
from application.webhooks.ports import WebhookVerifier
from application.integrations.aurinko.sending import AurinkoSenderSource
from entrypoints.config import Settings


def _token_verifier(settings: Settings) -> object:
    if settings.jwks_url:
        return JwksJwtVerifier(settings.jwks_url)
    return HmacJwtVerifier(settings.jwt_secret or "")


def _aurinko_http(settings: Settings) -> AurinkoHttp:
    return AurinkoHttp(settings.aurinko_base_url, read_timeout=settings.aurinko_timeout.total_seconds())


def _aurinko_sender_factory(
    http: AurinkoHttp,
) -> Callable[[str, str | None, Callable[[str], None]], AurinkoEmailSender]:
    def make(token: str, mailbox: str | None, on_token_rejected: Callable[[str], None]) -> AurinkoEmailSender:
        return AurinkoEmailSender(http, token, mailbox=mailbox, on_token_rejected=on_token_rejected)

    return make


def _outbox_sender(settings: Settings) -> LocalOutboxEmailSender:
    return LocalOutboxEmailSender(settings.outbox_dir or settings.data_dir / "outbox", default_from=settings.email_from)


def _polar_verifier(secret: str | None) -> WebhookVerifier | None:
    return StandardWebhooksVerifier(secret) if secret else None


def _workos_verifier(secret: str | None) -> WebhookVerifier | None:
    return WorkOsWebhookVerifier(secret) if secret else None


def _aurinko_verifier(secret: str | None, clock: Clock) -> WebhookVerifier | None:
    return AurinkoWebhookVerifier(secret, clock=clock) if secret else None


class Gateways(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    core = providers.DependenciesContainer()

    token_verifier = providers.Singleton(_token_verifier, settings=settings)

    aurinko_http = providers.Singleton(_aurinko_http, settings=settings)
    aurinko_oauth = providers.Singleton(
        AurinkoOAuthProvider,
        aurinko_http,
        client_id=settings.provided.aurinko_client_id,
        client_secret=settings.provided.aurinko_client_secret,
    )
    inbox_provider = providers.Singleton(AurinkoInboxProvider, aurinko_http)
    aurinko_sender_factory = providers.Callable(_aurinko_sender_factory, aurinko_http)
    """Makes the sender of one connected mailbox (its token, its mailbox, what to do when refused)."""
    aurinko_senders = providers.Singleton(
        AurinkoSenderSource,
        core.uow_factory.provider,
        core.secret_box,
        core.clock,
        make_sender=aurinko_sender_factory,
    )
    """A tenant's ACTIVE connection's sender, or None: what the e-mail chooser asks first."""

    whatsapp_sender = providers.Singleton(GraphWhatsAppSender, base_url=settings.provided.whatsapp_graph_url)
    pac_client = providers.Singleton(
        AlanubePacClient, base_url=settings.provided.pac_base_url, timeout=settings.provided.pac_timeout_seconds
    )
    outbox_sender = providers.Singleton(_outbox_sender, settings=settings)

    polar_verifier = providers.Singleton(_polar_verifier, settings.provided.polar_webhook_secret)
    workos_verifier = providers.Singleton(_workos_verifier, settings.provided.workos_webhook_secret)
    # A Factory: it reads the clock, which tests move.
    aurinko_verifier = providers.Factory(_aurinko_verifier, settings.provided.aurinko_signing_secret, core.clock)
    whatsapp_signatures = providers.Singleton(HubSignatures)
