"""One contract for the job outbox (``uow.jobs``): the fake unit of work and the SQLAlchemy one
must agree, so unit tests that queue jobs on the fakes mean what they say."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from adapters.db.jobs.queue import SqlAlchemyJobQueue
from adapters.db.uow import SqlAlchemyUnitOfWork
from application.shared.ports import UnitOfWork
from domain.jobs.model import Job, JobStatus
from domain.tenancy.model import Tenant
from tests.fakes.clock import FakeClock
from tests.fakes.uow import FakeStore, fake_uow_factory

T0 = datetime(2026, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)


@dataclass
class Backend:
    uow: Callable[[str | None], UnitOfWork]
    jobs: Callable[[], list[Job]]

    def tenant(self, slug: str) -> str:
        with self.uow(None) as uow:
            tenant = Tenant.create(slug=slug, name=slug.title(), now=T0)
            uow.tenants.add(tenant)
            uow.commit()
        return tenant.id


class OutboxContract:
    @pytest.fixture
    def backend(self) -> Backend:
        raise NotImplementedError

    def test_a_committed_job_reads_back_queued_with_its_fields(self, backend: Backend) -> None:
        acme = backend.tenant("acme")
        with backend.uow(acme) as uow:
            job_id = uow.jobs.enqueue(
                "test.kind", {"to": ["a@b.pa"], "n": 1}, idempotency_key="k", run_at=T0 + timedelta(hours=1)
            )
            uow.commit()
        [job] = backend.jobs()
        assert (job.id, job.tenant_id, job.kind, job.payload, job.idempotency_key) == (
            job_id, acme, "test.kind", {"to": ["a@b.pa"], "n": 1}, "k",
        )
        assert (job.status, job.attempts, job.max_attempts, job.run_at) == (
            JobStatus.QUEUED, 0, 8, T0 + timedelta(hours=1),
        )
        assert (job.created_at, job.updated_at, job.finished_at, job.claimed_by) == (T0, T0, None, None)

    def test_a_job_not_committed_is_not_queued(self, backend: Backend) -> None:
        with backend.uow(None) as uow:
            uow.jobs.enqueue("test.kind")
        assert backend.jobs() == []

    def test_one_job_per_kind_and_idempotency_key(self, backend: Backend) -> None:
        with backend.uow(None) as uow:
            first = uow.jobs.enqueue("test.kind", idempotency_key="k", max_attempts=2)
            assert uow.jobs.enqueue("test.kind", idempotency_key="k") == first
            other = uow.jobs.enqueue("other.kind", idempotency_key="k")
            uow.commit()
        with backend.uow(None) as uow:
            assert uow.jobs.enqueue("test.kind", idempotency_key="k") == first
            uow.jobs.enqueue("test.kind")
            uow.jobs.enqueue("test.kind")
            uow.commit()
        jobs = {job.id: job for job in backend.jobs()}
        assert len(jobs) == 4 and other in jobs and jobs[first].max_attempts == 2

    def test_a_tenant_s_unit_of_work_queues_for_its_tenant_only(self, backend: Backend) -> None:
        acme, globex = backend.tenant("acme"), backend.tenant("globex")
        with backend.uow(acme) as uow:
            with pytest.raises(PermissionError):
                uow.jobs.enqueue("test.kind", tenant_id=globex)
            uow.jobs.enqueue("test.kind", tenant_id=acme)
            uow.commit()
        with backend.uow(None) as uow:
            uow.jobs.enqueue("test.kind", tenant_id=globex)
            uow.jobs.enqueue("test.system")
            uow.commit()
        assert sorted((job.kind, job.tenant_id or "") for job in backend.jobs()) == sorted(
            [("test.kind", acme), ("test.kind", globex), ("test.system", "")]
        )


class TestFakeOutbox(OutboxContract):
    @pytest.fixture
    def backend(self) -> Backend:
        store = FakeStore()
        return Backend(fake_uow_factory(store, FakeClock(T0)), lambda: list(store.jobs.values()))


class TestSqlAlchemyOutbox(OutboxContract):
    @pytest.fixture
    def backend(self, engine: Engine) -> Backend:
        clock = FakeClock(T0)
        sessions = sessionmaker(bind=engine, expire_on_commit=False)
        queue = SqlAlchemyJobQueue(sessions, clock)

        def uow(tenant_id: str | None) -> UnitOfWork:
            return SqlAlchemyUnitOfWork(tenant_id, session_factory=sessions, clock=clock)

        return Backend(uow, lambda: queue.find(limit=1000))
