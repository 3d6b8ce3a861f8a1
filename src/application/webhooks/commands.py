"""Messages of the webhook inbox."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from application.shared.messages import Command, Query

PROCESS_JOB = "webhooks.process"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiveWebhook(Command):
    """Store a verified delivery and queue its processing, in one transaction; a duplicate
    ``(provider, provider_event_id)`` creates nothing."""

    provider: str
    provider_event_id: str
    tenant_id: str | None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    event_type: str | None = None


@dataclass(frozen=True, slots=True)
class ReceivedWebhook:
    event_id: str
    duplicate: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class BeginWebhookProcessing(Command):
    """The event a ``webhooks.process`` job is about, or ``None`` if it is already finished."""

    event_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordWebhookOutcome(Command):
    """What one processing attempt came to: a finished status, or RECEIVED (to be retried)."""

    event_id: str
    attempt: int
    status: str
    reason: str | None = None
    tenant_id: str | None = None  # set on an event received without one, once a processor found it


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayWebhookEvent(Command):
    """Process a finished event once more (a new job); owners and admins, or the CLI."""

    event_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class GetWebhookEvent(Query):
    event_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FindWebhookEvents(Query):
    """Newest first. ``status`` is validated by the domain (GraphQL passes it as a String)."""

    provider: str | None = None
    status: str | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None
    first: int | None = None
    after: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ListWebhookEvents(Command):
    """The same list for operators (CLI): every tenant's events, or one tenant's."""

    tenant_id: str | None = None
    provider: str | None = None
    status: str | None = None
    limit: int = 100
    after: str | None = None
    """A cursor (``WebhookEventCursor``): the events after it, to page through any number."""
    received_from: datetime | None = None
