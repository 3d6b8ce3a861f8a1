"""A tenant's SaaS subscription (billed by Polar): plan, status, current period end, cancellation.

Polar's webhooks arrive late, twice, or out of order; each carries the time the event happened.
A subscription keeps the time of the event it last applied, and an event older than that changes
nothing, so the newest state always wins whatever the arrival order.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from domain.shared.errors import InvalidInput
from domain.shared.model import Aggregate


class SubscriptionStatus(StrEnum):
    INCOMPLETE = "incomplete"
    INCOMPLETE_EXPIRED = "incomplete_expired"
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELED = "canceled"
    UNPAID = "unpaid"

    @classmethod
    def parse(cls, value: object) -> SubscriptionStatus:
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            allowed = ", ".join(s.value for s in cls)
            raise InvalidInput(f"data.status must be one of {allowed}, not {str(value)[:32]!r}", field="data.status") from None


def _text(value: object, *, field: str, max_length: int = 200, required: bool = False) -> str | None:
    if value is None or value == "":
        if required:
            raise InvalidInput(f"{field} is missing", field=field)
        return None
    if not isinstance(value, str | int):
        raise InvalidInput(f"{field} must be a string", field=field)
    text = str(value).strip()
    if len(text) > max_length:
        raise InvalidInput(f"{field} has more than {max_length} characters", field=field)
    return text


class TenantSubscription(Aggregate):
    def __init__(
        self,
        *,
        tenant_id: str,
        provider: str,
        subscription_id: str,
        product_id: str | None,
        plan: str | None,
        status: SubscriptionStatus,
        current_period_end: datetime | None,
        cancel_at_period_end: bool,
        ended_at: datetime | None,
        event_at: datetime,
        updated_at: datetime,
    ) -> None:
        self.tenant_id = tenant_id
        self.provider = provider
        self.subscription_id = subscription_id
        self.product_id = product_id
        self.plan = plan
        self.status = status
        self.current_period_end = current_period_end
        self.cancel_at_period_end = cancel_at_period_end
        self.ended_at = ended_at
        self.event_at = event_at
        self.updated_at = updated_at

    @classmethod
    def start(cls, *, tenant_id: str, provider: str, event_at: datetime, now: datetime, **state: object) -> TenantSubscription:
        subscription = cls(
            tenant_id=tenant_id, provider=provider, subscription_id="", product_id=None, plan=None,
            status=SubscriptionStatus.INCOMPLETE, current_period_end=None, cancel_at_period_end=False,
            ended_at=None, event_at=event_at, updated_at=now,
        )
        subscription._set(**state)  # type: ignore[arg-type]
        return subscription

    def apply(self, *, event_at: datetime, now: datetime, **state: object) -> bool:
        """Take the state an event carries unless the event is older than the last one applied."""
        if event_at.tzinfo is None:
            raise InvalidInput("the event timestamp must carry a timezone", field="timestamp")
        if event_at < self.event_at:
            return False
        self._set(**state)  # type: ignore[arg-type]
        self.event_at = event_at
        self.updated_at = now
        return True

    def _set(
        self,
        *,
        subscription_id: object,
        product_id: object,
        plan: object,
        status: object,
        current_period_end: datetime | None,
        cancel_at_period_end: bool,
        ended_at: datetime | None,
    ) -> None:
        self.subscription_id = _text(subscription_id, field="data.id", required=True) or ""
        self.product_id = _text(product_id, field="data.product_id")
        self.plan = _text(plan, field="data.product.name")
        self.status = SubscriptionStatus.parse(status)
        self.current_period_end = current_period_end
        self.cancel_at_period_end = bool(cancel_at_period_end)
        self.ended_at = ended_at
