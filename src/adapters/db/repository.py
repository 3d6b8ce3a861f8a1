"""What every tenant-bound repository shares: tenant checks, remembering aggregates, lock rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Column, ColumnElement, Select, Table, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from domain.shared.model import Aggregate

A = TypeVar("A", bound=Aggregate)


def hold_lock(session: Session, table: Table, *, now: datetime, **key: Any) -> None:
    """Upsert ``key``'s row of a lock table: on PostgreSQL its row lock, on SQLite the write lock,
    is held until the transaction ends, so everything taking the same key runs one at a time."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(table).values(**key, locked_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=list(key), set_={"locked_at": statement.excluded.locked_at}
    )
    session.execute(statement)


def no_wait_for_disk(session: Session) -> None:
    """PostgreSQL: the commit of this transaction alone does not wait for its WAL to reach the
    disk (asynchronous commit: visible to others at once, lost if the server crashes in the next
    moment). For what may be lost that way: a rate-gate count, work a job redoes."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))


class TenantRepository(Generic[A]):
    """Aggregates of one tenant in one session. Everything it hands out or is given is put in
    ``seen``, where the unit of work collects the events to publish after commit."""

    kind = "aggregate"

    def __init__(self, session: Session, tenant_id: str, seen: list[Aggregate]) -> None:
        self._session = session
        self._tenant_id = tenant_id
        self._seen = seen

    def _locked(self, statement: Select[Any], touch: Column[Any], *where: ColumnElement[bool]) -> Select[Any]:
        """``statement``, reading rows of ``touch``'s table, made to lock them until the transaction
        ends: ``FOR UPDATE`` where the database has row locks. SQLite has none: a no-op write of the
        rows ``where`` picks (``touch`` set to itself) takes its write lock first, so a concurrent
        change waits and then reads this one's result."""
        table = touch.table
        if self._session.get_bind().dialect.name != "sqlite":
            return statement.with_for_update(of=table)
        self._session.execute(update(table).where(*where).values({touch.name: touch}))
        return statement

    def _own(self, aggregate: A, verb: str) -> A:
        if aggregate.tenant_id != self._tenant_id:  # type: ignore[attr-defined]
            raise PermissionError(f"a {self.kind} of another tenant cannot be {verb} here")
        self._seen.append(aggregate)
        return aggregate

    def add(self, aggregate: A) -> None:
        self._session.add(self._own(aggregate, "added"))

    def delete(self, aggregate: A) -> None:
        self._session.delete(self._own(aggregate, "deleted"))

    def _one(self, statement: Select[Any]) -> A | None:
        # populate_existing: a read after taking a lock sees what others committed meanwhile.
        found = self._session.scalars(statement.execution_options(populate_existing=True)).one_or_none()
        if found is not None:
            self._seen.append(found)
        return found

    def _all(self, statement: Select[Any]) -> list[A]:
        found = list(self._session.scalars(statement))
        self._seen.extend(found)
        return found
