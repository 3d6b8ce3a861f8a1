"""Signed webhook routes: verify over the raw bytes, store before answering, process later.

Every route reads the body (at most ``ISTMO_WEBHOOK_MAX_BYTES``, else 413), verifies the
provider's signature (401 and nothing stored when it fails), and hands the delivery to
``ReceiveWebhook``: one transaction stores the event (a duplicate creates nothing) and queues
its ``webhooks.process`` job. A verified delivery is stored even when its content is unusable;
its processing then marks it FAILED or UNMATCHED with the reason.

The routes live with the domain that owns the provider (``entrypoints/http/<domain>.py``, found by
its name in ``application.modules.DOMAINS``): they verify (``verified_body``), then ``receive(...)``
with their provider name; the domain's module registers the processor
(``provides={"webhook_processors": ...}``). This module is the inbox's side of them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import structlog
from flask import Response, jsonify, request

from application.webhooks.commands import ReceivedWebhook, ReceiveWebhook
from application.webhooks.ports import SignatureRejected, WebhookVerifier
from domain.webhooks.model import MAX_PROVIDER_EVENT_ID
from entrypoints.http.errors import json_error
from entrypoints.http.services import services

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


def not_configured(provider: str) -> Response:
    # 503: the provider retries, so nothing is lost once the secret is configured.
    return json_error(503, "WEBHOOK_NOT_CONFIGURED", f"{provider} webhooks are not configured on this instance")


def verified_body(verifier: WebhookVerifier | None, provider: str) -> bytes | Response:
    """The request's body, size-capped and verified by ``verifier``; else the answer to give."""
    if verifier is None:
        return not_configured(provider)
    limit = services().settings().webhook_max_bytes
    try:
        body = raw_body(limit)
    except BodyTooLarge:
        return too_large(limit)
    try:
        verifier.verify(body, request.headers)
    except SignatureRejected as error:
        return rejected(error)
    return body
