"""Ports every domain shares: the clock, the unit of work's transaction, and its failure modes."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

from domain.shared.model import DomainEvent


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class DuplicateEntry(Exception):
    """A unique constraint refused the commit: another transaction wrote the same key first."""


Reaction = Callable[[Any, Any], None]
"""``reaction(event, uow)``: runs inside the unit of work that recorded ``event``, before it commits;
what it writes (typically a job through ``uow.jobs``) commits with the change or not at all."""

Reactions = Mapping[type, Sequence[Reaction]]


class UnitOfWork(Protocol):
    """One transaction over the repositories of one tenant.

    Used as a context manager: leaving the block without ``commit()`` rolls back.
    ``commit()`` first hands the events recorded by aggregates it saw to the reactions given by
    ``react_with`` (with itself, still open; events its reactions record are handed on too), then
    commits; a reaction that raises fails the commit and nothing is written. Those events are
    then handed out by ``collect_events()`` for the bus's after-commit event handlers.
    Its repositories are declared by each domain (``application.<domain>.ports``, e.g.
    ``FilesUnitOfWork``): a handler types its unit of work as the ones it uses.
    """

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self, *, durable: bool = True) -> None:
        """``durable=False``: the commit does not wait for the disk (PostgreSQL's asynchronous
        commit; visible to others at once, lost if the server crashes in the next moment). Only for
        work a job redoes when it is lost: the job's own durable completion, which follows, flushes
        it to the disk first."""
        ...

    def rollback(self) -> None: ...

    def react_with(self, reactions: Reactions) -> None:
        """The reactions ``commit()`` runs (the bus gives them to each unit of work it opens)."""
        ...

    def collect_events(self) -> list[DomainEvent]: ...


U = TypeVar("U", bound=UnitOfWork)

UnitOfWorkFactory = Callable[[str | None], U]
"""Builds a unit of work bound to one tenant (``None``: system work across tenants); typed by
the repositories its user needs, e.g. ``UnitOfWorkFactory[FilesUnitOfWork]``."""
