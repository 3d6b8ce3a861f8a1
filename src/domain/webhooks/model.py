"""The webhook inbox: every delivery whose signature was verified becomes one ``WebhookEvent``.

An event is stored before the provider gets its answer, deduplicated by
``(provider, provider_event_id)``, and processed afterwards by a job. Its status says how far
processing went: RECEIVED (waiting, or being retried), PROCESSED, UNMATCHED (valid, but nothing
here it applies to: kept for a later replay), FAILED (cannot be processed as it is), DEAD (the
retries were spent). Only a replay takes an event out of a finished status.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from domain.jobs.model import clip_error
from domain.shared.errors import Conflict, InvalidInput, NotFound

MAX_PROVIDER_EVENT_ID = 200
MAX_HEADER_VALUE = 1000


class WebhookStatus(StrEnum):
    RECEIVED = "RECEIVED"
    PROCESSED = "PROCESSED"
    FAILED = "FAILED"
    DEAD = "DEAD"
    UNMATCHED = "UNMATCHED"

    @classmethod
    def parse(cls, value: str, *, field: str = "status") -> WebhookStatus:
        try:
            return cls(str(value).strip().upper())
        except ValueError:
            allowed = ", ".join(s.value for s in cls)
            raise InvalidInput(f"{field} must be one of {allowed}, not {str(value)[:32]!r}", field=field) from None


FINISHED = frozenset({WebhookStatus.PROCESSED, WebhookStatus.FAILED, WebhookStatus.DEAD, WebhookStatus.UNMATCHED})

_PROVIDER = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")

# Headers that carry a credential (or a signature that is one, for the PAC's shared secret):
# never stored, whatever the provider.
_SECRET_HEADERS = re.compile(
    r"(authorization|cookie|secret|token|api[-_]?key|password|x-pac-signature)", re.IGNORECASE
)


def parse_provider(value: str, *, field: str = "provider") -> str:
    provider = str(value or "").strip().lower()
    if not _PROVIDER.match(provider):
        raise InvalidInput(f"{field} must be a provider name like 'polar', not {str(value)[:32]!r}", field=field)
    return provider


def parse_provider_event_id(value: str) -> str:
    text = str(value or "").strip()
    if not text or len(text) > MAX_PROVIDER_EVENT_ID:
        raise InvalidInput(
            f"the provider event id must have 1 to {MAX_PROVIDER_EVENT_ID} characters", field="providerEventId"
        )
    return text


def stored_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """What is kept of a delivery's headers: lower-cased names, bounded values, no credentials."""
    kept: dict[str, str] = {}
    for name, value in headers.items():
        key = str(name).strip().lower()
        if not key or _SECRET_HEADERS.search(key):
            continue
        kept[key] = str(value)[:MAX_HEADER_VALUE]
    return kept


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookEvent:
    """A snapshot of one stored delivery (the inbox, not the object, changes state)."""

    id: str
    provider: str
    provider_event_id: str
    tenant_id: str | None
    event_type: str | None
    headers: dict[str, str]
    body: bytes
    received_at: datetime
    status: WebhookStatus = WebhookStatus.RECEIVED
    attempts: int = 0
    last_error: str | None = None
    replays: int = 0
    processed_at: datetime | None = None
    updated_at: datetime

    @property
    def job_key(self) -> str:
        """The idempotency key of the processing job: one job per event (and per replay)."""
        base = f"webhook:{self.provider}:{self.provider_event_id}"
        return base if self.replays == 0 else f"{base}:replay:{self.replays}"

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


class WebhookEventNotFound(NotFound):
    code = "WEBHOOK_EVENT_NOT_FOUND"


class WebhookEventBusy(Conflict):
    code = "WEBHOOK_EVENT_BUSY"


# --- transitions: pure functions from one snapshot to the next -------------------------------


def attempted(event: WebhookEvent, *, attempt: int, reason: str, now: datetime) -> WebhookEvent:
    """A transient failure that will be retried: the event stays RECEIVED, with the reason."""
    return replace(event, attempts=max(event.attempts, attempt), last_error=clip_error(reason), updated_at=now)


def finished(
    event: WebhookEvent, status: WebhookStatus, *, attempt: int, reason: str | None, now: datetime
) -> WebhookEvent:
    if status is WebhookStatus.RECEIVED:
        raise ValueError("RECEIVED is not a finished status")
    return replace(
        event,
        status=status,
        attempts=max(event.attempts, attempt),
        last_error=None if reason is None else clip_error(reason),
        processed_at=now if status is WebhookStatus.PROCESSED else event.processed_at,
        updated_at=now,
    )


def replayed(event: WebhookEvent, *, now: datetime) -> WebhookEvent:
    """Back to RECEIVED for one more processing run (its own job), attempts counted afresh."""
    if not event.finished:
        raise WebhookEventBusy(
            f"webhook event {event.id} is still {event.status}: wait until it is processed or dead", field="id"
        )
    return replace(
        event, status=WebhookStatus.RECEIVED, attempts=0, last_error=None, replays=event.replays + 1, updated_at=now
    )
