"""The job runner on SQLite and PostgreSQL: outbox atomicity, retries, dead jobs, leases, stop.

Time is a FakeClock shared by the queue and the worker; ``run_once`` drains what is due, so no
test waits on a timer. The threaded tests synchronise on events the handlers set.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import sessionmaker

from adapters.db.jobs.queue import SqlAlchemyJobQueue
from adapters.db.jobs.tables import jobs as jobs_table
from adapters.db.tenancy.tables import tenants
from adapters.db.uow import SqlAlchemyUnitOfWork
from application.jobs.errors import PermanentJobError, TransientJobError
from application.jobs.schedules import Schedule
from application.jobs.worker import Worker
from domain.jobs.model import Job, JobStateError, JobStatus, RetryPolicy, succeeded
from domain.tenancy.model import Tenant
from tests.fakes.clock import FakeClock

POLICY = RetryPolicy(max_attempts=3, base=timedelta(seconds=10), cap=timedelta(minutes=5))


class Runner:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.clock = FakeClock()
        self.sessions = sessionmaker(bind=engine, expire_on_commit=False)
        self.queue = SqlAlchemyJobQueue(self.sessions, self.clock, max_attempts=3)

    def uow(self, tenant_id: str | None = None) -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(tenant_id, session_factory=self.sessions, clock=self.clock, job_max_attempts=3)

    def worker(self, handlers: dict[str, Callable[[Job], None]], **kw: Any) -> Worker:
        kw.setdefault("policy", POLICY)
        kw.setdefault("poll_interval", 0.01)
        return Worker(self.queue, handlers, self.clock, **kw)

    def tenant(self, slug: str = "acme") -> str:
        uow = self.uow()
        with uow:
            tenant = Tenant.create(slug=slug, name=slug.title(), now=self.clock.now())
            uow.tenants.add(tenant)
            uow.commit()
        return tenant.id

    def count(self, table: Any) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(table)).scalar_one())

    def job(self, job_id: str) -> Job:
        job = self.queue.get(job_id)
        assert job is not None
        return job


@pytest.fixture
def runner(engine: Engine) -> Iterator[Runner]:
    yield Runner(engine)


# --- the outbox -------------------------------------------------------------------------------


def test_a_job_is_written_with_the_state_change_or_not_at_all(runner: Runner) -> None:
    uow = runner.uow()
    with uow:
        tenant = Tenant.create(slug="acme", name="Acme", now=runner.clock.now())
        uow.tenants.add(tenant)
        uow.jobs.enqueue("test.welcome", {"slug": "acme"}, tenant_id=tenant.id)
        # leaving without commit: rolled back
    assert runner.count(tenants) == 0 and runner.count(jobs_table) == 0

    with uow:
        tenant = Tenant.create(slug="acme", name="Acme", now=runner.clock.now())
        uow.tenants.add(tenant)
        job_id = uow.jobs.enqueue("test.welcome", {"slug": "acme"}, tenant_id=tenant.id)
        uow.commit()
    job = runner.job(job_id)
    assert runner.count(tenants) == 1
    assert (job.status, job.tenant_id, job.payload, job.attempts, job.max_attempts) == (
        JobStatus.QUEUED, tenant.id, {"slug": "acme"}, 0, 3,
    )


def test_a_tenant_s_unit_of_work_queues_jobs_for_that_tenant_only(runner: Runner) -> None:
    acme, other = runner.tenant("acme"), runner.tenant("other")
    uow = runner.uow(acme)
    with uow:
        job_id = uow.jobs.enqueue("test.kind")
        with pytest.raises(PermissionError):
            uow.jobs.enqueue("test.kind", tenant_id=other)
        uow.commit()
    assert runner.job(job_id).tenant_id == acme


def test_the_same_idempotency_key_yields_one_job(runner: Runner) -> None:
    uow = runner.uow()
    with uow:
        first = uow.jobs.enqueue("test.send", {"n": 1}, idempotency_key="msg-1")
        assert uow.jobs.enqueue("test.send", {"n": 2}, idempotency_key="msg-1") == first
        uow.commit()
    with uow:
        assert uow.jobs.enqueue("test.send", {"n": 3}, idempotency_key="msg-1") == first
        uow.commit()
    assert runner.queue.enqueue("test.send", idempotency_key="msg-1") == first
    other_kind = runner.queue.enqueue("test.other", idempotency_key="msg-1")
    unkeyed = {runner.queue.enqueue("test.send"), runner.queue.enqueue("test.send")}
    assert other_kind != first and len(unkeyed) == 2
    assert runner.count(jobs_table) == 4
    assert runner.job(first).payload == {"n": 1}


# --- outcomes ---------------------------------------------------------------------------------


def test_a_transient_failure_is_retried_after_its_backoff_until_it_succeeds(runner: Runner) -> None:
    calls: list[int] = []

    def flaky(job: Job) -> None:
        calls.append(job.attempts)
        if len(calls) < 3:
            raise TransientJobError("HTTP 503 from the provider")

    worker = runner.worker({"test.flaky": flaky})
    job_id = runner.queue.enqueue("test.flaky")

    assert worker.run_once() == 1
    job = runner.job(job_id)
    assert (job.status, job.attempts, job.last_error) == (JobStatus.QUEUED, 1, "HTTP 503 from the provider")
    assert runner.clock.now() <= job.run_at <= runner.clock.now() + POLICY.ceiling(1)
    runner.clock.advance(POLICY.ceiling(1))
    assert worker.run_once() == 1
    assert worker.run_once() == 0  # the second backoff has not passed
    runner.clock.advance(POLICY.ceiling(2))
    assert worker.run_once() == 1

    job = runner.job(job_id)
    assert calls == [1, 2, 3]
    assert (job.status, job.attempts, job.last_error, job.finished_at) == (
        JobStatus.SUCCEEDED, 3, None, runner.clock.now(),
    )


def test_retry_after_from_the_provider_is_honoured(runner: Runner) -> None:
    calls: list[str] = []

    def throttled(job: Job) -> None:
        calls.append(job.id)
        if len(calls) == 1:
            raise TransientJobError("HTTP 429", retry_after=timedelta(hours=1))

    worker = runner.worker({"test.throttled": throttled})
    job_id = runner.queue.enqueue("test.throttled")
    worker.run_once()
    assert runner.job(job_id).run_at >= runner.clock.now() + timedelta(hours=1)
    runner.clock.advance(timedelta(minutes=59))
    assert worker.run_once() == 0
    runner.clock.advance(timedelta(minutes=1))
    assert worker.run_once() == 1
    assert runner.job(job_id).status is JobStatus.SUCCEEDED


def test_a_permanent_failure_stops_at_once_with_its_reason(runner: Runner) -> None:
    calls: list[str] = []

    def refused(job: Job) -> None:
        calls.append(job.id)
        raise PermanentJobError("550 mailbox does not exist")

    worker = runner.worker({"test.refused": refused})
    job_id = runner.queue.enqueue("test.refused")
    worker.run_once()
    runner.clock.advance(timedelta(days=1))
    worker.run_once()

    job = runner.job(job_id)
    assert calls == [job_id]
    assert (job.status, job.attempts, job.last_error) == (JobStatus.FAILED, 1, "550 mailbox does not exist")


def test_an_unknown_kind_fails_permanently(runner: Runner) -> None:
    job_id = runner.queue.enqueue("test.nobody")
    runner.worker({}).run_once()
    job = runner.job(job_id)
    assert job.status is JobStatus.FAILED and "test.nobody" in (job.last_error or "")


def test_an_unexpected_error_is_transient_and_its_message_is_not_stored(runner: Runner) -> None:
    def leaky(job: Job) -> None:
        raise RuntimeError("connect to https://user:hunter2@smtp.example failed")

    job_id = runner.queue.enqueue("test.leaky")
    runner.worker({"test.leaky": leaky}).run_once()
    job = runner.job(job_id)
    assert job.status is JobStatus.QUEUED and job.attempts == 1
    assert "RuntimeError" in (job.last_error or "") and "hunter2" not in (job.last_error or "")


def test_exhausted_attempts_make_a_job_dead_and_a_retry_by_hand_revives_it(runner: Runner) -> None:
    healthy = threading.Event()

    def down(job: Job) -> None:
        if not healthy.is_set():
            raise TransientJobError("timeout")

    worker = runner.worker({"test.down": down})
    job_id = runner.queue.enqueue("test.down", max_attempts=3)
    for _ in range(5):
        worker.run_once()
        runner.clock.advance(POLICY.cap)
    dead = runner.job(job_id)
    assert (dead.status, dead.attempts, dead.last_error) == (JobStatus.DEAD, 3, "timeout")
    assert runner.queue.find(status=JobStatus.DEAD) == [dead]

    healthy.set()
    again = runner.queue.retry(job_id)
    assert (again.status, again.attempts) == (JobStatus.QUEUED, 0)
    with pytest.raises(JobStateError):
        runner.queue.retry(job_id)
    with pytest.raises(LookupError):
        runner.queue.retry("00000000-0000-0000-0000-000000000000")
    assert worker.run_once() == 1
    job = runner.job(job_id)
    assert (job.status, job.attempts, job.last_error) == (JobStatus.SUCCEEDED, 1, None)


def test_a_job_queued_for_later_waits_for_its_time(runner: Runner) -> None:
    ran: list[str] = []
    worker = runner.worker({"test.later": lambda job: ran.append(job.id)})
    uow = runner.uow()
    with uow:
        job_id = uow.jobs.enqueue("test.later", run_at=runner.clock.now() + timedelta(minutes=10))
        uow.commit()
    assert worker.run_once() == 0
    runner.clock.advance(timedelta(minutes=10))
    assert worker.run_once() == 1 and ran == [job_id]


# --- leases -----------------------------------------------------------------------------------


def test_an_expired_lease_makes_the_job_claimable_again_and_the_first_claim_s_outcome_is_dropped(
    runner: Runner,
) -> None:
    job_id = runner.queue.enqueue("test.slow")
    lease = timedelta(minutes=1)
    [first] = runner.queue.claim("worker-a", limit=10, lease=lease)
    assert runner.queue.claim("worker-b", limit=10, lease=lease) == []  # leased to worker-a

    runner.clock.advance(lease)
    [second] = runner.queue.claim("worker-b", limit=10, lease=lease)
    assert (second.id, second.attempts, second.claimed_by) == (job_id, 2, "worker-b")

    assert runner.queue.save(first, succeeded(first, now=runner.clock.now())) is False
    assert runner.job(job_id).status is JobStatus.RUNNING
    assert runner.queue.save(second, succeeded(second, now=runner.clock.now())) is True
    assert runner.job(job_id).status is JobStatus.SUCCEEDED


def test_an_expired_lease_on_the_last_attempt_makes_the_job_dead(runner: Runner) -> None:
    job_id = runner.queue.enqueue("test.crashy", max_attempts=1)
    runner.queue.claim("worker-a", limit=1, lease=timedelta(minutes=1))
    runner.clock.advance(timedelta(minutes=1))
    assert runner.queue.claim("worker-b", limit=1, lease=timedelta(minutes=1)) == []
    job = runner.job(job_id)
    assert job.status is JobStatus.DEAD and "stopped before recording" in (job.last_error or "")


def test_claims_take_the_oldest_due_jobs_up_to_the_limit(runner: Runner) -> None:
    ids = []
    for _ in range(5):
        ids.append(runner.queue.enqueue("test.k"))
        runner.clock.advance(timedelta(seconds=1))
    claimed = runner.queue.claim("w", limit=3, lease=timedelta(minutes=1))
    assert [job.id for job in claimed] == ids[:3]
    assert {job.status for job in claimed} == {JobStatus.RUNNING}
    assert [job.id for job in runner.queue.claim("w", limit=10, lease=timedelta(minutes=1))] == ids[3:]


# --- schedules --------------------------------------------------------------------------------


def test_a_schedule_runs_once_per_slot_however_many_workers_tick(runner: Runner) -> None:
    ran: list[Job] = []
    schedule = Schedule(kind="test.tick", interval=timedelta(hours=1))
    workers = [runner.worker({"test.tick": ran.append}, schedules=[schedule]) for _ in range(3)]
    for worker in workers:
        worker.run_once()
    assert len(ran) == 1 and ran[0].idempotency_key == schedule.slot_key(runner.clock.now())
    runner.clock.advance(timedelta(hours=1))
    for worker in workers:
        worker.run_once()
    assert len(ran) == 2 and ran[0].idempotency_key != ran[1].idempotency_key


# --- threads and stopping ---------------------------------------------------------------------


def test_threads_drain_the_queue_each_job_once(runner: Runner) -> None:
    seen: Counter[str] = Counter()
    lock, done = threading.Lock(), threading.Event()
    total = 40

    def record(job: Job) -> None:
        with lock:
            seen[job.id] += 1
            if sum(seen.values()) == total:
                done.set()

    ids = {runner.queue.enqueue("test.many", {"n": n}) for n in range(total)}
    worker = runner.worker({"test.many": record}, concurrency=4)
    thread = threading.Thread(target=worker.run_until_stopped)
    thread.start()
    try:
        assert done.wait(60)
    finally:
        worker.stop()
        thread.join(60)
    assert set(seen) == ids and set(seen.values()) == {1}
    assert {job.status for job in runner.queue.find(limit=100)} == {JobStatus.SUCCEEDED}


def test_stop_lets_a_running_job_finish_and_claims_nothing_more(runner: Runner) -> None:
    started, proceed = threading.Event(), threading.Event()

    def blocking(job: Job) -> None:
        started.set()
        assert proceed.wait(30)

    first = runner.queue.enqueue("test.block")
    runner.clock.advance(timedelta(seconds=1))
    second = runner.queue.enqueue("test.block")
    worker = runner.worker({"test.block": blocking}, concurrency=1, grace=30)
    thread = threading.Thread(target=worker.run_until_stopped)
    thread.start()
    assert started.wait(30)
    worker.stop()
    proceed.set()
    thread.join(30)
    assert not thread.is_alive()
    assert runner.job(first).status is JobStatus.SUCCEEDED
    assert (runner.job(second).status, runner.job(second).attempts) == (JobStatus.QUEUED, 0)


def test_stop_releases_a_job_still_running_after_the_grace_period(runner: Runner) -> None:
    started, proceed = threading.Event(), threading.Event()

    def stuck(job: Job) -> None:
        started.set()
        assert proceed.wait(30)

    job_id = runner.queue.enqueue("test.stuck")
    worker = runner.worker({"test.stuck": stuck}, concurrency=1, grace=0)
    thread = threading.Thread(target=worker.run_until_stopped)
    thread.start()
    assert started.wait(30)
    worker.stop()
    thread.join(30)
    assert not thread.is_alive()
    released = runner.job(job_id)
    assert (released.status, released.attempts, released.claimed_by) == (JobStatus.QUEUED, 0, None)

    proceed.set()  # the handler returns after all: its outcome is dropped, the job stays queued
    worker.join(30)
    assert runner.job(job_id).status is JobStatus.QUEUED


# --- the built-in schedule through the container ----------------------------------------------


def test_the_container_s_worker_runs_the_files_gc_schedule(make_service: Callable[..., Any]) -> None:
    service = make_service()
    worker = service.container.worker()
    # files.gc, aurinko.sync_all and quickbooks.cdc_all (no connection: nothing more), pac.poll,
    # deliveries.sweep (nothing stale), signatures.stamp_chain_heads (no TSA: nothing more)
    assert worker.run_once() == 6
    [gc] = service.container.job_queue().find(kind="files.gc")
    assert gc.status is JobStatus.SUCCEEDED and gc.idempotency_key.startswith("schedule:files.gc:")
    for kind in ("deliveries.sweep", "pac.poll"):
        [job] = service.container.job_queue().find(kind=kind)
        assert job.status is JobStatus.SUCCEEDED
    assert worker.run_once() == 0  # same slot: not again


def test_the_heartbeat_keeps_a_long_job_s_lease_and_only_for_its_claim(runner: Runner) -> None:
    started, proceed = threading.Event(), threading.Event()

    def long(job: Job) -> None:
        started.set()
        assert proceed.wait(30)

    job_id = runner.queue.enqueue("test.long")
    lease = timedelta(minutes=5)
    worker = runner.worker({"test.long": long}, concurrency=1, lease=lease, poll_interval=60)
    thread = threading.Thread(target=worker.run_until_stopped)
    thread.start()
    try:
        assert started.wait(30)
        runner.clock.advance(timedelta(minutes=4))
        assert worker.heartbeat() == 1
        assert runner.job(job_id).lease_until == runner.clock.now() + lease
        runner.clock.advance(timedelta(minutes=4))  # 8 minutes in: past the first lease, not the renewed one
        assert runner.queue.claim("other", limit=1, lease=lease) == []
    finally:
        proceed.set()
        worker.stop()
        thread.join(30)
    assert runner.job(job_id).status is JobStatus.SUCCEEDED
    assert worker.heartbeat() == 0  # nothing running any more


def test_a_stale_claim_cannot_renew_its_lease(runner: Runner) -> None:
    runner.queue.enqueue("test.k")
    lease = timedelta(minutes=1)
    [first] = runner.queue.claim("a", limit=1, lease=lease)
    runner.clock.advance(lease)
    [second] = runner.queue.claim("b", limit=1, lease=lease)
    assert runner.queue.extend(first, lease=lease) is False
    assert runner.queue.extend(second, lease=lease) is True


def test_racing_transactions_with_one_idempotency_key_make_one_job(runner: Runner) -> None:
    barrier = threading.Barrier(6)
    ids: list[str] = []
    errors: list[BaseException] = []

    def enqueue() -> None:
        try:
            uow = runner.uow()
            with uow:
                barrier.wait(30)
                ids.append(uow.jobs.enqueue("test.send", idempotency_key="message-1"))
                uow.commit()
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=enqueue) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert len(ids) == 6 and len(set(ids)) == 1
    assert runner.count(jobs_table) == 1


# --- the database away when the outcome is saved -------------------------------------------------


class FlakySaves:
    """The queue, with the database away for the first ``failures`` saves of an outcome."""

    def __init__(self, queue: SqlAlchemyJobQueue, failures: int) -> None:
        self.queue, self.failures, self.tries = queue, failures, 0

    def save(self, claimed: Job, outcome: Job) -> bool:
        self.tries += 1
        if self.failures:
            self.failures -= 1
            raise ConnectionError("the database went away")
        return self.queue.save(claimed, outcome)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.queue, name)


def test_an_outcome_the_database_could_not_take_is_saved_again_with_backoff_while_the_lease_is_renewed(
    runner: Runner,
) -> None:
    job_id = runner.queue.enqueue("test.send")
    queue = FlakySaves(runner.queue, failures=3)
    sent: list[str] = []
    pauses: list[float] = []
    renewed: list[int] = []

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        renewed.append(worker.heartbeat())  # the job is still in flight: its lease is renewed

    worker = Worker(queue, {"test.send": lambda job: sent.append(job.id)}, runner.clock, concurrency=1,
                    poll_interval=0.01, sleep=pause)
    loop = threading.Thread(target=worker._loop, args=(0,))
    loop.start()
    for _ in range(3000):
        if runner.job(job_id).status is JobStatus.SUCCEEDED:
            break
        threading.Event().wait(0.01)
    worker.stop()
    loop.join(30)
    assert sent == [job_id]  # run once, not again after a lease expired
    assert (runner.job(job_id).status, queue.tries) == (JobStatus.SUCCEEDED, 4)
    assert pauses == [0.1, 0.2, 0.4] and renewed == [1, 1, 1]


def test_a_worker_that_stops_while_the_database_is_away_gives_the_outcome_up(runner: Runner) -> None:
    job_id = runner.queue.enqueue("test.send")
    worker = Worker(FlakySaves(runner.queue, failures=10**6), {"test.send": lambda job: None}, runner.clock,
                    sleep=lambda seconds: worker.stop())
    [claimed] = runner.queue.claim("w", limit=1, lease=timedelta(minutes=5))
    assert worker.execute(claimed) is claimed  # nothing recorded
    assert runner.job(job_id).status is JobStatus.RUNNING  # run again once its lease expires
