"""Fair shares of the render pool between tenants.

The pool has a few worker processes and a render may legitimately run for its whole time limit
(``ISTMO_PDF_TIMEOUT``), so first come, first served would let one tenant previewing a slow
template hold every worker and make everyone else wait. Here:

* a tenant runs at most ``share`` renders at once (by default half the workers, at least one), so
  with two or more workers another tenant always finds one that this tenant cannot take;
* a tenant has at most ``waiting`` more renders queued; past that a render is refused at once with
  ``RendererBusy`` (retry in a few seconds), so its requests do not pile up holding the server's
  threads;
* when a worker frees up, it goes to the waiting tenant that is running the fewest renders, then
  to the one served longest ago (so tenants take turns), not to whoever queued first;
* a render waits at most ``patience`` seconds for a worker, then is refused the same way.

A render without a tenant (tools, benchmarks) has no share of its own: it only takes its turn.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from domain.pdf.errors import RendererBusy


@dataclass(frozen=True, slots=True)
class _Ticket:
    tenant: str | None
    number: int


class FairShare:
    def __init__(self, *, slots: int, share: int, waiting: int, patience: float) -> None:
        if min(slots, share) < 1 or waiting < 0:
            raise ValueError("a fair share needs at least one slot and a share of one")
        self.slots, self.share, self.waiting, self.patience = slots, share, waiting, patience
        self._changed = threading.Condition()
        self._running: Counter[str | None] = Counter()
        self._queue: list[_Ticket] = []
        self._numbers = itertools.count()
        self._last_start: dict[str | None, int] = {}  # the ticket number each tenant last started with

    @contextmanager
    def turn(self, tenant: str | None) -> Iterator[None]:
        """Hold one of the pool's slots for ``tenant`` while the block runs."""
        self._enter(tenant)
        try:
            yield
        finally:
            with self._changed:
                self._running[tenant] -= 1
                self._changed.notify_all()

    def running(self, tenant: str | None) -> int:
        with self._changed:
            return self._running[tenant]

    def queued(self, tenant: str | None) -> int:
        with self._changed:
            return self.waiting_for(tenant)

    def waiting_for(self, tenant: str | None) -> int:
        return sum(1 for ticket in self._queue if ticket.tenant == tenant)

    def _enter(self, tenant: str | None) -> None:
        with self._changed:
            if tenant is not None and self.waiting_for(tenant) >= self.waiting and not self._free_now(tenant):
                raise RendererBusy(
                    f"this tenant already has {self._running[tenant]} PDF renders running and "
                    f"{self.waiting_for(tenant)} waiting; try again in a few seconds",
                )
            ticket = _Ticket(tenant, next(self._numbers))
            self._queue.append(ticket)
            deadline = time.monotonic() + self.patience
            try:
                while self._next() is not ticket:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise RendererBusy(
                            f"no PDF worker became free within {self.patience:g} s; try again in a few seconds"
                        )
                    self._changed.wait(left)
            finally:
                self._queue.remove(ticket)
                self._changed.notify_all()  # the next in line may be someone else now
            self._running[tenant] += 1
            self._last_start[tenant] = ticket.number


    def _free_now(self, tenant: str) -> bool:
        """A render of ``tenant`` would start at once (a slot free, within its share, no one ahead)."""
        return (
            sum(self._running.values()) < self.slots and self._may_run(tenant)
            and not any(self._may_run(ticket.tenant) for ticket in self._queue)
        )

    def _may_run(self, tenant: str | None) -> bool:
        return tenant is None or self._running[tenant] < self.share

    def _next(self) -> _Ticket | None:
        """The ticket that takes the next free slot: None while none is free (or none may run)."""
        if sum(self._running.values()) >= self.slots:
            return None
        eligible = [ticket for ticket in self._queue if self._may_run(ticket.tenant)]
        if not eligible:
            return None
        return min(eligible, key=self._priority)

    def _priority(self, ticket: _Ticket) -> tuple[int, int, int]:
        """Fewest renders running first, then the tenant served longest ago, then the oldest ticket."""
        if ticket.tenant is None:
            return (0, -1, ticket.number)
        return (self._running[ticket.tenant], self._last_start.get(ticket.tenant, -1), ticket.number)
