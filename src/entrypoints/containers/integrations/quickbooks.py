"""QuickBooks Online: Intuit's OAuth (intuit-oauth), the Accounting API, the per-realm rate gate,
the webhook verifier and the connector's policy, from its own ``ISTMO_QBO_*`` variables."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from dependency_injector import providers

from adapters.db.integrations.quickbooks.rate import SqlRateGate
from adapters.quickbooks.api import PRODUCTION, SANDBOX, QuickbooksHttpApi
from adapters.quickbooks.oauth import IntuitOAuth
from adapters.webhooks.quickbooks import QuickbooksWebhookVerifier
from application.integrations.aurinko.oauth_state import OAuthStateCodec
from application.integrations.quickbooks.commands import QuickbooksPolicy
from entrypoints.config import ConfigurationError, Settings
from entrypoints.containers.base import DomainServices

_THIRTY = timedelta(seconds=30)


def _environment(settings: Settings) -> str:
    value = settings.variables.text("QBO_ENVIRONMENT", "production") or "production"
    if value.lower() not in ("production", "sandbox") and not value.lower().startswith(("https://", "http://")):
        raise ConfigurationError(
            f"ISTMO_QBO_ENVIRONMENT must be production, sandbox or a discovery document URL, not {value!r}"
        )
    return value


def _oauth(settings: Settings) -> IntuitOAuth:
    v = settings.variables
    client_id, secret = v.text("QBO_CLIENT_ID"), v.text("QBO_CLIENT_SECRET")
    if bool(client_id) != bool(secret):
        raise ConfigurationError("ISTMO_QBO_CLIENT_ID and ISTMO_QBO_CLIENT_SECRET go together: set both")
    return IntuitOAuth(
        client_id=client_id,
        client_secret=secret,
        redirect_uri=v.text("QBO_REDIRECT_URL") or f"{settings.public_url}/integrations/quickbooks/callback",
        environment=_environment(settings),
        timeout=v.duration("QBO_TIMEOUT", _THIRTY).total_seconds(),
    )


def _api(settings: Settings) -> QuickbooksHttpApi:
    v = settings.variables
    default = SANDBOX if _environment(settings).lower() == "sandbox" else PRODUCTION
    return QuickbooksHttpApi(
        v.text("QBO_API_URL") or default, read_timeout=v.duration("QBO_TIMEOUT", _THIRTY).total_seconds()
    )


def _policy(settings: Settings) -> QuickbooksPolicy:
    v = settings.variables
    return QuickbooksPolicy(configured=bool(v.text("QBO_CLIENT_ID") and v.text("QBO_CLIENT_SECRET")))


def _state_codec(settings: Settings) -> OAuthStateCodec:
    # A key of its own: a QuickBooks state never verifies as an Aurinko one, nor as a file link.
    key = hmac.new(settings.signing_secret.encode(), b"istmo:quickbooks:oauth-state", hashlib.sha256).digest()
    return OAuthStateCodec(key)


def _verifier(settings: Settings) -> QuickbooksWebhookVerifier | None:
    token = settings.variables.text("QBO_WEBHOOK_VERIFIER")
    return QuickbooksWebhookVerifier(token) if token else None


def _gate(settings: Settings, session_factory: object, clock: object) -> SqlRateGate:
    v = settings.variables
    return SqlRateGate(
        session_factory,  # type: ignore[arg-type]
        clock,  # type: ignore[arg-type]
        per_minute=v.integer("QBO_REQUESTS_PER_MINUTE", 500),
        concurrency=v.integer("QBO_CONCURRENCY", 10),
    )


class Services(DomainServices):
    settings = providers.Dependency(instance_of=Settings)
    core = providers.DependenciesContainer()

    quickbooks_oauth = providers.Singleton(_oauth, settings=settings)
    quickbooks_api = providers.Singleton(_api, settings=settings)
    quickbooks_gate = providers.Singleton(_gate, settings=settings, session_factory=core.session_factory, clock=core.clock)
    quickbooks_policy = providers.Singleton(_policy, settings=settings)
    state_codec = providers.Singleton(_state_codec, settings=settings)
    webhook_verifier = providers.Singleton(_verifier, settings=settings)

    exports = providers.Dict(
        quickbooks_oauth=quickbooks_oauth,
        quickbooks_api=quickbooks_api,
        quickbooks_gate=quickbooks_gate,
        quickbooks_states=state_codec,
        quickbooks_policy=quickbooks_policy,
        quickbooks_cdc_every=providers.Callable(
            lambda s: s.variables.duration("QBO_CDC_EVERY", timedelta(minutes=15)), settings
        ),
    )
