"""Building blocks shared by every domain: aggregates that record events, events, ids."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from domain.shared.errors import InvalidInput


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainEvent:
    """Something that happened in one tenant. Subclasses are named in the past tense."""

    tenant_id: str


class Aggregate:
    """An entity that records domain events until its unit of work publishes them.

    The ORM builds loaded instances without calling ``__init__``, so the event list lives
    in ``__dict__`` and is created on first use.
    """

    def record(self, event: DomainEvent) -> None:
        self.__dict__.setdefault("_pending_events", []).append(event)

    def pull_events(self) -> list[DomainEvent]:
        return self.__dict__.pop("_pending_events", [])


def new_id() -> str:
    return str(uuid.uuid4())


def parse_id(value: object, *, field: str = "id") -> str:
    """Return ``value`` as a canonical UUID string, or refuse it naming ``field``."""
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError, AttributeError):
        raise InvalidInput(f"{field} is not a valid id: {str(value)[:64]!r}", field=field) from None
