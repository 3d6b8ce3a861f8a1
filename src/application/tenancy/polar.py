"""Polar (billing) events: subscription events set the tenant's subscription; others have nothing to do.

The tenant is named in the subscription's ``metadata.tenant_id``, or its customer's
``external_id`` (or ``metadata.tenant_id``): our tenant id, WorkOS organization id, or slug, as
set when the checkout was created. Events are applied by their ``timestamp`` (when Polar says the
event happened), so an older event arriving late never overwrites a newer state.
"""

from __future__ import annotations

from application.jobs.errors import PermanentJobError
from application.shared.bus import MessageBus
from application.tenancy.subscriptions import ApplySubscriptionEvent
from application.webhooks.payloads import field, json_object, parse_timestamp, text, timestamp
from application.webhooks.ports import WebhookOutcome
from application.webhooks.views import WebhookEventView

PROVIDER = "polar"

SUBSCRIPTION_EVENTS = frozenset(
    {
        "subscription.created",
        "subscription.updated",
        "subscription.active",
        "subscription.canceled",
        "subscription.uncanceled",
        "subscription.revoked",
        "subscription.past_due",
    }
)

_TENANT_PATHS = ("data.metadata.tenant_id", "data.customer.external_id", "data.customer.metadata.tenant_id")


class PolarWebhookProcessor:
    def __init__(self, bus: MessageBus) -> None:
        self._bus = bus

    def __call__(self, event: WebhookEventView) -> WebhookOutcome:
        body = json_object(event)
        kind = text(body, "type", required=True) or ""
        if kind not in SUBSCRIPTION_EVENTS:
            return WebhookOutcome.processed(f"nothing to do for {kind[:64]}")
        event_at = timestamp(body, "timestamp")
        if event_at is None:  # the signed delivery time is the next best order
            header = (event.headers.get("webhook-timestamp") or "").strip()
            if not header.isdigit():
                raise PermanentJobError("the field timestamp is missing")
            event_at = parse_timestamp(int(header), name="webhook-timestamp")
        reference = next((value for path in _TENANT_PATHS if (value := text(body, path))), None)
        if reference is None:
            return WebhookOutcome.unmatched(
                "the subscription names no tenant (metadata.tenant_id or customer.external_id)"
            )
        ended_at = timestamp(body, "data.ended_at")
        if kind == "subscription.revoked" and ended_at is None:
            ended_at = event_at  # revoked: access ends now
        result = self._bus.handle(
            ApplySubscriptionEvent(
                actor=None,
                tenant_reference=reference,
                provider=PROVIDER,
                event_at=event_at,
                subscription_id=text(body, "data.id", required=True) or "",
                status=text(body, "data.status", required=True) or "",
                product_id=text(body, "data.product_id") or text(body, "data.product.id"),
                plan=text(body, "data.product.name"),
                current_period_end=timestamp(body, "data.current_period_end"),
                cancel_at_period_end=bool(field(body, "data.cancel_at_period_end")),
                ended_at=ended_at,
            )
        )
        if result.tenant_id is None:
            return WebhookOutcome.unmatched(f"no tenant {reference[:64]!r} (id, organization id or slug)")
        note = "applied" if result.applied else "older than the state already applied: ignored"
        return WebhookOutcome.processed(f"{kind}: {note}", tenant_id=result.tenant_id)

