"""Base classes of the messages the bus carries."""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from domain.shared.errors import InvalidInput
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

    @classmethod
    def of(cls, rows: Sequence[T], first: int, cursor: Callable[[T], str]) -> Page[T]:
        """The page of ``first`` items out of ``rows``, read with one extra row to tell
        whether another page follows; ``cursor`` encodes where an item stands."""
        items = tuple(rows[:first])
        return cls(
            items=items,
            end_cursor=cursor(items[-1]) if items else None,
            has_next_page=len(rows) > first,
        )


def page_size(first: int | None, *, default: int, maximum: int) -> int:
    """How many items a list query returns: ``first`` if given and within 1..``maximum``."""
    if first is None:
        return default
    if not 1 <= first <= maximum:
        raise InvalidInput(f"first must be between 1 and {maximum}", field="first")
    return first
