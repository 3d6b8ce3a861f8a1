"""The ``aurinko`` webhook processor: a notification about a mailbox queues a sync of it.

Aurinko's notification names the account (``accountId``); the payload is a trigger only (the
delta sync fetches what changed). An account no ACTIVE connection has is UNMATCHED. The same
stored event queues one sync however often it is processed (the job key names the event).
"""

from __future__ import annotations

from application.integrations.aurinko.commands import QueueAccountSync
from application.shared.bus import MessageBus
from application.webhooks.payloads import json_object, text
from application.webhooks.ports import WebhookOutcome
from application.webhooks.views import WebhookEventView

PROVIDER = "aurinko"


class AurinkoWebhookProcessor:
    def __init__(self, bus: MessageBus) -> None:
        self._bus = bus

    def __call__(self, event: WebhookEventView) -> WebhookOutcome:
        body = json_object(event)
        account_id = text(body, "accountId", max_length=100)
        if account_id is None:
            return WebhookOutcome.unmatched("the notification names no accountId")
        ref = self._bus.handle(QueueAccountSync(actor=None, account_id=account_id, reference=event.id))
        if ref is None:
            return WebhookOutcome.unmatched("no connected mailbox has this Aurinko account")
        return WebhookOutcome.processed("inbox sync queued", tenant_id=ref.tenant_id)
