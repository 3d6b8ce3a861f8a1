"""The job runner's pure parts: backoff, state transitions, schedules' slots, outbox dedupe (fakes)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.jobs.errors import TransientJobError
from application.jobs.schedules import Schedule
from domain.jobs.model import (
    MAX_ERROR_LENGTH,
    Job,
    JobStateError,
    JobStatus,
    RetryPolicy,
    claimed,
    failed,
    failed_permanently,
    released,
    retried_by_hand,
    succeeded,
)
from tests.fakes.clock import FakeClock
from tests.fakes.uow import FakeStore, fake_uow_factory

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
POLICY = RetryPolicy(max_attempts=3, base=timedelta(seconds=5), cap=timedelta(minutes=10))


def _job(**changes: object) -> Job:
    values: dict[str, object] = {
        "id": "00000000-0000-0000-0000-000000000001", "tenant_id": None, "kind": "test.kind",
        "run_at": NOW, "created_at": NOW, "updated_at": NOW, "max_attempts": 3,
    }
    values.update(changes)
    return Job(**values)  # type: ignore[arg-type]


def _running(**changes: object) -> Job:
    return claimed(_job(**changes), worker="w1", now=NOW, lease=timedelta(minutes=5))


# --- backoff ----------------------------------------------------------------------------------


def test_the_backoff_ceiling_doubles_per_attempt_up_to_the_cap() -> None:
    ceilings = [POLICY.ceiling(attempt).total_seconds() for attempt in range(1, 10)]
    assert ceilings[:4] == [5, 10, 20, 40]
    assert max(ceilings) == 600 and ceilings[-1] == 600
    assert ceilings == sorted(ceilings)


@given(attempt=st.integers(min_value=1, max_value=10_000), seed=st.integers())
def test_full_jitter_stays_within_zero_and_the_ceiling(attempt: int, seed: int) -> None:
    delay = POLICY.delay(attempt, rng=random.Random(seed))
    assert timedelta(0) <= delay <= POLICY.ceiling(attempt) <= POLICY.cap


def test_jitter_spreads_delays_over_the_range() -> None:
    rng = random.Random(7)
    delays = [POLICY.delay(4, rng=rng).total_seconds() for _ in range(500)]
    assert min(delays) < 40 * 0.1 and max(delays) > 40 * 0.9  # spread, not a constant


@given(retry_after=st.integers(min_value=0, max_value=100_000), seed=st.integers())
def test_retry_after_is_a_floor_even_beyond_the_cap(retry_after: int, seed: int) -> None:
    delay = POLICY.delay(1, retry_after=timedelta(seconds=retry_after), rng=random.Random(seed))
    assert delay >= timedelta(seconds=retry_after)
    assert delay <= max(timedelta(seconds=retry_after), POLICY.ceiling(1))


def test_transient_error_takes_retry_after_in_seconds() -> None:
    assert TransientJobError("429", retry_after=30).retry_after == timedelta(seconds=30)
    assert TransientJobError("timeout").retry_after is None


# --- transitions ------------------------------------------------------------------------------


def test_claiming_starts_an_attempt_under_a_lease() -> None:
    job = _running()
    assert (job.status, job.attempts, job.claimed_by) == (JobStatus.RUNNING, 1, "w1")
    assert job.lease_until == NOW + timedelta(minutes=5)
    with pytest.raises(JobStateError):
        claimed(job, worker="w2", now=NOW + timedelta(minutes=4), lease=timedelta(minutes=5))
    again = claimed(job, worker="w2", now=NOW + timedelta(minutes=5), lease=timedelta(minutes=5))
    assert (again.claimed_by, again.attempts) == ("w2", 2)


def test_success_finishes_the_job() -> None:
    done = succeeded(_running(), now=NOW)
    assert (done.status, done.finished_at, done.claimed_by, done.lease_until) == (
        JobStatus.SUCCEEDED, NOW, None, None,
    )
    with pytest.raises(JobStateError):
        succeeded(done, now=NOW)


def test_a_transient_failure_queues_again_after_the_backoff_then_dies() -> None:
    first = failed(_running(), reason="timeout", now=NOW, policy=POLICY, rng=random.Random(1))
    assert first.status is JobStatus.QUEUED and first.attempts == 1 and first.last_error == "timeout"
    assert NOW <= first.run_at <= NOW + POLICY.ceiling(1)
    third = failed(_running(attempts=2), reason="5xx", now=NOW, policy=POLICY)
    assert (third.status, third.attempts, third.finished_at) == (JobStatus.DEAD, 3, NOW)


def test_the_job_s_own_max_attempts_wins_over_the_policy() -> None:
    job = _running(max_attempts=1)
    assert failed(job, reason="x", now=NOW, policy=POLICY).status is JobStatus.DEAD


def test_a_permanent_failure_stops_at_once_with_its_reason() -> None:
    job = failed_permanently(_running(), reason="invalid address", now=NOW)
    assert (job.status, job.last_error, job.attempts) == (JobStatus.FAILED, "invalid address", 1)


def test_errors_are_kept_short_and_on_one_line() -> None:
    job = failed_permanently(_running(), reason="a\nb " + "x" * 5000, now=NOW)
    assert job.last_error is not None and "\n" not in job.last_error
    assert len(job.last_error) == MAX_ERROR_LENGTH


def test_release_gives_the_attempt_back() -> None:
    job = released(_running(attempts=1), now=NOW + timedelta(seconds=3))
    assert (job.status, job.attempts, job.run_at, job.claimed_by) == (
        JobStatus.QUEUED, 1, NOW + timedelta(seconds=3), None,
    )


def test_only_failed_or_dead_jobs_are_retried_by_hand_with_attempts_reset() -> None:
    dead = failed(_running(attempts=2), reason="5xx", now=NOW, policy=POLICY)
    again = retried_by_hand(dead, now=NOW + timedelta(hours=1))
    assert (again.status, again.attempts, again.run_at, again.finished_at) == (
        JobStatus.QUEUED, 0, NOW + timedelta(hours=1), None,
    )
    with pytest.raises(JobStateError):
        retried_by_hand(again, now=NOW)
    with pytest.raises(JobStateError):
        retried_by_hand(succeeded(_running(), now=NOW), now=NOW)


def test_the_dedupe_key_is_the_idempotency_key_or_the_job_id() -> None:
    assert _job(idempotency_key="email:42").dedupe_key == "email:42"
    assert _job().dedupe_key == "job:00000000-0000-0000-0000-000000000001"


# --- schedules --------------------------------------------------------------------------------


def test_schedule_slots_are_aligned_and_shared_within_an_interval() -> None:
    hourly = Schedule(kind="files.gc", interval=timedelta(hours=1))
    at = datetime(2026, 11, 24, 12, 34, 56, tzinfo=UTC)
    assert hourly.slot(at) == datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert hourly.slot_key(at) == "schedule:files.gc:2026-11-24T12:00:00Z"
    assert hourly.slot_key(at + timedelta(minutes=25)) == hourly.slot_key(at)
    assert hourly.slot_key(at + timedelta(minutes=26)) == "schedule:files.gc:2026-11-24T13:00:00Z"


@given(
    seconds=st.integers(min_value=1, max_value=86_400 * 7),
    moment=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
)
def test_every_moment_falls_in_exactly_the_slot_that_starts_before_it(seconds: int, moment: datetime) -> None:
    schedule = Schedule(kind="k", interval=timedelta(seconds=seconds))
    start = schedule.slot(moment)
    assert start <= moment < start + timedelta(seconds=seconds)
    assert schedule.slot(start) == start


def test_a_schedule_needs_an_interval_of_a_second_at_least() -> None:
    with pytest.raises(ValueError):
        Schedule(kind="k", interval=timedelta(milliseconds=10))


# --- the outbox on the fake unit of work (mirrors the SQL one, see test_jobs_runner) --------------


def test_the_fake_outbox_commits_with_the_unit_of_work_and_dedupes_by_key() -> None:
    store = FakeStore()
    uow_factory = fake_uow_factory(store, FakeClock())
    uow = uow_factory(None)
    with uow:
        uow.jobs.enqueue("test.kind", {"n": 1})
    assert store.jobs == {}  # not committed: rolled back with the unit of work

    with uow:
        first = uow.jobs.enqueue("test.kind", {"n": 1}, idempotency_key="k1")
        same = uow.jobs.enqueue("test.kind", {"n": 2}, idempotency_key="k1")
        other_kind = uow.jobs.enqueue("other.kind", idempotency_key="k1")
        uow.commit()
    assert first == same != other_kind
    with uow:
        assert uow.jobs.enqueue("test.kind", idempotency_key="k1") == first
        uow.commit()
    assert len(store.jobs) == 2
    assert store.jobs[first].payload == {"n": 1}
