"""Read models of the webhook inbox: the event as processors and operators see it, the list filter
and its cursor."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.shared.errors import InvalidInput
from domain.shared.model import parse_id
from domain.webhooks.model import WebhookEvent, WebhookStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookEventView:
    id: str
    provider: str
    provider_event_id: str
    tenant_id: str | None
    event_type: str | None
    headers: dict[str, str]
    body: bytes
    received_at: datetime
    status: WebhookStatus
    attempts: int
    last_error: str | None
    replays: int
    processed_at: datetime | None

    def json(self) -> Any:
        """The body as JSON; ``ValueError`` if it is not (processors turn that into FAILED)."""
        try:
            return json.loads(self.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(f"the body is not JSON ({type(error).__name__})") from None


def webhook_event_view(event: WebhookEvent) -> WebhookEventView:
    return WebhookEventView(
        id=event.id,
        provider=event.provider,
        provider_event_id=event.provider_event_id,
        tenant_id=event.tenant_id,
        event_type=event.event_type,
        headers=dict(event.headers),
        body=event.body,
        received_at=event.received_at,
        status=event.status,
        attempts=event.attempts,
        last_error=event.last_error,
        replays=event.replays,
        processed_at=event.processed_at,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookEventFilter:
    tenant_id: str | None = None  # operators (system work) only: a tenant-bound reader is its tenant's
    provider: str | None = None
    status: WebhookStatus | None = None
    received_from: datetime | None = None  # inclusive
    received_to: datetime | None = None  # exclusive


@dataclass(frozen=True, slots=True)
class WebhookEventCursor:
    """A position in the newest-first list of events (received_at, id)."""

    received_at: datetime
    event_id: str

    @classmethod
    def of(cls, view: WebhookEventView) -> WebhookEventCursor:
        return cls(view.received_at, view.id)

    def encode(self) -> str:
        raw = f"{self.received_at.isoformat()}|{self.event_id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, *, field: str = "cursor") -> WebhookEventCursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            moment, _, event_id = raw.partition("|")
            received_at = datetime.fromisoformat(moment)
            if received_at.tzinfo is None:
                raise ValueError("naive")
            return cls(received_at, parse_id(event_id, field=field))
        except (ValueError, UnicodeDecodeError, binascii.Error, InvalidInput):
            raise InvalidInput(f"{field} is not a cursor this API returned", field=field) from None
