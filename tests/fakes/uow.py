"""In-memory unit of work with the semantics of ``adapters.db.uow``.

``FakeStore`` is the committed state every unit of work shares (what the database holds), one
state per fake domain (``tests/fakes/modules.py``). A ``FakeUnitOfWork`` works on private copies
of them inside its ``with`` block: ``commit()`` checks them (refusing a duplicate key with
``DuplicateEntry``, as the unique constraints do), collects the events of their aggregates and
writes what changed back to the store; leaving the block without committing throws the copies
away. Like it, ``commit()`` first runs the reactions (``react_with``) on the workspace, and one that
raises leaves the store as it was. Its repositories come from the fake domains' registry, built on first use in a ``with``
block; without a tenant the tenant-bound ones are refused, as ``SqlAlchemyUnitOfWork`` does.
Each domain's fakes are checked against its SQLAlchemy adapters by a contract test
(``tests/integration/test_*_store_contract.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any

from adapters.db.registry import NOT_BOUND, Refused
from application.shared.bus import react
from application.shared.ports import Clock, Reactions
from domain.shared.model import DomainEvent
from tests.fakes.modules import EXPOSED, FAKE_DOMAINS, FAKE_REPOSITORIES
from tests.fakes.state import States

_REFUSED = Refused()


class FakeStore(States):
    """What the database holds: each domain's committed state (``store.files``, ``store.jobs``,
    ``store.invoices_of(tenant)``, ``store.emails``, ...), and how many commits it took."""

    def __init__(self) -> None:
        super().__init__({domain.name: domain.state() for domain in FAKE_DOMAINS}, EXPOSED)
        self.commits = 0


class Workspace(States):
    """A unit of work's private copy of the store."""

    def __init__(self, store: FakeStore) -> None:
        copies = {domain.name: store.state(domain.name).checkout() for domain in FAKE_DOMAINS}
        super().__init__(copies, EXPOSED)


class FakeUnitOfWork:
    def __init__(self, store: FakeStore, tenant_id: str | None, clock: Clock) -> None:
        self._store = store
        self._tenant_id = tenant_id
        self._clock = clock
        self._work: Workspace | None = None
        self._events: list[DomainEvent] = []
        self._built: list[str] = []
        self._reactions: Reactions = {}
        self.committed = 0

    def react_with(self, reactions: Reactions) -> None:
        self._reactions = reactions

    @property
    def tenant_id(self) -> str | None:
        return self._tenant_id

    @property
    def tenant(self) -> str:
        if self._tenant_id is None:
            raise PermissionError(NOT_BOUND)
        return self._tenant_id

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def store(self) -> FakeStore:
        return self._store

    def workspace(self) -> Workspace:
        if self._work is None:
            raise RuntimeError("the unit of work is used outside its `with` block")
        return self._work

    def __enter__(self) -> FakeUnitOfWork:
        if self._work is not None:
            raise RuntimeError("the unit of work is already open")
        self._work = Workspace(self._store)
        return self

    def __getattr__(self, name: str) -> Any:
        """A repository of the fake registry, built on first use in this ``with`` block."""
        repository = FAKE_REPOSITORIES.get(name)
        if repository is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        if not repository.binding.offered(self._tenant_id):
            return _REFUSED
        self.workspace()
        built = repository.build(self)
        setattr(self, name, built)
        self._built.append(name)
        return built

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._work = None
        for name in self._built:
            delattr(self, name)
        self._built.clear()

    def commit(self, *, durable: bool = True) -> None:
        work = self.workspace()
        store = self._store
        try:
            events = react(self, self._reactions, lambda: self._pull_events(work))
            for domain in FAKE_DOMAINS:
                store.state(domain.name).check(work.state(domain.name), store, work)
        except BaseException:
            self._work = Workspace(store)  # the session rolls back: start again from the store
            raise
        self._events.extend(events)
        for domain in FAKE_DOMAINS:
            store.state(domain.name).apply(work.state(domain.name))
        store.commits += 1
        self.committed += 1

    @staticmethod
    def _pull_events(work: Workspace) -> list[DomainEvent]:
        return [
            event
            for domain in FAKE_DOMAINS
            for aggregate in work.state(domain.name).aggregates()
            for event in aggregate.pull_events()
        ]

    def rollback(self) -> None:
        self.workspace()
        self._work = Workspace(self._store)

    def collect_events(self) -> list[DomainEvent]:
        events, self._events = self._events, []
        return events


def fake_uow_factory(store: FakeStore, clock: Clock) -> Callable[[str | None], FakeUnitOfWork]:
    def factory(tenant_id: str | None) -> FakeUnitOfWork:
        return FakeUnitOfWork(store, tenant_id, clock)

    return factory
