"""Base classes of the messages the bus carries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from domain.tenancy.model import Actor


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    """A request to change state, on behalf of ``actor`` (``None`` for system work: CLI, jobs)."""

    actor: Actor | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Query:
    """A request to read state; handled with readers, never with aggregates."""

    actor: Actor


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a cursor-paginated list."""

    items: tuple[T, ...]
    end_cursor: str | None
    has_next_page: bool
