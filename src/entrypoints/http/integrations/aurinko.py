"""Aurinko's webhook: the subscription handshake and signed notifications (an inbox sync each)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from entrypoints.http.errors import json_error
from entrypoints.http.services import services
from entrypoints.http.webhooks import body_digest, json_or_none, receive, verified_body

blueprint = Blueprint("aurinko_webhooks", __name__)

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
    body = verified_body(services().gateways.aurinko_verifier(), "Aurinko")
    if isinstance(body, Response):
        return body
    payload = json_or_none(body)
    kind = payload.get("resource") if isinstance(payload, dict) and isinstance(payload.get("resource"), str) else None
    # Aurinko sends no delivery id: the signed timestamp and the bytes are the delivery.
    timestamp = (request.headers.get("X-Aurinko-Request-Timestamp") or "").strip()
    return receive("aurinko", body_digest(timestamp.encode() + b":" + body), body, event_type=kind[:100] if kind else None)
