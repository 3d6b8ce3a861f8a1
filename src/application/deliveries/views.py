"""Read models every channel's message log shares."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, ClassVar, Protocol, Self, TypeVar

from domain.shared.errors import InvalidInput
from domain.shared.model import parse_id


class LoggedMessage(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def created_at(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class LogCursor:
    """A position in a channel's newest-first message log, by (created_at, id); a subclass names
    its log (``log``), so a cursor of one log is refused by another."""

    log: ClassVar[str]
    created_at: datetime
    message_id: str

    @classmethod
    def of(cls, view: LoggedMessage) -> Self:
        return cls(view.created_at, view.id)

    def encode(self) -> str:
        raw = f"{self.log}|{self.created_at.isoformat()}|{self.message_id}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, *, field: str = "after") -> Self:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            log, moment, message_id = raw.split("|")
            created_at = datetime.fromisoformat(moment)
            if log != cls.log or created_at.tzinfo is None:
                raise ValueError(f"not a cursor of the {cls.log} log")
            return cls(created_at, parse_id(message_id, field=field))
        except (ValueError, UnicodeDecodeError, binascii.Error, InvalidInput):
            raise InvalidInput(f"{field} is not a cursor this API returned", field=field) from None


V = TypeVar("V")


def view_of(view: type[V], source: Any, **given: Any) -> V:
    """A read model of ``source`` (an aggregate, a row): each field of the ``view`` dataclass read
    from the attribute of the same name, unless ``given``."""
    values = {f.name: getattr(source, f.name) for f in fields(view) if f.name not in given}  # type: ignore[arg-type]
    return view(**values, **given)
