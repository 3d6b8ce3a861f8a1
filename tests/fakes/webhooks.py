"""In-memory webhook inbox with the semantics of ``adapters.db.webhooks``: one event per
(provider, provider event id), written on commit, scoped to the unit of work's tenant (or to every
tenant in a unit of work without one); newest first by (received_at, id)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from adapters.db.registry import Binding
from application.jobs.ports import JobRequest
from application.webhooks.views import (
    WebhookEventCursor,
    WebhookEventFilter,
    WebhookEventView,
    webhook_event_view,
)
from domain.shared.model import Aggregate
from domain.webhooks.model import WebhookEvent
from tests.fakes.state import FakeDomain, FakeRepository, States

if TYPE_CHECKING:
    from tests.fakes.uow import FakeUnitOfWork


@dataclass
class WebhooksState:
    """The events committed; in a unit of work's copy, the ones it inserted or saved."""

    webhook_events: dict[str, WebhookEvent] = field(default_factory=dict)

    def checkout(self) -> WebhooksState:
        return WebhooksState()

    def check(self, work: WebhooksState, store: States, workspace: States) -> None:
        """Nothing to refuse: ``add_if_absent`` already kept one event per provider event id."""

    def apply(self, work: WebhooksState) -> None:
        self.webhook_events.update(work.webhook_events)
        work.webhook_events.clear()

    def aggregates(self) -> Iterable[Aggregate]:
        return ()


class _Scoped:
    def __init__(self, uow: FakeUnitOfWork, tenant_id: str | None) -> None:
        self._uow = uow
        self._tenant_id = tenant_id

    def _all(self) -> dict[str, WebhookEvent]:
        """What this unit of work sees: the store, with its own writes on top."""
        return {**self._uow.store.webhook_events, **self._uow.workspace().webhook_events}

    def _visible(self, event: WebhookEvent | None) -> WebhookEvent | None:
        if event is None or (self._tenant_id is not None and event.tenant_id != self._tenant_id):
            return None
        return event


class FakeWebhookEventRepository(_Scoped):
    def add_if_absent(self, event: WebhookEvent, processing: JobRequest) -> tuple[str, bool]:
        if self._tenant_id is not None and event.tenant_id != self._tenant_id:
            raise PermissionError("a webhook event of another tenant cannot be stored here")
        for stored in self._all().values():
            if (stored.provider, stored.provider_event_id) == (event.provider, event.provider_event_id):
                return stored.id, False
        self._uow.workspace().webhook_events[event.id] = event
        self._uow.jobs.enqueue(
            processing.kind, processing.payload, tenant_id=event.tenant_id, idempotency_key=processing.idempotency_key
        )
        return event.id, True

    def get(self, event_id: str) -> WebhookEvent | None:
        return self._visible(self._all().get(event_id))

    def get_for_update(self, event_id: str) -> WebhookEvent | None:
        return self.get(event_id)

    def save(self, event: WebhookEvent) -> None:
        if self.get(event.id) is None:
            return  # an UPDATE of no row
        self._uow.workspace().webhook_events[event.id] = event


class FakeWebhookEventReader(_Scoped):
    def get(self, event_id: str) -> WebhookEventView | None:
        event = self._visible(self._all().get(event_id))
        return None if event is None else webhook_event_view(event)

    def find(
        self, filter: WebhookEventFilter, *, first: int, after: WebhookEventCursor | None
    ) -> list[WebhookEventView]:
        def keep(event: WebhookEvent) -> bool:
            return (
                self._visible(event) is not None
                and (filter.tenant_id is None or event.tenant_id == filter.tenant_id)
                and (filter.provider is None or event.provider == filter.provider)
                and (filter.status is None or event.status == filter.status)
                and (filter.received_from is None or event.received_at >= filter.received_from)
                and (filter.received_to is None or event.received_at < filter.received_to)
                and (after is None or (event.received_at, event.id) < (after.received_at, after.event_id))
            )

        events = sorted(
            (e for e in self._all().values() if keep(e)), key=lambda e: (e.received_at, e.id), reverse=True
        )
        return [webhook_event_view(e) for e in events[:first]]


FAKE_DOMAIN = FakeDomain(
    name="webhooks",
    state=WebhooksState,
    repositories={
        "webhook_events": FakeRepository(
            lambda uow: FakeWebhookEventRepository(uow, uow.tenant_id), Binding.ANY
        ),
        "webhook_event_views": FakeRepository(
            lambda uow: FakeWebhookEventReader(uow, uow.tenant_id), Binding.ANY
        ),
    },
)
