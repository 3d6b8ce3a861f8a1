"""Signed webhook routes: verify over the raw bytes, store before answering, process later.

Every route reads the body (at most ``ISTMO_WEBHOOK_MAX_BYTES``, else 413), verifies the
provider's signature (401 and nothing stored when it fails), and hands the delivery to
``ReceiveWebhook``: one transaction stores the event (a duplicate creates nothing) and queues
its ``webhooks.process`` job. A verified delivery is stored even when its content is unusable;
its processing then marks it FAILED or UNMATCHED with the reason.

Other domains put their routes here too (``/webhooks/whatsapp``, ``/webhooks/aurinko``): verify,
then ``receive(...)`` with their provider name, and register a processor in
the owning domain's module (``provides={"webhook_processors": ...}``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import structlog
from flask import Blueprint, Response, jsonify, request

from application.invoicing.pac import COMPANY_HEADER, PacCompanyUnknown, VerifyPacDelivery, pac_event_id
from application.webhooks.commands import ReceivedWebhook, ReceiveWebhook
from application.webhooks.ports import SignatureRejected, WebhookVerifier
from domain.webhooks.model import MAX_PROVIDER_EVENT_ID
from entrypoints.http.errors import json_error
from entrypoints.http.services import services

blueprint = Blueprint("webhooks", __name__)
log = structlog.get_logger("istmo.webhooks")


class BodyTooLarge(Exception):
    pass


def raw_body(limit: int) -> bytes:
    """The request's bytes, refused past ``limit`` (declared or streamed)."""
    if request.content_length is not None and request.content_length > limit:
        raise BodyTooLarge
    body = request.stream.read(limit + 1)
    if len(body) > limit:
        raise BodyTooLarge
    return body


def too_large(limit: int) -> Response:
    return json_error(413, "REQUEST_TOO_LARGE", f"a webhook body is at most {limit} bytes")


def rejected(error: SignatureRejected, *, status: int = 401) -> Response:
    return json_error(status, "INVALID_SIGNATURE", error.reason)


def receive(
    provider: str,
    provider_event_id: str,
    body: bytes,
    *,
    tenant_id: str | None = None,
    event_type: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Store a verified delivery (and queue it) and answer 200: also for a duplicate."""
    if not provider_event_id or len(provider_event_id) > MAX_PROVIDER_EVENT_ID:
        provider_event_id = body_digest(provider_event_id.encode() or body)
    result: ReceivedWebhook = services().bus().handle(
        ReceiveWebhook(
            actor=None,
            provider=provider,
            provider_event_id=provider_event_id,
            tenant_id=tenant_id,
            headers=dict(request.headers.items()) if headers is None else headers,
            body=body,
            event_type=event_type,
        )
    )
    return jsonify({"received": True, "duplicate": result.duplicate, "id": result.event_id})


def body_digest(body: bytes) -> str:
    """A provider event id for deliveries whose own id cannot be read: the same bytes, the same id."""
    return f"sha256:{hashlib.sha256(body).hexdigest()}"


def json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def _not_configured(provider: str) -> Response:
    # 503: the provider retries, so nothing is lost once the secret is configured.
    return json_error(503, "WEBHOOK_NOT_CONFIGURED", f"{provider} webhooks are not configured on this instance")


@blueprint.post("/webhooks/polar")
def polar() -> Any:
    """Polar: Standard Webhooks signatures (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``)."""
    settings = services().settings()
    verifier: WebhookVerifier | None = services().gateways.polar_verifier()
    if verifier is None:
        return _not_configured("Polar")
    try:
        body = raw_body(settings.webhook_max_bytes)
    except BodyTooLarge:
        return too_large(settings.webhook_max_bytes)
    try:
        verifier.verify(body, request.headers)
    except SignatureRejected as error:
        return rejected(error)
    payload = json_or_none(body)
    kind = payload.get("type") if isinstance(payload, dict) and isinstance(payload.get("type"), str) else None
    return receive("polar", request.headers["webhook-id"].strip(), body, event_type=kind)


MAX_VALIDATION_TOKEN = 1024


@blueprint.post("/webhooks/aurinko")
def aurinko() -> Any:
    """The subscription handshake (``?validationToken=X`` -> 200 ``X``), else a signed notification:
    verified (``X-Aurinko-Signature``, 5 minutes), stored, and processed into an inbox sync."""
    token = request.args.get("validationToken")
    if token is not None:
        if not token or len(token) > MAX_VALIDATION_TOKEN:
            return json_error(400, "INVALID_INPUT", "validationToken must have 1 to 1024 characters")
        response = Response(token, status=200, mimetype="text/plain")
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
    settings = services().settings()
    verifier: WebhookVerifier | None = services().gateways.aurinko_verifier()
    if verifier is None:
        return _not_configured("Aurinko")
    try:
        body = raw_body(settings.webhook_max_bytes)
    except BodyTooLarge:
        return too_large(settings.webhook_max_bytes)
    try:
        verifier.verify(body, request.headers)
    except SignatureRejected as error:
        return rejected(error)
    payload = json_or_none(body)
    kind = payload.get("resource") if isinstance(payload, dict) and isinstance(payload.get("resource"), str) else None
    # Aurinko sends no delivery id: the signed timestamp and the bytes are the delivery.
    timestamp = (request.headers.get("X-Aurinko-Request-Timestamp") or "").strip()
    return receive("aurinko", body_digest(timestamp.encode() + b":" + body), body, event_type=kind[:100] if kind else None)


@blueprint.post("/webhooks/workos")
def workos() -> Any:
    settings = services().settings()
    verifier: WebhookVerifier | None = services().gateways.workos_verifier()
    if verifier is None:
        return _not_configured("WorkOS")
    try:
        body = raw_body(settings.webhook_max_bytes)
    except BodyTooLarge:
        return too_large(settings.webhook_max_bytes)
    try:
        verifier.verify(body, request.headers)
    except SignatureRejected as error:
        return rejected(error)
    payload = json_or_none(body)
    payload = payload if isinstance(payload, dict) else {}
    event_id = payload.get("id") if isinstance(payload.get("id"), str) and payload.get("id") else body_digest(body)
    kind = payload.get("event") if isinstance(payload.get("event"), str) else None
    return receive("workos", event_id, body, event_type=kind)


@blueprint.post("/webhooks/pac/<company_id>")
def pac(company_id: str) -> Any:
    """The PAC (Alanube): verified by the invoicing domain against the tenant's PAC company."""
    settings = services().settings()
    try:
        body = raw_body(settings.webhook_max_bytes)
    except BodyTooLarge:
        return too_large(settings.webhook_max_bytes)
    try:
        tenant_id = services().bus().handle(
            VerifyPacDelivery(
                actor=None, company_id=company_id, signature=request.headers.get("X-Pac-Signature"), body=body
            )
        )
    except PacCompanyUnknown:
        return json_error(404, "UNKNOWN_PAC_COMPANY", f"no tenant has the PAC company id {company_id[:64]!r}")
    except SignatureRejected as error:
        return rejected(error)
    payload = json_or_none(body)
    event_id = pac_event_id(company_id, payload) or body_digest(company_id.encode() + b"\n" + body)
    status = payload.get("legalStatus") if isinstance(payload, dict) else None
    headers = {**dict(request.headers.items()), COMPANY_HEADER: company_id}
    return receive(
        "pac", event_id, body, tenant_id=tenant_id, event_type=status if isinstance(status, str) else None,
        headers=headers,
    )

