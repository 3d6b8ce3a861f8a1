"""The "whatsapp" processor of the webhook inbox: a stored, verified notification applied to its tenant.

Statuses move outbound messages forward, inbound messages are kept (once) and open the 24-hour
window. Applying the same notification again changes nothing, so retries and replays are safe.
"""

from __future__ import annotations

import re

from application.shared.bus import MessageBus
from application.webhooks.ports import WebhookOutcome
from application.webhooks.views import WebhookEventView
from application.whatsapp.commands import ApplyWhatsappWebhook
from application.whatsapp.handlers import AppliedWebhook

PROVIDER = "whatsapp"
_PHONE_NUMBER_ID = re.compile(rb'"phone_number_id"\s*:\s*"?([0-9]{1,32})')


class WhatsappWebhookProcessor:
    def __init__(self, bus: MessageBus) -> None:
        self._bus = bus

    def __call__(self, event: WebhookEventView) -> WebhookOutcome:
        if event.tenant_id is None:
            found = _PHONE_NUMBER_ID.search(event.body)
            number = found.group(1).decode() if found else "none"
            return WebhookOutcome.unmatched(f"no tenant is connected with phone number id {number}")
        applied: AppliedWebhook = self._bus.handle(
            ApplyWhatsappWebhook(actor=None, tenant_id=event.tenant_id, body=event.body)
        )
        if not applied.matched:
            return WebhookOutcome.unmatched("the tenant has no WhatsApp connection any more", tenant_id=event.tenant_id)
        return WebhookOutcome.processed(
            f"{applied.statuses} status(es), {applied.changed} changed, {applied.unknown_statuses} unknown; "
            f"{applied.inbound} inbound, {applied.duplicates} duplicate(s)",
            tenant_id=event.tenant_id,
        )
