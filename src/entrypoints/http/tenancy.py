"""The tenancy domain's webhooks: Polar (subscriptions) and WorkOS (organizations, the directory)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from entrypoints.http.services import services
from entrypoints.http.webhooks import body_digest, json_or_none, receive, verified_body

blueprint = Blueprint("tenancy_webhooks", __name__)


@blueprint.post("/webhooks/polar")
def polar() -> Any:
    """Polar: Standard Webhooks signatures (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``)."""
    body = verified_body(services().gateways.polar_verifier(), "Polar")
    if isinstance(body, Response):
        return body
    payload = json_or_none(body)
    kind = payload.get("type") if isinstance(payload, dict) and isinstance(payload.get("type"), str) else None
    return receive("polar", request.headers["webhook-id"].strip(), body, event_type=kind)


MAX_VALIDATION_TOKEN = 1024


@blueprint.post("/webhooks/workos")
def workos() -> Any:
    body = verified_body(services().gateways.workos_verifier(), "WorkOS")
    if isinstance(body, Response):
        return body
    payload = json_or_none(body)
    payload = payload if isinstance(payload, dict) else {}
    event_id = payload.get("id") if isinstance(payload.get("id"), str) and payload.get("id") else body_digest(body)
    kind = payload.get("event") if isinstance(payload.get("event"), str) else None
    return receive("workos", event_id, body, event_type=kind)
