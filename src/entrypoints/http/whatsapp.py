"""``/webhooks/whatsapp``: the Cloud API's subscription handshake (GET) and its signed notifications (POST).

POST: the signature (``X-Hub-Signature-256``, HMAC-SHA256 of the raw body with the tenant's app
secret, constant time) is checked before anything is stored; the tenant is the one connected with
``metadata.phone_number_id``. A bad or missing signature is 403 and nothing is kept; a body for a
phone number id no tenant has cannot be verified, so it is answered 404 and nothing is kept
(unsigned bytes are never stored; Meta retries, and a tenant that connects meanwhile gets them).
"""

from __future__ import annotations

from typing import Any

import structlog
from flask import Blueprint, Response, request

from application.whatsapp.commands import RouteWhatsappWebhook, VerifyWhatsappSubscription
from application.whatsapp.webhooks import BadSignature, RoutedWebhook
from domain.shared.errors import InvalidInput
from entrypoints.http.errors import json_error
from entrypoints.http.services import services
from entrypoints.http.webhooks import BodyTooLarge, raw_body, receive, too_large

log = structlog.get_logger(__name__)

blueprint = Blueprint("whatsapp_webhooks", __name__)

PROVIDER = "whatsapp"
_KEPT_HEADERS = ("Content-Type", "User-Agent", "X-Hub-Signature-256")


@blueprint.get("/webhooks/whatsapp")
def handshake() -> Any:
    challenge = services().bus().handle(
        VerifyWhatsappSubscription(
            actor=None,
            mode=request.args.get("hub.mode"),
            verify_token=request.args.get("hub.verify_token"),
            challenge=request.args.get("hub.challenge"),
        )
    )
    if challenge is None:
        return json_error(403, "FORBIDDEN", "hub.mode or hub.verify_token does not match")
    return Response(challenge, status=200, mimetype="text/plain")


@blueprint.post("/webhooks/whatsapp")
def notification() -> Any:
    limit = services().settings().webhook_max_bytes
    try:
        body = raw_body(limit)
    except BodyTooLarge:
        return too_large(limit)
    try:
        routed: RoutedWebhook = services().bus().handle(
            RouteWhatsappWebhook(actor=None, body=body, signature=request.headers.get("X-Hub-Signature-256"))
        )
    except BadSignature as error:
        log.warning("whatsapp.webhook_rejected", reason=error.message)
        return json_error(403, error.code, error.message)
    except InvalidInput as error:
        return json_error(400, "BAD_REQUEST", error.message)
    if routed.tenant_id is None:  # nothing to verify it with: kept nowhere (Meta retries; a tenant may connect)
        log.info("whatsapp.webhook_unknown_number", phone_number_id=routed.phone_number_id, size=len(body))
        return json_error(404, "UNKNOWN_PHONE_NUMBER", routed.reason or "no tenant is connected with this number")
    headers = {name: request.headers[name] for name in _KEPT_HEADERS if name in request.headers}
    kinds = sorted({kind for kind in ("statuses", "messages") if f'"{kind}"'.encode() in body})
    return receive(
        PROVIDER, routed.provider_event_id, body, tenant_id=routed.tenant_id,
        event_type=",".join(kinds) or None, headers=headers,
    )
