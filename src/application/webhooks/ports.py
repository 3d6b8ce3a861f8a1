"""Ports of the webhook inbox: where events are kept, and what processes them.

A ``WebhookProcessor`` is registered per provider in the owning domain's module (``provides={"webhook_processors": ...}``).
It gets the stored event and returns a ``WebhookOutcome`` (PROCESSED, or UNMATCHED with a reason),
or raises: ``PermanentJobError`` marks the event FAILED with its reason; ``TransientJobError`` or any
other exception leaves it RECEIVED to be retried by its job, and DEAD once the attempts are spent.
Processors run at least once per delivery (a retry, a replay, a worker that died): they must be
idempotent, and they do their writes through the bus like any request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from application.jobs.ports import JobRequest, JobsUnitOfWork
from application.webhooks.views import WebhookEventCursor, WebhookEventFilter, WebhookEventView
from domain.webhooks.model import WebhookEvent, WebhookStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookOutcome:
    status: WebhookStatus
    reason: str | None = None
    tenant_id: str | None = None  # the tenant the processor found the event belongs to, if any

    def __post_init__(self) -> None:
        if self.status not in (WebhookStatus.PROCESSED, WebhookStatus.UNMATCHED):
            raise ValueError("a processor's outcome is PROCESSED or UNMATCHED (raise to fail)")
        if self.status is WebhookStatus.UNMATCHED and not self.reason:
            raise ValueError("an UNMATCHED outcome says why")

    @classmethod
    def processed(cls, note: str | None = None, *, tenant_id: str | None = None) -> WebhookOutcome:
        return cls(status=WebhookStatus.PROCESSED, reason=note, tenant_id=tenant_id)

    @classmethod
    def unmatched(cls, reason: str, *, tenant_id: str | None = None) -> WebhookOutcome:
        return cls(status=WebhookStatus.UNMATCHED, reason=reason, tenant_id=tenant_id)


class WebhookProcessor(Protocol):
    def __call__(self, event: WebhookEventView) -> WebhookOutcome: ...


WebhookProcessors = Mapping[str, WebhookProcessor]


class WebhookEventRepository(Protocol):
    """``uow.webhook_events``: bound to the unit of work's tenant, or to every tenant (system work)."""

    def add_if_absent(self, event: WebhookEvent, processing: JobRequest) -> tuple[str, bool]:
        """Insert ``event`` and queue its ``processing`` job (for the event's tenant), unless
        ``(provider, provider_event_id)`` is stored already (by this or a concurrent transaction),
        in which case nothing is written: ``(id of the stored event, True if this call inserted it)``.
        Never raises on a duplicate; a concurrent insert of the same key waits for the other's end."""
        ...

    def get(self, event_id: str) -> WebhookEvent | None: ...

    def get_for_update(self, event_id: str) -> WebhookEvent | None:
        """The event, locked until the transaction ends."""
        ...

    def save(self, event: WebhookEvent) -> None:
        """Write the state of ``event`` (status, attempts, last error, replays, times)."""
        ...


class WebhookEventReader(Protocol):
    def get(self, event_id: str) -> WebhookEventView | None: ...

    def find(
        self, filter: WebhookEventFilter, *, first: int, after: WebhookEventCursor | None
    ) -> list[WebhookEventView]:
        """Newest first, by (received_at, id)."""
        ...


class SignatureRejected(Exception):
    """A delivery whose signature does not verify: answered 401 (or the provider's code), not stored.
    ``reason`` is short and safe to return (it never holds a secret or a computed signature)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class WebhookVerifier(Protocol):
    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Return if the raw ``body`` and ``headers`` carry a valid signature; raise ``SignatureRejected``."""
        ...


class WebhooksUnitOfWork(JobsUnitOfWork, Protocol):
    webhook_events: WebhookEventRepository
    """The inbox: the tenant's events, or every tenant's in a unit of work without one."""
    webhook_event_views: WebhookEventReader
