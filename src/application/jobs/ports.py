"""Ports of the job runner: the outbox a unit of work writes to, and the queue workers drain."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from application.shared.ports import UnitOfWork
from domain.jobs.model import Job, JobStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class JobRequest:
    """A job to queue as part of another write, which stores the two together or neither
    (``WebhookEventRepository.add_if_absent``); like ``JobOutbox.enqueue``'s arguments."""

    kind: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    idempotency_key: str | None = None


class JobOutbox(Protocol):
    """``uow.jobs``: jobs written in the unit of work's transaction, committed (or not) with it."""

    def enqueue(
        self,
        kind: str,
        payload: Mapping[str, Any] | None = None,
        *,
        tenant_id: str | None = None,
        idempotency_key: str | None = None,
        run_at: datetime | None = None,
        max_attempts: int | None = None,
    ) -> str:
        """Queue a job and return its id. ``tenant_id`` defaults to the unit of work's tenant.

        With an ``idempotency_key``, enqueueing the same (kind, key) again yields the one job
        already queued (its id is returned) — within the transaction and across transactions.
        """
        ...


class JobQueue(Protocol):
    """What the worker and the operators use. Every outcome is guarded: it is written only if
    the job is still RUNNING under the same claim (same worker and attempt), so a worker whose
    lease expired and whose job another worker took cannot overwrite that worker's outcome."""

    def enqueue(
        self,
        kind: str,
        payload: Mapping[str, Any] | None = None,
        *,
        tenant_id: str | None = None,
        idempotency_key: str | None = None,
        run_at: datetime | None = None,
        max_attempts: int | None = None,
    ) -> str:
        """Queue a job in a transaction of its own (schedules, operators)."""
        ...

    def claim(self, worker: str, *, limit: int, lease: timedelta) -> list[Job]:
        """Take up to ``limit`` due jobs (QUEUED with ``run_at <= now``, or RUNNING with an
        expired lease), oldest first, as RUNNING for ``worker`` until ``now + lease``."""
        ...

    def save(self, claimed: Job, outcome: Job) -> bool:
        """Write ``outcome`` if the job is still as ``claimed`` left it; False if it was not."""
        ...

    def extend(self, claimed: Job, *, lease: timedelta) -> bool:
        """Renew the lease of a job still running under this claim to ``now + lease`` (heartbeat)."""
        ...

    def get(self, job_id: str) -> Job | None: ...

    def find(
        self, *, status: JobStatus | None = None, kind: str | None = None, limit: int = 100, after: str | None = None
    ) -> list[Job]:
        """Newest first; ``after``: a job's id, to continue after it."""
        ...

    def retry(self, job_id: str) -> Job:
        """FAILED or DEAD -> QUEUED now, attempts reset. Raises LookupError, JobStateError."""
        ...


class JobHandler(Protocol):
    """Runs one job: returns on success, raises ``TransientJobError``/``PermanentJobError``."""

    def __call__(self, job: Job) -> None: ...


JobHandlers = Mapping[str, JobHandler]


class JobsUnitOfWork(UnitOfWork, Protocol):
    jobs: JobOutbox
    """Jobs queued here commit (or roll back) with the rest of the unit of work."""
