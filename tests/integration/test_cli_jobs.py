"""``istmo jobs list`` / ``istmo jobs retry`` and ``istmo worker``, on a fresh SQLite data dir."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, update
from sqlalchemy.orm import sessionmaker

from adapters.clock import SystemClock
from adapters.db.jobs.queue import SqlAlchemyJobQueue
from adapters.db.jobs.tables import jobs
from domain.jobs.model import JobStatus
from entrypoints.cli import main


class Cli:
    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.runner = CliRunner()
        self.engine = create_engine(database_url)
        self.queue = SqlAlchemyJobQueue(sessionmaker(bind=self.engine), SystemClock())

    def __call__(self, *args: str) -> Result:
        return self.runner.invoke(main, list(args), catch_exceptions=False)

    def ok(self, *args: str) -> Result:
        result = self(*args)
        assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
        return result

    def listed(self, *args: str) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.ok("jobs", "list", *args).stdout.splitlines()]

    def set_status(self, job_id: str, status: JobStatus) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(jobs).where(jobs.c.id == job_id).values(status=status, attempts=8, last_error="timeout")
            )


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    for name in list(os.environ):
        if name.startswith("ISTMO_"):
            monkeypatch.delenv(name)
    database_url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("ISTMO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ISTMO_DATABASE_URL", database_url)
    monkeypatch.setenv("ISTMO_LOG_FORMAT", "json")
    monkeypatch.setenv("ISTMO_LOG_LEVEL", "WARNING")
    cli = Cli(database_url)
    cli.ok("db", "upgrade")
    yield cli
    cli.engine.dispose()


def test_jobs_list_shows_jobs_newest_first_without_payloads_and_filters_by_status(cli: Cli) -> None:
    assert cli.listed() == []
    older = cli.queue.enqueue("emails.send", {"to": "secret@example.com"})
    newer = cli.queue.enqueue("files.gc")
    cli.set_status(older, JobStatus.DEAD)

    listed = cli.listed()
    assert [job["id"] for job in listed] == [newer, older]
    assert all("payload" not in job for job in listed)
    assert "secret@example.com" not in cli.ok("jobs", "list").stdout
    dead = cli.listed("--status", "dead")
    assert [(job["id"], job["status"], job["lastError"]) for job in dead] == [(older, "DEAD", "timeout")]
    assert [job["id"] for job in cli.listed("--status", "QUEUED")] == [newer]


def test_jobs_retry_requeues_a_dead_job_and_refuses_others_clearly(cli: Cli) -> None:
    dead = cli.queue.enqueue("emails.send")
    queued = cli.queue.enqueue("emails.send")
    cli.set_status(dead, JobStatus.DEAD)

    result = cli.ok("jobs", "retry", dead)
    assert f"job {dead} queued again" in result.stderr
    job = cli.queue.get(dead)
    assert job is not None and (job.status, job.attempts) == (JobStatus.QUEUED, 0)

    refused = cli("jobs", "retry", queued)
    assert refused.exit_code != 0 and "only FAILED or DEAD" in refused.stderr
    missing = cli("jobs", "retry", "00000000-0000-0000-0000-000000000000")
    assert missing.exit_code != 0 and "not found" in missing.stderr
    bad = cli("jobs", "retry", "nope")
    assert bad.exit_code != 0 and "not a valid id" in bad.stderr
    assert "Traceback" not in refused.output + missing.output + bad.output


def test_istmo_worker_runs_the_schedule_and_stops_gracefully_on_sigterm(cli: Cli, tmp_path: Path) -> None:
    env = {**os.environ, "ISTMO_WORKER_CONCURRENCY": "2"}
    istmo = Path(sys.executable).with_name("istmo")
    process = subprocess.Popen(
        [str(istmo), "worker", "--concurrency", "1"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while not [j for j in cli.queue.find(kind="files.gc") if j.status is JobStatus.SUCCEEDED]:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the worker did not run the files.gc schedule"
            time.sleep(0.05)  # another process: poll the database
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_serve_with_worker_needs_dev(cli: Cli) -> None:
    result = cli("serve", "--with-worker")
    assert result.exit_code != 0 and "--with-worker needs --dev" in result.stderr


def test_jobs_list_pages_through_any_number(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    import entrypoints.cli as cli_module

    monkeypatch.setattr(cli_module, "_PAGE", 3)
    ids = [cli.queue.enqueue("files.gc", idempotency_key=f"k{n}") for n in range(8)]
    newest_first = list(reversed(ids))
    assert [job["id"] for job in cli.listed("--limit", "5000")] == newest_first  # past the old cap of 1,000
    first = cli.ok("jobs", "list", "--limit", "5")
    assert [json.loads(line)["id"] for line in first.stdout.splitlines()] == newest_first[:5]
    assert first.stderr.strip() == f"more may follow: --after {newest_first[4]}"
    assert [job["id"] for job in cli.listed("--after", newest_first[4])] == newest_first[5:]
    assert cli.listed("--after", newest_first[-1]) == []
