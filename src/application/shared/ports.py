"""Ports every domain shares: the clock, the unit of work's transaction, and its failure modes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self, TypeVar

from domain.shared.model import DomainEvent


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class DuplicateEntry(Exception):
    """A unique constraint refused the commit: another transaction wrote the same key first."""


class UnitOfWork(Protocol):
    """One transaction over the repositories of one tenant.

    Used as a context manager: leaving the block without ``commit()`` rolls back.
    Events recorded by aggregates it saw are handed out by ``collect_events()`` after commit.
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

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def collect_events(self) -> list[DomainEvent]: ...


U = TypeVar("U", bound=UnitOfWork)

UnitOfWorkFactory = Callable[[str | None], U]
"""Builds a unit of work bound to one tenant (``None``: system work across tenants); typed by
the repositories its user needs, e.g. ``UnitOfWorkFactory[FilesUnitOfWork]``."""
