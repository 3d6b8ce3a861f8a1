"""The keyset cursor a list pages with: where the last page ended, as an opaque string."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from domain.shared.errors import InvalidInput
from domain.shared.model import parse_id


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page ended: the sort key (ISO date or time) and the row's id."""

    key: str
    id: str

    def encode(self) -> str:
        return base64.urlsafe_b64encode(f"{self.key}|{self.id}".encode()).decode()

    @classmethod
    def decode(cls, value: str | None, *, field: str = "after") -> Cursor | None:
        if not value:
            return None
        try:
            key, _, row_id = base64.urlsafe_b64decode(value.encode("ascii")).decode().partition("|")
            if not key or len(key) > 40:
                raise ValueError("no key")
            return cls(key, parse_id(row_id, field=field))
        except (ValueError, UnicodeError, binascii.Error, InvalidInput):
            raise InvalidInput(f"{field} is not a cursor this list gave", field=field) from None
