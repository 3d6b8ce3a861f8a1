"""Worker processes against one database: no job runs twice while workers live, and a worker
killed mid-batch loses nothing (its claimed jobs run again once their lease has expired).

The runner guarantees at-least-once delivery: a job RUNNING when its worker died has maybe run,
and runs again after its lease. Handlers dedupe with ``job.dedupe_key``; the email and WhatsApp
domains build their UNCERTAIN state on this.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Column, Engine, Float, Integer, MetaData, String, Table, insert, select
from sqlalchemy.orm import sessionmaker

from adapters.clock import SystemClock
from adapters.db.engine import build_engine
from adapters.db.jobs.queue import SqlAlchemyJobQueue
from adapters.db.jobs.tables import jobs
from domain.jobs.model import JobStatus

_runs_metadata = MetaData()
runs = Table(
    "test_job_runs",
    _runs_metadata,
    Column("n", Integer, primary_key=True, autoincrement=True),
    Column("job_id", String(36), nullable=False),
    Column("worker", String(200), nullable=False),
    Column("at", Float, nullable=False),
)

KIND = "test.record"


def _worker_process(
    url: str, concurrency: int, lease_seconds: float, delay: float, hold_after: int | None, ready: Any
) -> None:
    """A worker process: every run of a job is recorded (in its own transaction) before it returns.

    With ``hold_after``, the runs after that many hang once recorded (until the process is
    killed), so a kill is sure to catch jobs mid-run however loaded the machine is."""
    import itertools
    from adapters.db.uow import SqlAlchemyUnitOfWork  # noqa: F401 - imports as `istmo worker` does
    from application.jobs.worker import Worker
    from domain.jobs.model import Job
    from entrypoints.worker import run_worker_process

    engine = build_engine(url)
    clock = SystemClock()
    queue = SqlAlchemyJobQueue(sessionmaker(bind=engine), clock)
    name = f"proc-{os.getpid()}"
    counter = itertools.count(1)  # next() is atomic under the GIL: one number per run

    def record(job: Job) -> None:
        with engine.begin() as connection:
            connection.execute(insert(runs).values(job_id=job.id, worker=name, at=time.time()))
        if hold_after is not None and next(counter) > hold_after:
            time.sleep(600)  # mid-run until SIGKILL
        if delay:
            time.sleep(delay)  # simulated work: the provider call a real handler makes

    worker = Worker(
        queue, {KIND: record}, clock, concurrency=concurrency, lease=timedelta(seconds=lease_seconds),
        poll_interval=0.05, grace=10, name=name,
    )
    ready.set()
    run_worker_process(worker)
    engine.dispose()


class Processes:
    def __init__(self, url: str, engine: Engine) -> None:
        self.url = url
        self.engine = engine
        self.context = multiprocessing.get_context("spawn")
        self.started: list[Any] = []
        self.queue = SqlAlchemyJobQueue(sessionmaker(bind=engine), SystemClock())

    def start(
        self, *, concurrency: int = 4, lease_seconds: float = 300, delay: float = 0.0, hold_after: int | None = None
    ) -> Any:
        ready = self.context.Event()
        process = self.context.Process(
            target=_worker_process,
            args=(self.url, concurrency, lease_seconds, delay, hold_after, ready),
            daemon=True,
        )
        process.start()
        self.started.append(process)
        assert ready.wait(60), "the worker process did not start"
        return process

    def enqueue(self, count: int) -> list[str]:
        return [self.queue.enqueue(KIND, {"n": n}) for n in range(count)]

    def statuses(self) -> Counter[str]:
        with self.engine.connect() as connection:
            return Counter(str(s) for s in connection.execute(select(jobs.c.status)).scalars())

    def runs(self) -> list[Any]:
        with self.engine.connect() as connection:
            return list(connection.execute(select(runs).order_by(runs.c.n)))

    def wait_until(self, condition: Callable[[], bool], *, timeout: float = 120) -> None:
        """Polls the database: the workers are other processes, there is nothing to join on."""
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, "timed out waiting for the workers"
            time.sleep(0.05)

    def stop_all(self) -> None:
        for process in self.started:
            if process.is_alive():
                os.kill(process.pid, signal.SIGTERM)
        for process in self.started:
            process.join(30)
            if process.is_alive():
                process.kill()
                process.join(5)


@pytest.fixture
def processes(engine: Engine, database_url: str) -> Iterator[Processes]:
    _runs_metadata.create_all(engine)
    procs = Processes(database_url, engine)
    try:
        yield procs
    finally:
        procs.stop_all()
        _runs_metadata.drop_all(engine)


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_worker_processes_run_each_of_300_jobs_exactly_once(processes: Processes) -> None:
    first, second = processes.start(delay=0.005), processes.start(delay=0.005)
    ids = processes.enqueue(300)

    processes.wait_until(lambda: processes.statuses()[JobStatus.SUCCEEDED] == 300)
    processes.stop_all()

    assert first.exitcode == 0 and second.exitcode == 0  # SIGTERM: a graceful stop
    recorded = processes.runs()
    assert Counter(run.job_id for run in recorded) == Counter(ids)  # each job once, none twice
    assert len({run.worker for run in recorded}) == 2  # both processes took part
    assert processes.statuses() == Counter({JobStatus.SUCCEEDED: 300})


def test_a_worker_killed_mid_batch_loses_nothing_and_reruns_only_after_the_lease(
    processes: Processes,
) -> None:
    lease = 2.0
    ids = processes.enqueue(200)
    doomed = processes.start(concurrency=4, lease_seconds=lease, delay=0.02, hold_after=40)
    # 40 runs finish; the next 4 (one per thread) are recorded and then hang: mid-run for sure.
    processes.wait_until(lambda: len(processes.runs()) >= 44)
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.join(30)
    assert doomed.exitcode == -signal.SIGKILL

    with processes.engine.connect() as connection:
        running = {
            row.id: row.lease_until
            for row in connection.execute(select(jobs.c.id, jobs.c.lease_until).where(jobs.c.status == "RUNNING"))
        }
    left = processes.statuses()
    assert len(running) == 4, "the kill catches one job mid-run in each of the 4 threads"
    assert left[JobStatus.QUEUED] > 0 and left[JobStatus.SUCCEEDED] > 0  # mid-way, really

    processes.start(concurrency=4, lease_seconds=lease)
    processes.wait_until(lambda: processes.statuses()[JobStatus.SUCCEEDED] == 200)

    runs_of: dict[str, list[Any]] = {}
    for run in processes.runs():
        runs_of.setdefault(run.job_id, []).append(run)
    assert set(runs_of) == set(ids)  # nothing lost
    for job_id, job_runs in runs_of.items():
        if job_id in running:
            # at least once: run again, by the new worker, and not before the lease expired
            assert job_runs[-1].worker != f"proc-{doomed.pid}"
            assert job_runs[-1].at >= running[job_id].timestamp()
        else:
            assert len(job_runs) == 1, f"job {job_id} was not running at the kill but ran twice"
