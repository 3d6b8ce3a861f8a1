"""``SqlRateGate``: QuickBooks' per-realm limits (500 requests a minute, 10 at a time) kept in the
database, so every worker process shares one budget per company.

A request first counts itself in its realm's current minute (an upsert; past the limit it is
refused until the next minute), then takes one of the realm's ``concurrency`` slots (a row with a
short lease, so a worker that died frees its slot on its own). A full house waits a little in
process, then answers ``QboUnavailable`` with a ``retry_after`` (the job runs again later).

A batch of pushes takes its slot for a block of requests sent one after another (``requests``):
one count and one slot for the block, two transactions per block instead of two per request; what
the block did not send is given back on release while its minute lasts.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from adapters.db.integrations.quickbooks.tables import qbo_rate_minutes, qbo_rate_slots
from adapters.db.repository import no_wait_for_disk
from application.integrations.quickbooks.ports import QboUnavailable
from application.shared.ports import Clock


class SqlRateGate:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        clock: Clock,
        *,
        per_minute: int = 500,
        concurrency: int = 10,
        lease: timedelta = timedelta(minutes=2),
        wait: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._sessions, self._clock = session_factory, clock
        self.per_minute, self.concurrency, self._lease, self._wait, self._sleep = per_minute, concurrency, lease, wait, sleep
        self._seeded: set[str] = set()

    def _insert(self, session: Session) -> object:
        return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert

    def acquire(self, realm_id: str, *, requests: int = 1) -> str:
        if not 1 <= requests <= self.per_minute:
            raise ValueError(f"a slot counts 1 to {self.per_minute} requests, not {requests}")
        self._seed(realm_id)
        deadline = time.monotonic() + self._wait
        delay = 0.01
        while True:
            slot = self._try(realm_id, requests)
            if slot is not None:
                return slot
            if time.monotonic() >= deadline:
                raise QboUnavailable(
                    f"{self.concurrency} requests to this QuickBooks company are in flight", retry_after=timedelta(seconds=2)
                )
            self._sleep(delay)
            delay = min(delay * 2, 0.2)

    def _try(self, realm_id: str, requests: int) -> str | None:
        now = self._clock.now()
        minute = now.replace(second=0, microsecond=0)
        holder = secrets.token_hex(8)
        with self._sessions() as session:  # closed uncommitted: rolled back
            no_wait_for_disk(session)  # a count or slot lost in a crash only loosens the budget a moment
            insert = self._insert(session)
            counted = insert(qbo_rate_minutes).values(realm_id=realm_id, minute=minute, requests=requests)  # type: ignore[operator]
            counted = counted.on_conflict_do_update(
                index_elements=["realm_id", "minute"], set_={"requests": qbo_rate_minutes.c.requests + requests}
            ).returning(qbo_rate_minutes.c.requests)
            if int(session.execute(counted).scalar_one()) > self.per_minute:
                session.rollback()
                raise QboUnavailable(
                    f"the budget of {self.per_minute} requests a minute to this QuickBooks company is spent",
                    retry_after=timedelta(seconds=60 - now.second),
                )
            free = or_(qbo_rate_slots.c.held_until.is_(None), qbo_rate_slots.c.held_until < now)
            pick = select(qbo_rate_slots.c.slot).where(qbo_rate_slots.c.realm_id == realm_id, free).order_by(
                qbo_rate_slots.c.slot
            ).limit(1)
            if session.get_bind().dialect.name == "postgresql":
                pick = pick.with_for_update(skip_locked=True)
            slot = session.execute(pick).scalar_one_or_none()
            if slot is None:
                session.rollback()  # the request is not counted: it did not go
                return None
            session.execute(
                update(qbo_rate_slots)
                .where(qbo_rate_slots.c.realm_id == realm_id, qbo_rate_slots.c.slot == slot)
                .values(holder=holder, held_until=now + self._lease)
            )
            if now.second == 0 and now.microsecond < 200_000:  # now and then: forget old minutes
                session.execute(
                    delete(qbo_rate_minutes).where(
                        qbo_rate_minutes.c.realm_id == realm_id, qbo_rate_minutes.c.minute < minute - timedelta(minutes=5)
                    )
                )
            session.commit()
        return f"{slot}:{holder}:{int(minute.timestamp())}"

    def _seed(self, realm_id: str) -> None:
        """The realm's slot rows, once per process (inserting rows that exist changes nothing)."""
        if realm_id in self._seeded:
            return
        with self._sessions() as session, session.begin():
            insert = self._insert(session)
            session.execute(
                insert(qbo_rate_slots).values(  # type: ignore[operator]
                    [{"realm_id": realm_id, "slot": n, "holder": None, "held_until": None} for n in range(self.concurrency)]
                ).on_conflict_do_nothing(index_elements=["realm_id", "slot"])
            )
        self._seeded.add(realm_id)

    def release(self, realm_id: str, slot: str, *, unused: int = 0) -> None:
        number, holder, counted_in = (slot.split(":") + ["", ""])[:3]
        with self._sessions() as session, session.begin():
            no_wait_for_disk(session)  # a count or slot lost in a crash only loosens the budget a moment
            minute = self._clock.now().replace(second=0, microsecond=0)
            if unused > 0 and counted_in == str(int(minute.timestamp())):  # still the minute they were counted in
                session.execute(
                    update(qbo_rate_minutes)
                    .where(qbo_rate_minutes.c.realm_id == realm_id, qbo_rate_minutes.c.minute == minute)
                    .values(requests=qbo_rate_minutes.c.requests - unused)
                )
            session.execute(
                update(qbo_rate_slots)
                .where(
                    qbo_rate_slots.c.realm_id == realm_id,
                    qbo_rate_slots.c.slot == int(number),
                    qbo_rate_slots.c.holder == holder,
                )
                .values(holder=None, held_until=None)
            )
