"""The WhatsApp webhook: which tenant a notification is for (its signature checked), the GET
handshake, and the "whatsapp" processor of the webhook inbox, which applies a stored, verified
notification to its tenant (``application.whatsapp.notifications``). Applying the same notification
again changes nothing, so retries and replays are safe.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from application.shared.modules import Messages
from application.shared.secrets import SecretBox, SecretUnreadable
from application.webhooks.ports import WebhookOutcome
from application.webhooks.views import WebhookEventView
from application.whatsapp.commands import ApplyWhatsappWebhook, RouteWhatsappWebhook, VerifyWhatsappSubscription
from application.whatsapp.ports import WebhookSignatures, WhatsappUnitOfWork
from application.whatsapp.views import AppliedWebhook
from domain.shared.errors import InvalidInput, PermissionDenied
from domain.whatsapp.connection import secret_context, secret_digest

PROVIDER = "whatsapp"
_PHONE_NUMBER_ID = re.compile(rb'"phone_number_id"\s*:\s*"?([0-9]{1,32})')


class BadSignature(PermissionDenied):
    code = "BAD_SIGNATURE"


@dataclass(frozen=True, slots=True, kw_only=True)
class RoutedWebhook:
    """``tenant_id`` None: no tenant has that phone number id (kept as unmatched)."""

    tenant_id: str | None
    provider_event_id: str
    phone_number_id: str | None
    reason: str | None = None


def payload_of(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("the body is not JSON", field="body") from None
    if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
        raise InvalidInput("the body is not a WhatsApp Business Account webhook", field="body")
    return payload


def changes_of(payload: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for entry in payload.get("entry") or ():
        if not isinstance(entry, dict):
            continue
        for change in entry.get("changes") or ():
            if isinstance(change, dict) and isinstance(change.get("value"), dict):
                yield change["value"]


def phone_number_id_of(value: dict[str, Any]) -> str | None:
    metadata = value.get("metadata")
    found = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
    return str(found) if found not in (None, "") else None


class RouteWhatsappWebhookHandler:
    def __init__(self, secrets: SecretBox, signatures: WebhookSignatures) -> None:
        self._secrets = secrets
        self._signatures = signatures

    def __call__(self, cmd: RouteWhatsappWebhook, uow: WhatsappUnitOfWork) -> RoutedWebhook:
        event_id = hashlib.sha256(cmd.body).hexdigest()
        payload = payload_of(cmd.body)
        phone_number_id = next((p for p in map(phone_number_id_of, changes_of(payload)) if p), None)
        if phone_number_id is None:
            return RoutedWebhook(tenant_id=None, provider_event_id=event_id, phone_number_id=None,
                                 reason="no metadata.phone_number_id")
        with uow:
            route = uow.whatsapp_directory.by_phone_number_id(phone_number_id)
        if route is None:
            return RoutedWebhook(tenant_id=None, provider_event_id=event_id, phone_number_id=phone_number_id,
                                 reason=f"no tenant is connected with phone number id {phone_number_id}")
        try:
            secret = self._secrets.open(route.sealed, context=secret_context(route.tenant_id, route.connection_id, "app_secret"))
        except SecretUnreadable:
            raise BadSignature("the app secret of this number cannot be opened") from None
        if not self._signatures.valid(secret=secret, body=cmd.body, header=cmd.signature):
            raise BadSignature("X-Hub-Signature-256 does not match the body")
        return RoutedWebhook(tenant_id=route.tenant_id, provider_event_id=event_id, phone_number_id=phone_number_id)


class VerifyWhatsappSubscriptionHandler:
    def __init__(self, secrets: SecretBox) -> None:
        self._secrets = secrets

    def __call__(self, cmd: VerifyWhatsappSubscription, uow: WhatsappUnitOfWork) -> str | None:
        if cmd.mode != "subscribe" or not cmd.verify_token or cmd.challenge is None:
            return None
        with uow:
            route = uow.whatsapp_directory.by_verify_token_digest(secret_digest(cmd.verify_token))
        if route is None:
            return None
        try:
            expected = self._secrets.open(route.sealed, context=secret_context(route.tenant_id, route.connection_id, "verify_token"))
        except SecretUnreadable:
            return None
        if not hmac.compare_digest(expected.encode(), cmd.verify_token.encode()):
            return None
        return cmd.challenge


class WhatsappWebhookProcessor:
    def __init__(self, messages: Messages) -> None:
        self._messages = messages

    def __call__(self, event: WebhookEventView) -> WebhookOutcome:
        if event.tenant_id is None:
            found = _PHONE_NUMBER_ID.search(event.body)
            number = found.group(1).decode() if found else "none"
            return WebhookOutcome.unmatched(f"no tenant is connected with phone number id {number}")
        applied: AppliedWebhook = self._messages.handle(
            ApplyWhatsappWebhook(actor=None, tenant_id=event.tenant_id, body=event.body), tenant_id=event.tenant_id
        )
        if not applied.matched:
            return WebhookOutcome.unmatched("the tenant has no WhatsApp connection any more", tenant_id=event.tenant_id)
        return WebhookOutcome.processed(
            f"{applied.statuses} status(es), {applied.changed} changed, {applied.unknown_statuses} unknown; "
            f"{applied.inbound} inbound, {applied.duplicates} duplicate(s)",
            tenant_id=event.tenant_id,
        )
