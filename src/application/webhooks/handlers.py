"""Use cases of the webhook inbox: receive (store + queue in one transaction), process, replay, list."""

from __future__ import annotations

from dataclasses import replace

from application.jobs.errors import PermanentJobError
from application.jobs.ports import JobRequest
from application.webhooks.ports import WebhooksUnitOfWork
from application.shared.messages import Page, page_size
from application.shared.ports import Clock
from application.webhooks.commands import (
    PROCESS_JOB,
    BeginWebhookProcessing,
    FindWebhookEvents,
    GetWebhookEvent,
    ListWebhookEvents,
    ReceivedWebhook,
    ReceiveWebhook,
    RecordWebhookOutcome,
    ReplayWebhookEvent,
)
from application.webhooks.views import (
    WebhookEventCursor,
    WebhookEventFilter,
    WebhookEventView,
    webhook_event_view,
)
from domain.shared.errors import InvalidInput, PermissionDenied
from domain.shared.model import new_id, parse_id
from domain.tenancy.model import Actor
from domain.webhooks.model import (
    WebhookEvent,
    WebhookEventNotFound,
    WebhookStatus,
    attempted,
    finished,
    parse_provider,
    parse_provider_event_id,
    replayed,
    stored_headers,
)

DEFAULT_PAGE = 50
MAX_PAGE = 200
MAX_EVENT_TYPE = 100


def _admin(actor: Actor | None) -> None:
    """Owners and admins of the tenant, or system work (CLI, jobs: ``actor`` is None)."""
    if actor is not None and not actor.is_admin:
        raise PermissionDenied("only the tenant's owners and admins see and replay webhook events")


def process_job_payload(event_id: str) -> dict[str, str]:
    """A processing job carries the event's id, never its body or headers."""
    return {"event_id": event_id}


class ReceiveWebhookHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: ReceiveWebhook, uow: WebhooksUnitOfWork) -> ReceivedWebhook:
        now = self._clock.now()
        event_type = (cmd.event_type or "").strip()[:MAX_EVENT_TYPE] or None
        event = WebhookEvent(
            id=new_id(),
            provider=parse_provider(cmd.provider),
            provider_event_id=parse_provider_event_id(cmd.provider_event_id),
            tenant_id=cmd.tenant_id,
            event_type=event_type,
            headers=stored_headers(cmd.headers),
            body=bytes(cmd.body),
            received_at=now,
            updated_at=now,
        )
        processing = JobRequest(kind=PROCESS_JOB, payload=process_job_payload(event.id), idempotency_key=event.job_key)
        with uow:
            event_id, inserted = uow.webhook_events.add_if_absent(event, processing)
            if not inserted:
                return ReceivedWebhook(event_id=event_id, duplicate=True)
            uow.commit()
        return ReceivedWebhook(event_id=event.id, duplicate=False)


class BeginWebhookProcessingHandler:
    def __call__(self, cmd: BeginWebhookProcessing, uow: WebhooksUnitOfWork) -> WebhookEventView | None:
        event_id = parse_id(cmd.event_id, field="eventId")
        with uow:
            event = uow.webhook_events.get(event_id)
        if event is None:
            raise PermanentJobError(f"webhook event {event_id} no longer exists")
        return None if event.finished else webhook_event_view(event)


class RecordWebhookOutcomeHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: RecordWebhookOutcome, uow: WebhooksUnitOfWork) -> WebhookEventView:
        status = WebhookStatus.parse(cmd.status)
        now = self._clock.now()
        with uow:
            event = uow.webhook_events.get_for_update(parse_id(cmd.event_id, field="eventId"))
            if event is None:
                raise PermanentJobError(f"webhook event {cmd.event_id} no longer exists")
            if event.finished:  # another run (a worker whose lease expired) finished it first
                return webhook_event_view(event)
            if status is WebhookStatus.RECEIVED:
                after = attempted(event, attempt=cmd.attempt, reason=cmd.reason or "failed", now=now)
            else:
                after = finished(event, status, attempt=cmd.attempt, reason=cmd.reason, now=now)
            if cmd.tenant_id is not None and after.tenant_id is None:
                after = replace(after, tenant_id=cmd.tenant_id)
            uow.webhook_events.save(after)
            uow.commit()
        return webhook_event_view(after)


class ReplayWebhookEventHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: ReplayWebhookEvent, uow: WebhooksUnitOfWork) -> WebhookEventView:
        _admin(cmd.actor)
        event_id = parse_id(cmd.event_id, field="id")
        with uow:
            event = uow.webhook_events.get_for_update(event_id)
            if event is None:
                raise WebhookEventNotFound(f"webhook event {event_id} not found", field="id")
            again = replayed(event, now=self._clock.now())
            uow.webhook_events.save(again)
            uow.jobs.enqueue(
                PROCESS_JOB, process_job_payload(again.id), tenant_id=again.tenant_id, idempotency_key=again.job_key
            )
            uow.commit()
        return webhook_event_view(again)


class GetWebhookEventHandler:
    def __call__(self, query: GetWebhookEvent, uow: WebhooksUnitOfWork) -> WebhookEventView:
        _admin(query.actor)
        event_id = parse_id(query.event_id, field="id")
        with uow:
            view = uow.webhook_event_views.get(event_id)
        if view is None:
            raise WebhookEventNotFound(f"webhook event {event_id} not found", field="id")
        return view


def _filter(
    *, tenant_id: str | None, provider: str | None, status: str | None, received_from: object, received_to: object
) -> WebhookEventFilter:
    if received_from is not None and received_to is not None and received_to <= received_from:  # type: ignore[operator]
        raise InvalidInput("to must be after from", field="to")
    return WebhookEventFilter(
        tenant_id=tenant_id,
        provider=parse_provider(provider) if provider else None,
        status=WebhookStatus.parse(status) if status else None,
        received_from=received_from,  # type: ignore[arg-type]
        received_to=received_to,  # type: ignore[arg-type]
    )


class FindWebhookEventsHandler:
    def __call__(self, query: FindWebhookEvents, uow: WebhooksUnitOfWork) -> Page[WebhookEventView]:
        _admin(query.actor)
        first = page_size(query.first, default=DEFAULT_PAGE, maximum=MAX_PAGE)
        after = WebhookEventCursor.decode(query.after, field="cursor") if query.after else None
        selection = _filter(
            tenant_id=None, provider=query.provider, status=query.status,
            received_from=query.received_from, received_to=query.received_to,
        )
        with uow:
            rows = uow.webhook_event_views.find(selection, first=first + 1, after=after)
        return Page.of(rows, first, lambda item: WebhookEventCursor.of(item).encode())


class ListWebhookEventsHandler:
    def __call__(self, cmd: ListWebhookEvents, uow: WebhooksUnitOfWork) -> list[WebhookEventView]:
        _admin(cmd.actor)
        if not 1 <= cmd.limit <= 1000:
            raise InvalidInput("limit must be between 1 and 1000", field="limit")
        selection = _filter(
            tenant_id=cmd.tenant_id, provider=cmd.provider, status=cmd.status,
            received_from=cmd.received_from, received_to=None,
        )
        after = WebhookEventCursor.decode(cmd.after, field="after") if cmd.after else None
        with uow:
            return uow.webhook_event_views.find(selection, first=cmd.limit, after=after)
