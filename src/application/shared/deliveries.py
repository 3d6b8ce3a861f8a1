"""The delivery sweep's query: outbound messages (emails, WhatsApp) left SENDING for good.

A delivery job commits SENDING before it calls the provider; a later run of the job that finds
SENDING makes the message UNCERTAIN (``Delivery.begin_attempt``), and each job has a spare run
for that. Should the spare run fail too (its worker killed, the database away just then), the
message would stay SENDING with no run left to look at it. The ``deliveries.sweep`` job finds
those, SENDING since before ``now - older_than``, and hands each to its channel's
``AbandonStale...`` command, which makes it UNCERTAIN.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from application.shared.messages import Command
from application.shared.ports import Clock, StaleDelivery, UnitOfWork

SWEEP_JOB = "deliveries.sweep"
SWEEP_BATCH = 500


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

    def __call__(self, cmd: FindStaleDeliveries, uow: UnitOfWork) -> StaleDeliveriesFound:
        cutoff = self._clock.now() - cmd.older_than
        with uow:
            found = uow.stale_deliveries.sending_since_before(cutoff, limit=SWEEP_BATCH)
        return StaleDeliveriesFound(claimed_before=cutoff, deliveries=tuple(found))
