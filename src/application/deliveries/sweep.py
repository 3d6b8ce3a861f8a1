"""The delivery sweep's query: outbound messages (emails, WhatsApp) left SENDING for good.

A delivery job commits SENDING before it calls the provider; a later run of the job that finds
SENDING makes the message UNCERTAIN (``Delivery.begin_attempt``), and each job has a spare run
for that. Should the spare run fail too (its worker killed, the database away just then), the
message would stay SENDING with no run left to look at it. The ``deliveries.sweep`` job finds
those, SENDING since before ``now - older_than``, and runs ``AbandonStaleDelivery`` for each in
its tenant, which makes it UNCERTAIN (``Delivery.abandon``, checked again under the row lock).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog

from application.deliveries.ports import StaleDelivery
from application.shared.messages import Command
from application.shared.ports import Clock, UnitOfWork
from domain.shared.delivery import Delivery

SWEEP_JOB = "deliveries.sweep"
SWEEP_BATCH = 500
log = structlog.get_logger(__name__)


class SweptChannel(Protocol):
    """What the sweep needs of a channel (its ``ChannelRules``)."""

    def stale(self, uow: Any, cutoff: datetime, limit: int) -> list[StaleDelivery]:
        """In a unit of work without a tenant: at most ``limit`` messages SENDING since before ``cutoff``."""
        ...

    def locked(self, uow: Any, message_id: str) -> Delivery | None:
        """In the message's tenant: the message, locked for update."""
        ...


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
    """``channels``: the channels the modules provide (``"delivery_channels"``), by name."""

    def __init__(self, clock: Clock, channels: Mapping[str, SweptChannel]) -> None:
        self._clock = clock
        self._channels = channels

    def __call__(self, cmd: FindStaleDeliveries, uow: UnitOfWork) -> StaleDeliveriesFound:
        cutoff = self._clock.now() - cmd.older_than
        found: list[StaleDelivery] = []
        with uow:
            for name in sorted(self._channels):
                if len(found) >= SWEEP_BATCH:
                    break
                found += self._channels[name].stale(uow, cutoff, SWEEP_BATCH - len(found))
        return StaleDeliveriesFound(claimed_before=cutoff, deliveries=tuple(found))


@dataclass(frozen=True, slots=True, kw_only=True)
class AbandonStaleDelivery(Command):
    """System work in the message's tenant: UNCERTAIN if still SENDING since before ``claimed_before``."""

    channel: str
    message_id: str
    claimed_before: datetime


class AbandonStaleDeliveryHandler:
    """``channels``: the channels the modules provide (``"delivery_channels"``), by name."""

    def __init__(self, clock: Clock, channels: Mapping[str, SweptChannel]) -> None:
        self._clock = clock
        self._channels = channels

    def __call__(self, cmd: AbandonStaleDelivery, uow: UnitOfWork) -> bool:
        channel = self._channels.get(cmd.channel)
        if channel is None:
            raise LookupError(f"no delivery channel {cmd.channel!r} is registered")
        with uow:
            message = channel.locked(uow, cmd.message_id)
            if message is None or not message.abandon(now=self._clock.now(), claimed_before=cmd.claimed_before):
                return False
            uow.commit()
        log.warning("delivery.uncertain", channel=cmd.channel, message_id=cmd.message_id, reason="abandoned")
        return True
