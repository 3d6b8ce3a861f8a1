"""The delivery sweep's query: outbound messages (emails, WhatsApp) left SENDING for good.

A delivery job commits SENDING before it calls the provider; a later run of the job that finds
SENDING makes the message UNCERTAIN (``Delivery.begin_attempt``), and each job has a spare run
for that. Should the spare run fail too (its worker killed, the database away just then), the
message would stay SENDING with no run left to look at it. The ``deliveries.sweep`` job finds
those, SENDING since before ``now - older_than``, and runs ``AbandonStaleDelivery`` for each in
its tenant, which makes it UNCERTAIN (``Delivery.abandon``, checked again under the row lock).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import structlog

from application.deliveries.ports import StaleDeliveries, StaleDelivery
from application.emails.ports import EmailMessageRepository
from application.shared.messages import Command
from application.shared.ports import Clock, UnitOfWork
from application.whatsapp.ports import WhatsappRepository
from domain.shared.delivery import Delivery

SWEEP_JOB = "deliveries.sweep"
SWEEP_BATCH = 500
log = structlog.get_logger(__name__)


class SweepUnitOfWork(UnitOfWork, Protocol):
    stale_deliveries: StaleDeliveries
    """Across tenants: only in a unit of work without one."""
    email_messages: EmailMessageRepository
    whatsapp: WhatsappRepository


# Each channel's message, locked for update, from the tenant's unit of work (a ``Delivery``).
_LOCKED: dict[str, Callable[[SweepUnitOfWork, str], Delivery | None]] = {
    "email": lambda uow, message_id: uow.email_messages.get_for_update(message_id),
    "whatsapp": lambda uow, message_id: uow.whatsapp.message_for_update(message_id),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class FindStaleDeliveries(Command):
    """System work (``actor=None``, no tenant). ``older_than`` is far longer than any attempt:
    a job's lease is minutes; an attempt that does answer later is still recorded as sent."""

    older_than: timedelta = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class StaleDeliveriesFound:
    claimed_before: datetime
    deliveries: tuple[StaleDelivery, ...]


class FindStaleDeliveriesHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: FindStaleDeliveries, uow: SweepUnitOfWork) -> StaleDeliveriesFound:
        cutoff = self._clock.now() - cmd.older_than
        with uow:
            found = uow.stale_deliveries.sending_since_before(cutoff, limit=SWEEP_BATCH)
        return StaleDeliveriesFound(claimed_before=cutoff, deliveries=tuple(found))


@dataclass(frozen=True, slots=True, kw_only=True)
class AbandonStaleDelivery(Command):
    """System work in the message's tenant: UNCERTAIN if still SENDING since before ``claimed_before``."""

    channel: str
    message_id: str
    claimed_before: datetime


class AbandonStaleDeliveryHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: AbandonStaleDelivery, uow: SweepUnitOfWork) -> bool:
        with uow:
            message = _LOCKED[cmd.channel](uow, cmd.message_id)
            if message is None or not message.abandon(now=self._clock.now(), claimed_before=cmd.claimed_before):
                return False
            uow.commit()
        log.warning("delivery.uncertain", channel=cmd.channel, message_id=cmd.message_id, reason="abandoned")
        return True
