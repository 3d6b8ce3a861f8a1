"""Durable jobs: what a job is, its states, and the retry arithmetic.

A job is written in the same transaction as the state change that implies it (transactional
outbox) and run by a worker at least once: a worker that dies after a handler called a provider
but before it recorded the outcome leaves the job RUNNING until its lease expires, and then it runs
again. Handlers therefore pass the job's idempotency key (or its id) to the providers they call.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class JobStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"  # permanent failure, with its reason: retried only by hand
    DEAD = "DEAD"  # transient failures exhausted the attempts: retried only by hand


FINISHED = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.DEAD})
RETRYABLE_BY_HAND = frozenset({JobStatus.FAILED, JobStatus.DEAD})

MAX_ERROR_LENGTH = 2000


@dataclass(frozen=True, slots=True, kw_only=True)
class Job:
    """A snapshot of one job as the queue holds it (the queue, not the object, changes state)."""

    id: str
    tenant_id: str | None
    kind: str
    payload: dict[str, Any] = field(default_factory=dict)
    idempotency_key: str | None = None
    status: JobStatus = JobStatus.QUEUED
    attempts: int = 0
    max_attempts: int = 8
    run_at: datetime
    claimed_by: str | None = None
    lease_until: datetime | None = None
    last_error: str | None = None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None

    @property
    def dedupe_key(self) -> str:
        """What a handler passes to providers as its idempotency key: the same on every attempt."""
        return self.idempotency_key or f"job:{self.id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """Exponential backoff with full jitter: ``uniform(0, min(cap, base * 2**(attempt-1)))``.

    A ``retry_after`` given by the provider (HTTP 429 ``Retry-After``) is a floor: the job never
    runs earlier than the provider asked, even if that is beyond the cap.
    """

    max_attempts: int = 8
    base: timedelta = timedelta(seconds=5)
    cap: timedelta = timedelta(minutes=30)

    def ceiling(self, attempt: int) -> timedelta:
        """The longest wait after the ``attempt``-th failure (1-based)."""
        exponent = min(max(attempt, 1) - 1, 32)  # 2**32 * base is beyond any cap: no overflow
        return min(self.cap, self.base * (2**exponent))

    def delay(
        self, attempt: int, *, retry_after: timedelta | None = None, rng: random.Random | None = None
    ) -> timedelta:
        ceiling = self.ceiling(attempt).total_seconds()
        jittered = timedelta(seconds=(rng or random).uniform(0, ceiling))
        if retry_after is not None and retry_after > jittered:
            return retry_after
        return jittered

    def exhausted(self, attempts: int, max_attempts: int | None = None) -> bool:
        return attempts >= (max_attempts if max_attempts is not None else self.max_attempts)


def clip_error(reason: str) -> str:
    """What is kept of a failure: one bounded line of text (handlers must not put secrets in it)."""
    text = " ".join(str(reason).split())
    return text if len(text) <= MAX_ERROR_LENGTH else text[: MAX_ERROR_LENGTH - 1] + "…"


# --- transitions: pure functions from one snapshot to the next -----------------------------


class JobStateError(Exception):
    """A transition that the job's state does not allow (e.g. retrying a job still queued)."""


def _running(job: Job) -> None:
    if job.status is not JobStatus.RUNNING:
        raise JobStateError(f"job {job.id} is {job.status}, not RUNNING")


def claimed(job: Job, *, worker: str, now: datetime, lease: timedelta) -> Job:
    """Claimed by ``worker`` until ``now + lease``: one more attempt starts."""
    if job.status not in (JobStatus.QUEUED, JobStatus.RUNNING):
        raise JobStateError(f"job {job.id} is {job.status} and cannot be claimed")
    if job.status is JobStatus.RUNNING and (job.lease_until is None or job.lease_until > now):
        raise JobStateError(f"job {job.id} is leased to {job.claimed_by}")
    return _replace(
        job, status=JobStatus.RUNNING, attempts=job.attempts + 1, claimed_by=worker,
        lease_until=now + lease, updated_at=now,
    )


def succeeded(job: Job, *, now: datetime) -> Job:
    _running(job)
    return _replace(
        job, status=JobStatus.SUCCEEDED, claimed_by=None, lease_until=None, last_error=None,
        updated_at=now, finished_at=now,
    )


def failed(
    job: Job,
    *,
    reason: str,
    now: datetime,
    policy: RetryPolicy,
    retry_after: timedelta | None = None,
    rng: random.Random | None = None,
) -> Job:
    """A transient failure: QUEUED again after the backoff, or DEAD once the attempts are spent."""
    _running(job)
    if policy.exhausted(job.attempts, job.max_attempts):
        return _replace(
            job, status=JobStatus.DEAD, claimed_by=None, lease_until=None, last_error=clip_error(reason),
            updated_at=now, finished_at=now,
        )
    delay = policy.delay(job.attempts, retry_after=retry_after, rng=rng)
    return _replace(
        job, status=JobStatus.QUEUED, run_at=now + delay, claimed_by=None, lease_until=None,
        last_error=clip_error(reason), updated_at=now,
    )


def failed_permanently(job: Job, *, reason: str, now: datetime) -> Job:
    _running(job)
    return _replace(
        job, status=JobStatus.FAILED, claimed_by=None, lease_until=None, last_error=clip_error(reason),
        updated_at=now, finished_at=now,
    )


def released(job: Job, *, now: datetime) -> Job:
    """Given back unrun (graceful stop): QUEUED at once, and the attempt does not count."""
    _running(job)
    return _replace(
        job, status=JobStatus.QUEUED, attempts=max(job.attempts - 1, 0), run_at=now, claimed_by=None,
        lease_until=None, updated_at=now,
    )


def retried_by_hand(job: Job, *, now: datetime) -> Job:
    if job.status not in RETRYABLE_BY_HAND:
        raise JobStateError(f"job {job.id} is {job.status}; only FAILED or DEAD jobs are retried by hand")
    return _replace(
        job, status=JobStatus.QUEUED, attempts=0, run_at=now, claimed_by=None, lease_until=None,
        updated_at=now, finished_at=None,
    )


def _replace(job: Job, **changes: Any) -> Job:
    return replace(job, **changes)
