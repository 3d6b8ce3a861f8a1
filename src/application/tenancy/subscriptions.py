"""The tenant's subscription, as the billing provider's (Polar's) webhooks report it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.tenancy.ports import TenancyUnitOfWork
from application.shared.messages import Command
from application.shared.ports import Clock
from domain.shared.model import parse_id
from domain.tenancy.model import Tenant
from domain.tenancy.subscription import TenantSubscription


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplySubscriptionEvent(Command):
    """The state a subscription event carries, applied unless an event newer than it was applied."""

    tenant_reference: str  # the tenant's id, WorkOS organization id, or slug
    provider: str
    event_at: datetime
    subscription_id: str
    status: str
    product_id: str | None = None
    plan: str | None = None
    current_period_end: datetime | None = None
    cancel_at_period_end: bool = False
    ended_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SubscriptionEventApplied:
    tenant_id: str | None  # None: no tenant by that reference
    applied: bool  # False: an event newer than this one was applied already


def find_tenant(uow: TenancyUnitOfWork, reference: str) -> Tenant | None:
    """The tenant named by id, external id (WorkOS organization) or slug."""
    reference = (reference or "").strip()
    if not reference:
        return None
    try:
        tenant = uow.tenants.get(parse_id(reference))
    except Exception:
        tenant = None
    return tenant or uow.tenants.by_reference(reference)


class ApplySubscriptionEventHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: ApplySubscriptionEvent, uow: TenancyUnitOfWork) -> SubscriptionEventApplied:
        now = self._clock.now()
        state = {
            "subscription_id": cmd.subscription_id,
            "product_id": cmd.product_id,
            "plan": cmd.plan,
            "status": cmd.status,
            "current_period_end": cmd.current_period_end,
            "cancel_at_period_end": cmd.cancel_at_period_end,
            "ended_at": cmd.ended_at,
        }
        with uow:
            tenant = find_tenant(uow, cmd.tenant_reference)
            if tenant is None:
                return SubscriptionEventApplied(tenant_id=None, applied=False)
            uow.tenants.lock_subscription(tenant.id)
            subscription = uow.tenants.subscription(tenant.id)
            if subscription is None:
                subscription = TenantSubscription.start(
                    tenant_id=tenant.id, provider=cmd.provider, event_at=cmd.event_at, now=now, **state
                )
                uow.tenants.add_subscription(subscription)
                applied = True
            else:
                applied = subscription.apply(event_at=cmd.event_at, now=now, **state)
            uow.commit()
            return SubscriptionEventApplied(tenant_id=tenant.id, applied=applied)
