"""What the webhook API tests share: a service with webhook secrets, stored events, the worker."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text, update

from adapters.db.jobs.tables import jobs
from adapters.db.webhooks.tables import webhook_events

POLAR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
WORKOS_SECRET = "workos-webhook-secret-for-tests"


def events(service: Any) -> list[dict[str, Any]]:
    with service.container.engine().connect() as connection:
        rows = connection.execute(select(webhook_events).order_by(webhook_events.c.received_at)).mappings()
        return [dict(row) for row in rows]


def process_jobs(service: Any) -> list[dict[str, Any]]:
    with service.container.engine().connect() as connection:
        rows = connection.execute(select(jobs).where(jobs.c.kind == "webhooks.process")).mappings()
        return [dict(row) for row in rows]


def count(service: Any, table: str) -> int:
    with service.container.engine().connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def run_jobs(service: Any) -> int:
    """Run every due job once, in this thread (as ``istmo worker`` would)."""
    return service.container.worker().run_once()


def make_jobs_due(service: Any) -> None:
    """Skip the backoff: every queued job is due now."""
    with service.container.engine().begin() as connection:
        connection.execute(update(jobs).where(jobs.c.status == "QUEUED").values(run_at=datetime.now(UTC)))
