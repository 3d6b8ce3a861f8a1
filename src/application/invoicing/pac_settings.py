"""The tenant's PAC settings (company, webhook secret and how it is checked, API key; secrets sealed,
never read back) and the check of a PAC webhook delivery's signature."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

import structlog

from application.invoicing.pac import PacPolicy, pac_config
from application.invoicing.ports import PacUnitOfWork
from application.shared.messages import Command, Query
from application.shared.ports import Clock
from application.shared.secrets import SecretBox, SecretUnreadable
from application.webhooks.ports import SignatureRejected
from domain.invoicing.pac import (
    PacSettings,
    SignatureMode,
    api_key_context,
    parse_company_id,
    webhook_secret_context,
)
from domain.shared.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from domain.tenancy.model import Actor

log = structlog.get_logger(__name__)

MAX_SECRET = 500


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigurePac(Command):
    """The tenant's PAC company and how its webhooks are checked. ``None`` keeps a stored secret;
    an empty string removes it."""

    company_id: str
    webhook_secret: str | None = None
    api_key: str | None = None
    signature_mode: str = "SECRET"
    send_authorized_invoice: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class GetPacSettings(Query):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class PacSettingsView:
    company_id: str
    signature_mode: SignatureMode
    has_webhook_secret: bool
    has_api_key: bool
    send_authorized_invoice: bool
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyPacDelivery(Command):
    """Check ``X-Pac-Signature`` for a company; the tenant it names (None: unknown company, accepted
    under the instance's secret). Raises ``SignatureRejected``, or ``PacCompanyUnknown``."""

    company_id: str
    signature: str | None
    body: bytes


class PacCompanyUnknown(Exception):
    """No tenant has this PAC company id and the instance has no secret to check the delivery with."""



def _secret(value: str | None, *, field: str) -> str | None:
    if value is None:
        return None
    text_value = value.strip()
    if len(text_value) > MAX_SECRET:
        raise InvalidInput(f"{field} has more than {MAX_SECRET} characters", field=field)
    return text_value


def pac_settings_view(settings: PacSettings) -> PacSettingsView:
    return PacSettingsView(
        company_id=settings.company_id,
        signature_mode=SignatureMode(settings.signature_mode),
        has_webhook_secret=settings.webhook_secret_sealed is not None,
        has_api_key=settings.api_key_sealed is not None,
        send_authorized_invoice=settings.send_authorized_invoice,
        updated_at=settings.updated_at,
    )


def _admin(actor: Actor | None) -> Actor:
    if actor is None:
        raise PermissionDenied("the PAC settings belong to a tenant")
    if not actor.is_admin:
        raise PermissionDenied("only the tenant's owners and admins change its PAC settings")
    return actor


class ConfigurePacHandler:
    def __init__(self, clock: Clock, secrets: SecretBox) -> None:
        self._clock = clock
        self._secrets = secrets

    def __call__(self, cmd: ConfigurePac, uow: PacUnitOfWork) -> PacSettingsView:
        actor = _admin(cmd.actor)
        company_id = parse_company_id(cmd.company_id)
        mode = SignatureMode.parse(cmd.signature_mode)
        webhook_secret = _secret(cmd.webhook_secret, field="webhookSecret")
        api_key = _secret(cmd.api_key, field="apiKey")
        tenant_id = actor.tenant_id
        now = self._clock.now()
        with uow:
            taken = uow.pac_settings.by_company(company_id)
            if taken is not None and taken.tenant_id != tenant_id:
                raise Conflict(f"PAC company {company_id} belongs to another tenant", field="companyId")
            settings = uow.pac_settings.get(tenant_id)
            if settings is None:
                settings = PacSettings(
                    tenant_id=tenant_id, company_id=company_id, webhook_secret_sealed=None, api_key_sealed=None,
                    signature_mode=mode, send_authorized_invoice=cmd.send_authorized_invoice, updated_at=now,
                )
                uow.pac_settings.add(settings)
            settings.company_id = company_id
            settings.signature_mode = mode
            settings.send_authorized_invoice = bool(cmd.send_authorized_invoice)
            settings.updated_at = now
            if webhook_secret is not None:
                settings.webhook_secret_sealed = (
                    self._secrets.seal(webhook_secret, context=webhook_secret_context(tenant_id)) if webhook_secret else None
                )
            if api_key is not None:
                settings.api_key_sealed = (
                    self._secrets.seal(api_key, context=api_key_context(tenant_id)) if api_key else None
                )
            if settings.signature_mode is SignatureMode.HMAC and settings.webhook_secret_sealed is None:
                raise InvalidInput("HMAC mode needs a webhookSecret", field="webhookSecret")
            uow.commit()
            return pac_settings_view(settings)


class GetPacSettingsHandler:
    def __call__(self, query: GetPacSettings, uow: PacUnitOfWork) -> PacSettingsView:
        actor = _admin(query.actor)
        with uow:
            settings = uow.pac_settings.get(actor.tenant_id)
            if settings is None:
                raise NotFound("the PAC is not configured for this tenant", field="companyId")
            return pac_settings_view(settings)



def signature_matches(mode: SignatureMode, secret: str, signature: str, body: bytes) -> bool:
    """Constant time: the shared secret itself, or the hex HMAC-SHA256 of the body (``sha256=`` optional)."""
    given = signature.strip()
    if mode is SignatureMode.HMAC:
        given = given.removeprefix("sha256=").lower()
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(given.encode(), expected.encode())
    return hmac.compare_digest(given.encode(), secret.encode())


class VerifyPacDeliveryHandler:
    def __init__(self, secrets: SecretBox, policy: PacPolicy) -> None:
        self._secrets = secrets
        self._policy = policy

    def __call__(self, cmd: VerifyPacDelivery, uow: PacUnitOfWork) -> str | None:
        try:
            company_id = parse_company_id(cmd.company_id)
        except InvalidInput:
            raise PacCompanyUnknown from None
        with uow:
            found = uow.pac_settings.by_company(company_id)
            settings = None if found is None else pac_config(found)
        tenant_id = settings.tenant_id if settings is not None else None
        mode = settings.signature_mode if settings is not None else self._policy.signature_mode
        if settings is not None and settings.webhook_secret_sealed is not None:
            try:
                secret = self._secrets.open(settings.webhook_secret_sealed, context=webhook_secret_context(settings.tenant_id))
            except SecretUnreadable:
                log.error("pac.secret_unreadable", tenant_id=settings.tenant_id)
                raise SignatureRejected("the tenant's PAC secret cannot be read; set it again") from None
        elif self._policy.webhook_secret:
            secret = self._policy.webhook_secret
        elif settings is None:
            raise PacCompanyUnknown
        else:
            raise SignatureRejected("no PAC webhook secret is configured for this company")
        if not cmd.signature or not cmd.signature.strip():
            raise SignatureRejected("the X-Pac-Signature header is missing")
        if not signature_matches(mode, secret, cmd.signature, cmd.body):
            raise SignatureRejected("X-Pac-Signature does not match")
        return tenant_id
