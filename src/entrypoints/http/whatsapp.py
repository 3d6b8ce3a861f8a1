"""``/webhooks/whatsapp``: the Cloud API's subscription handshake (GET) and its signed notifications (POST).

POST: the signature (``X-Hub-Signature-256``, HMAC-SHA256 of the raw body with the tenant's app
secret, constant time) is checked before anything is stored; the tenant is the one connected with
``metadata.phone_number_id``. A bad or missing signature is 403 and nothing is kept; a body for a
phone number id no tenant has is kept as unmatched and answered 200 (Meta would retry otherwise).
"""

from __future__ import annotations

from typing import Any

import structlog
from flask import Blueprint, Response, current_app, request

from application.whatsapp.commands import RouteWhatsappWebhook, VerifyWhatsappSubscription
from application.whatsapp.handlers import BadSignature, RoutedWebhook
from domain.shared.errors import InvalidInput
from entrypoints.http.errors import json_error

log = structlog.get_logger(__name__)

blueprint = Blueprint("whatsapp_webhooks", __name__)

MAX_BODY = 1024 * 1024  # Meta's notifications are a few KB; anything this large is not one
PROVIDER = "whatsapp"
_KEPT_HEADERS = ("Content-Type", "User-Agent", "X-Hub-Signature-256")


def _bus() -> Any:
    return current_app.extensions["istmo.container"].bus()


@blueprint.get("/webhooks/whatsapp")
def handshake() -> Any:
    challenge = _bus().handle(
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
    if (request.content_length or 0) > MAX_BODY:
        return json_error(413, "REQUEST_TOO_LARGE", f"a WhatsApp webhook is at most {MAX_BODY} bytes")
    body = request.get_data(cache=True)
    if len(body) > MAX_BODY:
        return json_error(413, "REQUEST_TOO_LARGE", f"a WhatsApp webhook is at most {MAX_BODY} bytes")
    bus = _bus()
    try:
        routed: RoutedWebhook = bus.handle(
            RouteWhatsappWebhook(actor=None, body=body, signature=request.headers.get("X-Hub-Signature-256"))
        )
    except BadSignature as error:
        log.warning("whatsapp.webhook_rejected", reason=error.message)
        return json_error(403, error.code, error.message)
    except InvalidInput as error:
        return json_error(400, "BAD_REQUEST", error.message)
    headers = {name: request.headers[name] for name in _KEPT_HEADERS if name in request.headers}
    receive(bus, routed, headers, body)
    return Response("", status=200)


def receive(bus: Any, routed: RoutedWebhook, headers: dict[str, str], body: bytes) -> None:
    """Keep the notification and queue its processing (the webhook inbox)."""
    from application.whatsapp.commands import ApplyWhatsappWebhook

    # interim, until the webhook inbox (contract B) is on main: applied at once, unmatched ones logged
    if routed.tenant_id is None:
        log.info("whatsapp.webhook_unmatched", phone_number_id=routed.phone_number_id)
        return
    bus.handle(ApplyWhatsappWebhook(actor=None, tenant_id=routed.tenant_id, body=body))
