"""Reading provider payloads: JSON objects, fields by path, timestamps. Bad content is a permanent
failure naming the field (the event is kept, FAILED, with that reason)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from application.jobs.errors import PermanentJobError
from application.webhooks.views import WebhookEventView


def json_object(event: WebhookEventView) -> dict[str, Any]:
    try:
        body = event.json()
    except ValueError as error:
        raise PermanentJobError(str(error)) from None
    if not isinstance(body, dict):
        raise PermanentJobError(f"the body is a JSON {type(body).__name__}, not an object")
    return body


def field(payload: Any, path: str, *, required: bool = False) -> Any:
    """``payload['a']['b']`` for ``"a.b"``; ``None`` when a step is missing (or an error if required)."""
    value = payload
    for step in path.split("."):
        value = value.get(step) if isinstance(value, dict) else None
        if value is None:
            break
    if required and value in (None, ""):
        raise PermanentJobError(f"the field {path} is missing")
    return value


def text(payload: Any, path: str, *, required: bool = False, max_length: int = 200) -> str | None:
    value = field(payload, path, required=required)
    if value is None:
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise PermanentJobError(f"the field {path} must be a string")
    result = str(value).strip()
    if len(result) > max_length:
        raise PermanentJobError(f"the field {path} has more than {max_length} characters")
    return result or None


def timestamp(payload: Any, path: str, *, required: bool = False) -> datetime | None:
    """An ISO 8601 date-time (naive ones are UTC), or Unix seconds."""
    value = field(payload, path, required=required)
    if value is None:
        return None
    return parse_timestamp(value, name=path)


def parse_timestamp(value: Any, *, name: str) -> datetime:
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, tz=UTC)
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        pass
    raise PermanentJobError(f"the field {name} is not a date-time: {str(value)[:40]!r}")
