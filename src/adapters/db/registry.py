"""How a domain offers its repositories to the unit of work, and the registry built from the domains.

Each ``adapters/db/<domain>/module.py`` declares a ``DbModule``: the function that maps its classes,
and its repositories by the unit-of-work attribute they are found under. The unit of work builds one
the first time the attribute is used inside a ``with`` block, from that block's ``Scope``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

from application.shared.ports import Clock
from domain.shared.model import Aggregate

if TYPE_CHECKING:
    from adapters.db.jobs.queue import SqlAlchemyJobOutbox

NOT_BOUND = "this unit of work is not bound to a tenant"


class Refused:
    """What a unit of work hands out for a repository it does not offer: any use of it raises."""

    def __getattr__(self, name: str) -> object:
        raise PermissionError(NOT_BOUND)


class Binding(Enum):
    """Which units of work offer a repository."""

    TENANT = "tenant"
    """Only one bound to a tenant: it reads and writes that tenant's rows."""
    ANY = "any"
    """Every one: the tenant's rows, or every tenant's in system work (no tenant)."""
    SYSTEM = "system"
    """Only one without a tenant (system work across tenants)."""

    def offered(self, tenant_id: str | None) -> bool:
        """Whether a unit of work bound to ``tenant_id`` (``None``: system work) offers it."""
        if self is Binding.TENANT:
            return tenant_id is not None
        return self is Binding.ANY or tenant_id is None


@dataclass(frozen=True, slots=True)
class Scope:
    """What a repository is built from: one ``with`` block of one unit of work."""

    session: Session
    tenant_id: str | None
    clock: Clock
    seen: list[Aggregate]
    """Aggregates handed out or taken in; the unit of work collects their events on commit."""
    job_max_attempts: int
    outbox: Callable[[], SqlAlchemyJobOutbox]
    """The block's job outbox (jobs queued with the rest of the unit of work)."""

    @property
    def tenant(self) -> str:
        if self.tenant_id is None:
            raise PermissionError(NOT_BOUND)
        return self.tenant_id


@dataclass(frozen=True, slots=True)
class Repository:
    build: Callable[[Scope], object]
    binding: Binding = Binding.TENANT


@dataclass(frozen=True, slots=True, kw_only=True)
class SealedColumn:
    """A column holding a SecretBox-sealed value: its table, the row's key column, and the context
    the value was sealed with, from the row (its mapping: column name -> value)."""

    table: Table
    key_column: str
    sealed_column: str
    context: Callable[[Mapping[str, Any]], str]


@dataclass(frozen=True, slots=True)
class DbModule:
    """One domain's persistence, as the unit of work and the schema see it."""

    name: str
    map_classes: Callable[[], None] = lambda: None
    """Maps the domain's classes onto its tables (importing the module defines the tables)."""
    repositories: Mapping[str, Repository] = field(default_factory=dict)
    sealed: tuple[SealedColumn, ...] = ()
    """Its columns holding SecretBox-sealed values (``istmo secrets rotate`` reseals them)."""


def repository_registry(modules: Iterable[DbModule]) -> dict[str, Repository]:
    """Every module's repositories by attribute; two modules offering the same one is an error."""
    found: dict[str, Repository] = {}
    owner: dict[str, str] = {}
    for module in modules:
        for name, repository in module.repositories.items():
            if name in found:
                raise RuntimeError(f"`uow.{name}` is registered by both {owner[name]} and {module.name}")
            found[name], owner[name] = repository, module.name
    return found
