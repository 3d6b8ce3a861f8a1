"""The webhook inbox on SQLAlchemy (Core, like the job queue: events are snapshots, not aggregates).

``add_if_absent`` stores an event with its processing job. The event is an ``INSERT ... ON
CONFLICT (provider, provider_event_id) DO NOTHING RETURNING id``: a concurrent insert of the same
key waits for the other transaction (PostgreSQL's unique index; SQLite's write lock) and then
inserts nothing, so 50 racing deliveries of one event leave one row and one job, and none fails.
On PostgreSQL the job's ``INSERT ... SELECT`` reads that ``RETURNING`` in the same statement (a
data-modifying CTE), so a delivery is one statement, one round trip between BEGIN and COMMIT;
SQLite has no such CTEs and runs the job's insert as a second statement when the event was new.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, and_, bindparam, or_, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from adapters.db.jobs.queue import SqlAlchemyJobOutbox
from adapters.db.jobs.tables import jobs
from adapters.db.webhooks.tables import webhook_events
from application.jobs.ports import JobRequest
from application.webhooks.views import (
    WebhookEventCursor,
    WebhookEventFilter,
    WebhookEventView,
    webhook_event_view,
)
from domain.webhooks.model import WebhookEvent

_COLUMNS = tuple(webhook_events.c)


def _insert_with_job() -> Any:
    """PostgreSQL: the event, and its job only if the event was inserted; returns the new id or no row.
    Parameters: the event's columns by name, the job's as ``job_<column>``."""
    event = (
        postgresql.insert(webhook_events)
        .values({column.name: bindparam(column.name, type_=column.type) for column in webhook_events.c})
        .on_conflict_do_nothing(index_elements=["provider", "provider_event_id"])
        .returning(webhook_events.c.id)
        .cte("event")
    )
    job = (
        postgresql.insert(jobs)
        .from_select(
            [column.name for column in jobs.c],
            select(*(bindparam(f"job_{column.name}", type_=column.type) for column in jobs.c)).select_from(event),
        )
        .on_conflict_do_nothing(index_elements=["kind", "idempotency_key"])
        .cte("job")
    )
    return select(event.c.id).add_cte(job)


# Built once: the rows go in as parameters, so a delivery costs no statement building.
_INSERT_WITH_JOB = _insert_with_job()
_INSERT_EVENT_SQLITE = (
    sqlite.insert(webhook_events)
    .on_conflict_do_nothing(index_elements=["provider", "provider_event_id"])
    .returning(webhook_events.c.id)
)


def _event(row: Row[Any]) -> WebhookEvent:
    values = dict(row._mapping)
    values["body"] = bytes(values["body"])
    values["headers"] = dict(values["headers"] or {})
    return WebhookEvent(**values)


def _values(event: WebhookEvent) -> dict[str, Any]:
    return {column.name: getattr(event, column.name) for column in _COLUMNS}


class _Scoped:
    """Bound to one tenant, or (``tenant_id`` None: system work) to every tenant."""

    def __init__(self, session: Session, tenant_id: str | None) -> None:
        self._session = session
        self._tenant_id = tenant_id

    def _scope(self, *conditions: Any) -> Any:
        if self._tenant_id is not None:
            conditions = (*conditions, webhook_events.c.tenant_id == self._tenant_id)
        return and_(true(), *conditions)


class SqlAlchemyWebhookEventRepository(_Scoped):
    def __init__(self, session: Session, tenant_id: str | None, jobs: SqlAlchemyJobOutbox) -> None:
        super().__init__(session, tenant_id)
        self._jobs = jobs

    def add_if_absent(self, event: WebhookEvent, processing: JobRequest) -> tuple[str, bool]:
        if self._tenant_id is not None and event.tenant_id != self._tenant_id:
            raise PermissionError("a webhook event of another tenant cannot be stored here")
        if self._session.get_bind().dialect.name == "postgresql":
            job = self._jobs.row(processing, tenant_id=event.tenant_id)
            parameters = _values(event) | {f"job_{name}": value for name, value in job.items()}
            inserted = self._session.execute(_INSERT_WITH_JOB, parameters).scalar_one_or_none()
        else:
            inserted = self._session.execute(_INSERT_EVENT_SQLITE, _values(event)).scalar_one_or_none()
            if inserted is not None:
                self._jobs.enqueue(
                    processing.kind, processing.payload, tenant_id=event.tenant_id,
                    idempotency_key=processing.idempotency_key,
                )
        if inserted is not None:
            return str(inserted), True
        existing = self._session.execute(
            select(webhook_events.c.id).where(
                webhook_events.c.provider == event.provider,
                webhook_events.c.provider_event_id == event.provider_event_id,
            )
        ).scalar_one()
        return str(existing), False

    def get(self, event_id: str) -> WebhookEvent | None:
        row = self._session.execute(
            select(*_COLUMNS).where(self._scope(webhook_events.c.id == event_id))
        ).one_or_none()
        return None if row is None else _event(row)

    def get_for_update(self, event_id: str) -> WebhookEvent | None:
        statement = select(*_COLUMNS).where(self._scope(webhook_events.c.id == event_id))
        if self._session.get_bind().dialect.name == "sqlite":
            # No row locks: a no-op write takes the database's write lock until the transaction
            # ends (and before the read, so the read sees what a concurrent writer committed).
            self._session.execute(
                update(webhook_events)
                .where(self._scope(webhook_events.c.id == event_id))
                .values(attempts=webhook_events.c.attempts)
            )
        else:
            statement = statement.with_for_update()
        row = self._session.execute(statement).one_or_none()
        return None if row is None else _event(row)

    def save(self, event: WebhookEvent) -> None:
        values = _values(event)
        changed = {
            name: values[name]
            for name in ("status", "attempts", "last_error", "replays", "processed_at", "updated_at", "tenant_id")
        }
        self._session.execute(
            update(webhook_events).where(self._scope(webhook_events.c.id == event.id)).values(**changed)
        )


class SqlAlchemyWebhookEventReader(_Scoped):
    def get(self, event_id: str) -> WebhookEventView | None:
        row = self._session.execute(
            select(*_COLUMNS).where(self._scope(webhook_events.c.id == event_id))
        ).one_or_none()
        return None if row is None else webhook_event_view(_event(row))

    def find(
        self, filter: WebhookEventFilter, *, first: int, after: WebhookEventCursor | None
    ) -> list[WebhookEventView]:
        c = webhook_events.c
        conditions: list[Any] = []
        if filter.tenant_id is not None:
            conditions.append(c.tenant_id == filter.tenant_id)
        if filter.provider is not None:
            conditions.append(c.provider == filter.provider)
        if filter.status is not None:
            conditions.append(c.status == filter.status)
        if filter.received_from is not None:
            conditions.append(c.received_at >= filter.received_from)
        if filter.received_to is not None:
            conditions.append(c.received_at < filter.received_to)
        if after is not None:
            conditions.append(
                or_(c.received_at < after.received_at, and_(c.received_at == after.received_at, c.id < after.event_id))
            )
        statement = (
            select(*_COLUMNS)
            .where(self._scope(*conditions))
            .order_by(c.received_at.desc(), c.id.desc())
            .limit(first)
        )
        return [webhook_event_view(_event(row)) for row in self._session.execute(statement)]
