"""The worker: claims due jobs, runs their handlers on N threads, records each outcome.

Delivery is **at least once**. A job is claimed with a lease; a worker that dies mid-job (or
stalls past its lease) leaves the job RUNNING, and once the lease expires any worker claims it
again. A handler may therefore run twice for one job and must be idempotent: it passes
``job.dedupe_key`` (the idempotency key, or the job id) to the providers it calls, and checks its
own records before acting again. Domains that must never act twice without a human deciding
(emails, WhatsApp) record "maybe sent" before calling out and mark such a re-run UNCERTAIN.
"""

from __future__ import annotations

import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta

import structlog

from application.jobs.errors import PermanentJobError, TransientJobError
from application.jobs.ports import JobHandlers, JobQueue
from application.jobs.schedules import Schedule, enqueue_due
from application.shared.ports import Clock
from domain.jobs.model import (
    Job,
    RetryPolicy,
    failed,
    failed_permanently,
    released,
    succeeded,
)

log = structlog.get_logger(__name__)

SAVE_RETRY_FIRST = 0.1
SAVE_RETRY_MAX = 5.0
"""Seconds between tries to save a job's outcome while the database is away: doubling, at most 5."""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Worker:
    def __init__(
        self,
        queue: JobQueue,
        handlers: JobHandlers,
        clock: Clock,
        *,
        concurrency: int = 4,
        lease: timedelta = timedelta(minutes=5),
        poll_interval: float = 1.0,
        policy: RetryPolicy | None = None,
        schedules: Sequence[Schedule] = (),
        grace: float = 30.0,
        name: str | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._queue = queue
        self._handlers = dict(handlers)
        self._clock = clock
        self._concurrency = concurrency
        self._lease = lease
        self._poll = poll_interval
        self._policy = policy or RetryPolicy()
        self._schedules = tuple(schedules)
        self._grace = grace
        self.name = name or worker_name()
        self._rng = rng
        self._stopping = threading.Event()
        self._sleep = sleep or self._stopping.wait
        self._lock = threading.Lock()
        self._in_flight: dict[int, Job] = {}
        self._threads: list[threading.Thread] = []

    # --- running --------------------------------------------------------------------------

    def run_once(self) -> int:
        """Enqueue the schedules' current slots, then run every job that is due, one at a time
        in this thread, until none is left; returns how many ran. For tests and one-shot runs."""
        self.enqueue_schedules()
        ran = 0
        while True:
            jobs = self._queue.claim(self.name, limit=self._concurrency, lease=self._lease)
            if not jobs:
                return ran
            for job in jobs:
                self.execute(job)
                ran += 1

    def run_until_stopped(self) -> None:
        """Run ``concurrency`` threads until ``stop()``; then let running jobs finish within the
        grace period, and release the ones still running after it (their attempt does not count).
        While jobs run, their leases are renewed every third of the lease."""
        self._stopping.clear()
        threads = self._threads = [
            threading.Thread(target=self._loop, args=(index,), name=f"istmo-job-{index}", daemon=True)
            for index in range(self._concurrency)
        ]
        log.info("worker.start", worker=self.name, concurrency=self._concurrency)
        for thread in threads:
            thread.start()
        beat_every = max(self._lease.total_seconds() / 3, self._poll)
        last_beat = time.monotonic()
        while True:
            try:
                self.enqueue_schedules()
            except Exception:
                log.exception("worker.schedules_failed", worker=self.name)
            if time.monotonic() - last_beat >= beat_every:
                self.heartbeat()
                last_beat = time.monotonic()
            if self._stopping.wait(self._poll):
                break
        deadline = time.monotonic() + self._grace
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._release_in_flight()
        log.info("worker.stop", worker=self.name)

    def stop(self) -> None:
        """Stop claiming (safe to call from any thread; from a signal handler, see entrypoints)."""
        self._stopping.set()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the threads of the last run, also those still in a handler after the grace
        period (their outcome is then dropped: the job was released)."""
        for thread in self._threads:
            thread.join(timeout)

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def enqueue_schedules(self) -> None:
        if self._schedules:
            enqueue_due(self._queue, self._schedules, self._clock.now())

    def _loop(self, index: int) -> None:
        name = f"{self.name}/{index}"
        while not self._stopping.is_set():
            try:
                jobs = self._queue.claim(name, limit=1, lease=self._lease)
            except Exception:
                log.exception("worker.claim_failed", worker=name)
                jobs = []
            if not jobs:
                self._stopping.wait(self._poll)
                continue
            job = jobs[0]
            with self._lock:
                self._in_flight[index] = job
            try:
                self.execute(job)
            finally:
                with self._lock:
                    self._in_flight.pop(index, None)

    def heartbeat(self) -> int:
        """Renew the leases of the jobs running now (every third of the lease while running), so
        a long job is not taken by another worker; returns how many were renewed."""
        with self._lock:
            running = list(self._in_flight.values())
        renewed = 0
        for job in running:
            try:
                renewed += self._queue.extend(job, lease=self._lease)
            except Exception:
                log.exception("job.heartbeat_failed", job_id=job.id)
        return renewed

    def _release_in_flight(self) -> None:
        with self._lock:
            left = list(self._in_flight.values())
        for job in left:
            try:
                if self._queue.save(job, released(job, now=self._clock.now())):
                    _log(job).warning("job.released", outcome="RELEASED")
            except Exception:
                log.exception("job.release_failed", job_id=job.id)

    # --- one job --------------------------------------------------------------------------

    def execute(self, job: Job) -> Job:
        """Run one claimed job's handler and record the outcome; returns what was recorded."""
        bound = _log(job)
        started = time.monotonic()
        handler = self._handlers.get(job.kind)
        try:
            if handler is None:
                raise PermanentJobError(f"no handler is registered for job kind {job.kind!r}")
            handler(job)
        except PermanentJobError as error:
            outcome = failed_permanently(job, reason=error.reason, now=self._clock.now())
        except TransientJobError as error:
            outcome = self._failed(job, error.reason, error.retry_after)
        except Exception as error:  # anything else is transient; its message stays in the log
            bound.exception("job.error", error_type=type(error).__name__)
            outcome = self._failed(job, f"unexpected {type(error).__name__} (see the worker log)", None)
        else:
            outcome = succeeded(job, now=self._clock.now())
        saved = self._save(job, outcome, bound)
        if saved is None:
            return job
        bound.info(
            "job.finished" if saved else "job.outcome_dropped",
            outcome=str(outcome.status),
            error=outcome.last_error if outcome.status != "SUCCEEDED" else None,
            next_run_at=outcome.run_at.isoformat() if outcome.status == "QUEUED" else None,
            duration_ms=round((time.monotonic() - started) * 1000),
        )
        return outcome

    def _save(self, job: Job, outcome: Job, bound: structlog.stdlib.BoundLogger) -> bool | None:
        """Record the outcome; while the database is away, again and again with backoff (the job
        stays in flight, so its lease is renewed once the database is back), until it is saved or
        the worker stops (the job is then released, or run again once its lease expires).
        ``None``: not saved."""
        delay, failures = SAVE_RETRY_FIRST, 0
        while True:
            try:
                saved = self._queue.save(job, outcome)
                if failures:
                    bound.info("job.saved_after_retries", failures=failures)
                return saved
            except Exception as error:
                failures += 1
                if failures == 1:
                    bound.warning("job.save_failed", error_type=type(error).__name__, retrying=True)
            if self._stopping.is_set():
                bound.error("job.save_abandoned", failures=failures)
                return None
            self._sleep(delay)
            delay = min(delay * 2, SAVE_RETRY_MAX)

    def _failed(self, job: Job, reason: str, retry_after: timedelta | None) -> Job:
        return failed(
            job, reason=reason, now=self._clock.now(), policy=self._policy, retry_after=retry_after,
            rng=self._rng,
        )


def _log(job: Job) -> structlog.stdlib.BoundLogger:
    """Identity only: never the payload, which may hold addresses or tokens."""
    return log.bind(job_id=job.id, kind=job.kind, tenant_id=job.tenant_id, attempt=job.attempts)
