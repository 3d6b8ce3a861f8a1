"""What the in-memory fakes of every domain share: the protocol a domain's fake state follows,
how a domain offers its fake repositories, and the store and workspace that hold the states.

A domain's state is what the database holds of it. ``FakeStore`` keeps the committed one of
each domain; a ``FakeUnitOfWork`` works on ``checkout()`` copies in its ``Workspace``, and on
``commit()`` every domain first ``check``s its copy against the store (refusing what the unique
and foreign keys would), then the events of the copy's ``aggregates()`` are collected and each
domain ``apply``s its copy to the store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol, Self

from adapters.db.registry import Binding
from application.shared.ports import DuplicateEntry
from domain.shared.model import Aggregate

if TYPE_CHECKING:
    from tests.fakes.uow import FakeUnitOfWork


class FakeDomainState(Protocol):
    def checkout(self) -> Self:
        """A unit of work's private copy, remembering what it started from."""
        ...

    def check(self, work: Self, store: States, workspace: States) -> None:
        """Refuse (``DuplicateEntry``, ``LookupError``) what committing ``work`` over this
        committed state would break; other domains' keys are read from ``store`` and ``workspace``."""
        ...

    def apply(self, work: Self) -> None:
        """Write what ``work`` changed into this committed state; ``work`` then starts from it."""
        ...

    def aggregates(self) -> Iterable[Aggregate]:
        """The aggregates of a copy (their events are published on commit)."""
        ...


@dataclass(frozen=True, slots=True)
class FakeRepository:
    build: Callable[[FakeUnitOfWork], object]
    binding: Binding = Binding.TENANT


@dataclass(frozen=True, slots=True)
class FakeDomain:
    name: str
    state: Callable[[], FakeDomainState]
    repositories: Mapping[str, FakeRepository] = field(default_factory=dict)
    exposed: bool = True
    """The state's public attributes read as the store's own (``store.files``); if not, the
    state reads as ``store.<name>``."""


_PROTOCOL = frozenset({"checkout", "check", "apply", "aggregates"})


def exposed_attributes(domains: Iterable[FakeDomain]) -> dict[str, str]:
    """Attribute -> the domain whose state has it, for the domains that expose theirs; an
    attribute two states have, or one that is also a domain's name, is an error."""
    found: dict[str, str] = {}
    names = {domain.name for domain in domains}
    for domain in domains:
        if not domain.exposed:
            continue
        for name in dir(domain.state()):
            if name.startswith("_") or name in _PROTOCOL:
                continue
            if name in found or (name in names and name != domain.name):
                raise RuntimeError(f"fake store attribute {name!r} is ambiguous ({domain.name})")
            found[name] = domain.name
    return found


class States:
    """The states of every domain by name, with ``exposed`` (attribute -> domain) read as this
    object's own attributes (``store.files``, ``store.jobs``, ``store.invoices_of(...)``) and the
    other states by their domain's name (``store.emails``, ``store.whatsapp``)."""

    def __init__(self, states: dict[str, FakeDomainState], exposed: Mapping[str, str]) -> None:
        self._states = states
        self._exposed = exposed

    def state(self, domain: str) -> FakeDomainState:
        return self._states[domain]

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("_"):
            domain = self._exposed.get(name)
            if domain is not None:
                return getattr(self._states[domain], name)
            if name in self._states:
                return self._states[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


def unique(constraint: str, keys: Iterable[object]) -> None:
    seen: set[object] = set()
    for key in keys:
        if key in seen:
            raise DuplicateEntry(f"UNIQUE constraint failed: {constraint} {key!r}")
        seen.add(key)


def values(obj: object, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in names}


def contains(name: str, text: str) -> bool:
    """``lower(name) LIKE '%' || escaped(lower(text)) || '%'``: ``%`` and ``_`` are literal."""
    return text.lower() in name.lower()


def snapshot(value: Any) -> Any:
    """What the database would hold for an object and its children: used to see what changed."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return tuple(snapshot(item) for item in value)
    if hasattr(value, "__dict__"):
        return tuple(sorted((k, snapshot(v)) for k, v in vars(value).items() if not k.startswith("_")))
    return value
