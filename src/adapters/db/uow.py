"""The SQLAlchemy unit of work: one session per ``with`` block, bound to one tenant."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from adapters.db.jobs.queue import SqlAlchemyJobOutbox
from adapters.db.modules import REPOSITORIES
from adapters.db.registry import Refused, Scope
from adapters.db.repository import no_wait_for_disk
from application.shared.bus import react
from application.shared.ports import Clock, DuplicateEntry, Reactions
from domain.shared.model import Aggregate, DomainEvent

_REFUSED = Refused()


class SqlAlchemyUnitOfWork:
    """Its repositories (``uow.files``, ``uow.jobs``, ...) come from the domains' registry
    (``adapters.db.modules``): each is built the first time it is used in a ``with`` block, for
    this block's session and tenant, and forgotten when the block ends. Without a tenant (system
    work) the tenant-bound ones are refused (any use raises ``PermissionError``); the system-only
    ones are refused with a tenant. ``commit()`` runs the reactions (``react_with``) in this
    session before committing it; one that raises rolls the whole transaction back.
    """

    def __init__(
        self,
        tenant_id: str | None,
        *,
        session_factory: sessionmaker[Session],
        clock: Clock,
        job_max_attempts: int = 8,
    ) -> None:
        self._session_factory = session_factory
        self._job_max_attempts = job_max_attempts
        self._tenant_id = tenant_id
        self._clock = clock
        self._session: Session | None = None
        self._events: list[DomainEvent] = []
        self._seen: list[Aggregate] = []
        self._scope: Scope | None = None
        self._built: list[str] = []
        self._reactions: Reactions = {}

    def react_with(self, reactions: Reactions) -> None:
        self._reactions = reactions

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("the unit of work is used outside its `with` block")
        return self._session

    def __enter__(self) -> SqlAlchemyUnitOfWork:
        if self._session is not None:
            raise RuntimeError("the unit of work is already open")
        self._session = self._session_factory()
        self._seen = []
        self._scope = Scope(
            session=self._session,
            tenant_id=self._tenant_id,
            clock=self._clock,
            seen=self._seen,
            job_max_attempts=self._job_max_attempts,
            outbox=self._outbox,
        )
        return self

    def __getattr__(self, name: str) -> Any:
        """A repository of the registry, built on first use in this ``with`` block and kept in it."""
        repository = REPOSITORIES.get(name)
        if repository is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        if not repository.binding.offered(self._tenant_id):
            return _REFUSED
        if self._scope is None:
            raise RuntimeError("the unit of work is used outside its `with` block")
        built = repository.build(self._scope)
        setattr(self, name, built)
        self._built.append(name)
        return built

    def _outbox(self) -> SqlAlchemyJobOutbox:
        return self.jobs  # type: ignore[no-any-return]

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session, self._session = self._session, None
        self._scope = None
        for name in self._built:
            delattr(self, name)
        self._built.clear()
        self._forget()
        if session is not None:
            try:
                session.rollback()
            finally:
                session.close()

    def commit(self, *, durable: bool = True) -> None:
        session = self.session
        try:
            events = react(self, self._reactions, self._pull_events)
            if not durable:
                no_wait_for_disk(session)
            session.commit()
        except IntegrityError as error:
            self.rollback()
            raise DuplicateEntry(str(error.orig)) from error
        except BaseException:
            self.rollback()
            raise
        self._events.extend(events)
        self._seen.clear()

    def _pull_events(self) -> list[DomainEvent]:
        return [event for aggregate in {id(a): a for a in self._seen}.values() for event in aggregate.pull_events()]

    def rollback(self) -> None:
        self.session.rollback()
        self._forget()

    def _forget(self) -> None:
        """Events of work that was not committed are dropped with it."""
        for aggregate in self._seen:
            aggregate.pull_events()
        self._seen.clear()

    def collect_events(self) -> list[DomainEvent]:
        events, self._events = self._events, []
        return events
