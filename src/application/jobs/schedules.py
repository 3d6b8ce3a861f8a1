"""Periodic jobs: (kind, interval) pairs declared in code, run by the same queue and workers.

Time is cut into slots of ``interval`` since the Unix epoch; each slot's job carries the
idempotency key ``schedule:{kind}:{slot start}``, so any number of workers enqueueing the same
slot yield one job, and a slot missed while no worker ran is not made up for (the next one runs).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from application.jobs.ports import JobQueue

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class Schedule:
    kind: str
    interval: timedelta
    payload: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.interval < timedelta(seconds=1):
            raise ValueError(f"schedule {self.kind}: the interval must be at least one second")

    def slot(self, now: datetime) -> datetime:
        """The start of the slot ``now`` falls in."""
        step = int(self.interval.total_seconds())
        elapsed = int((now - _EPOCH).total_seconds())
        return _EPOCH + timedelta(seconds=elapsed - elapsed % step)

    def slot_key(self, now: datetime) -> str:
        return f"schedule:{self.kind}:{self.slot(now).strftime('%Y-%m-%dT%H:%M:%SZ')}"


def enqueue_due(queue: JobQueue, schedules: Sequence[Schedule], now: datetime) -> list[str]:
    """Enqueue the current slot of every schedule (a no-op for slots already queued)."""
    return [
        queue.enqueue(
            schedule.kind,
            dict(schedule.payload),
            idempotency_key=schedule.slot_key(now),
            run_at=schedule.slot(now),
        )
        for schedule in schedules
    ]
