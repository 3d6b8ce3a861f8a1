"""QuickBooks' webhook: ``intuit-signature`` checked over the raw body, the delivery stored through
the webhook inbox (deduplicated), and processed into catch-ups of the companies it names."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, Response

from entrypoints.http.services import services
from entrypoints.http.webhooks import body_digest, json_or_none, receive, verified_body

blueprint = Blueprint("quickbooks_webhooks", __name__)


def delivery_id(payload: Any, body: bytes) -> str:
    """CloudEvents carry ids: the delivery is its events' ids (one, or a digest of several);
    the legacy shape carries none: its bytes are the delivery."""
    if isinstance(payload, list) and payload and all(isinstance(e, dict) and isinstance(e.get("id"), str) for e in payload):
        ids = sorted(str(e["id"]) for e in payload)
        if len(ids) == 1 and 0 < len(ids[0]) <= 200:
            return f"ce:{ids[0]}"
        return "ce:sha256:" + hashlib.sha256("\n".join(ids).encode()).hexdigest()
    return body_digest(body)


@blueprint.post("/webhooks/quickbooks")
def quickbooks() -> Any:
    body = verified_body(services().quickbooks.webhook_verifier(), "QuickBooks")
    if isinstance(body, Response):
        return body
    payload = json_or_none(body)
    kind = None
    if isinstance(payload, list) and payload and isinstance(payload[0], dict) and isinstance(payload[0].get("type"), str):
        kind = payload[0]["type"][:100]
    elif isinstance(payload, dict) and "eventNotifications" in payload:
        kind = "eventNotifications"
    return receive("quickbooks", delivery_id(payload, body), body, event_type=kind)
