"""Email addresses as every domain keeps them: trimmed, lower-cased, checked for a usable shape."""

from __future__ import annotations

import re

from domain.shared.errors import InvalidInput

MAX_EMAIL_LENGTH = 254
_LOCAL = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class InvalidEmail(InvalidInput):
    code = "INVALID_EMAIL"


def parse_email(value: object, *, field: str = "email") -> str:
    """``value`` as an address mail can be sent to (``name@example.com.pa``), or refuse it naming ``field``."""
    text = value.strip().lower() if isinstance(value, str) else ""
    local, at, domain = text.rpartition("@")
    labels = domain.split(".")
    if (
        not at
        or len(text) > MAX_EMAIL_LENGTH
        or len(local) > 64
        or not _LOCAL.match(local)
        or len(labels) < 2
        or not all(_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise InvalidEmail(
            f"{field} is not an email address (like name@example.com.pa): {str(value)[:80]!r}", field=field
        )
    return text
