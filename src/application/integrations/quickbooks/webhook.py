"""The ``quickbooks`` webhook processor: each company a delivery names gets a catch-up queued.

Both shapes are read: the legacy ``{"eventNotifications": [{"realmId", "dataChangeEvent":
{"entities": [...]}}]}`` and the CloudEvents array (``intuitaccountid`` names the company), with
several companies in one delivery. The notification is a trigger only: the catch-up (CDC) reads
what changed. A delivery naming no company Istmo has connected is UNMATCHED; the same stored event
queues one catch-up per company however often it is processed.
"""

from __future__ import annotations

from typing import Any

from application.integrations.quickbooks.commands import QueueRealmCatchUp
from application.jobs.errors import PermanentJobError
from application.shared.modules import Messages
from application.webhooks.ports import WebhookOutcome
from application.webhooks.views import WebhookEventView
from domain.integrations.quickbooks.connection import parse_realm_id
from domain.shared.errors import InvalidInput

PROVIDER = "quickbooks"
MAX_REALMS = 100


def realms_of(payload: Any) -> list[str]:
    """The company ids a delivery names, each once, in order; ``PermanentJobError`` if it is neither shape."""
    found: list[object] = []
    if isinstance(payload, dict) and isinstance(payload.get("eventNotifications"), list):
        found = [n.get("realmId") for n in payload["eventNotifications"] if isinstance(n, dict)]
    elif isinstance(payload, list):
        found = [e.get("intuitaccountid") for e in payload if isinstance(e, dict)]
    else:
        raise PermanentJobError("the body is neither eventNotifications nor a CloudEvents array")
    realms: list[str] = []
    for value in found:
        try:
            realm = parse_realm_id(str(value) if isinstance(value, int) else value)
        except InvalidInput:
            continue
        if realm not in realms:
            realms.append(realm)
    return realms[:MAX_REALMS]


class QuickbooksWebhookProcessor:
    def __init__(self, messages: Messages) -> None:
        self._messages = messages

    def __call__(self, event: WebhookEventView) -> WebhookOutcome:
        try:
            payload = event.json()
        except ValueError as error:
            raise PermanentJobError(str(error)) from None
        realms = realms_of(payload)
        if not realms:
            return WebhookOutcome.unmatched("the notification names no QuickBooks company")
        tenants = []
        for realm in realms:
            ref = self._messages.handle(QueueRealmCatchUp(actor=None, realm_id=realm, reference=event.id))
            if ref is not None:
                tenants.append(ref.tenant_id)
        unknown = len(realms) - len(tenants)
        if not tenants:
            return WebhookOutcome.unmatched("no connected QuickBooks company has this realm id")
        note = f"catch-up queued for {len(tenants)} company(ies)" + (f"; {unknown} unknown realm(s) ignored" if unknown else "")
        return WebhookOutcome.processed(note, tenant_id=tenants[0] if len(tenants) == 1 else None)
