"""One contract for the webhook inbox (``uow.webhook_events`` / ``uow.webhook_event_views``): the fake
unit of work and the SQLAlchemy one must agree, so the unit tests on the fakes mean what they say."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from adapters.db.jobs.queue import SqlAlchemyJobQueue
from adapters.db.uow import SqlAlchemyUnitOfWork
from application.jobs.ports import JobRequest
from application.shared.ports import UnitOfWork
from application.webhooks.views import WebhookEventCursor, WebhookEventFilter
from domain.jobs.model import Job, JobStatus
from domain.shared.model import new_id
from domain.tenancy.model import Tenant
from domain.webhooks.model import WebhookEvent, WebhookStatus
from tests.fakes.clock import FakeClock
from tests.fakes.uow import FakeStore, fake_uow_factory

T0 = datetime(2026, 12, 1, 10, 0, 0, 123456, tzinfo=UTC)


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


def event(provider_event_id: str, *, tenant_id: str | None = None, at: datetime = T0, provider: str = "polar") -> WebhookEvent:
    return WebhookEvent(
        id=new_id(), provider=provider, provider_event_id=provider_event_id, tenant_id=tenant_id, event_type="x.y",
        headers={"webhook-id": provider_event_id}, body=b'{"\xc3\xb1": 1}\x00\xff', received_at=at, updated_at=at,
    )


def processing(e: WebhookEvent) -> JobRequest:
    return JobRequest(kind="webhooks.process", payload={"event_id": e.id}, idempotency_key=e.job_key)


class InboxContract:
    @pytest.fixture
    def backend(self) -> Backend:
        raise NotImplementedError

    def test_an_event_reads_back_with_every_field_and_a_duplicate_names_it(self, backend: Backend) -> None:
        first = event("e1")
        with backend.uow(None) as uow:
            assert uow.webhook_events.add_if_absent(first, processing(first)) == (first.id, True)
            uow.commit()
        with backend.uow(None) as uow:
            again = event("e1")
            assert uow.webhook_events.add_if_absent(again, processing(again)) == (first.id, False)
            other = event("e1", provider="workos")
            assert uow.webhook_events.add_if_absent(other, processing(other))[1] is True
            stored = uow.webhook_events.get(first.id)
            uow.commit()
        assert stored == first
        # each new event has its one processing job; the duplicate queued none
        jobs = sorted(backend.jobs(), key=lambda job: job.idempotency_key or "")
        assert [(job.kind, job.payload, job.idempotency_key, job.status) for job in jobs] == [
            ("webhooks.process", {"event_id": first.id}, "webhook:polar:e1", JobStatus.QUEUED),
            ("webhooks.process", {"event_id": other.id}, "webhook:workos:e1", JobStatus.QUEUED),
        ]
        assert {job.tenant_id for job in jobs} == {None}

    def test_nothing_is_kept_without_a_commit(self, backend: Backend) -> None:
        with backend.uow(None) as uow:
            lost = event("e1")
            uow.webhook_events.add_if_absent(lost, processing(lost))
        with backend.uow(None) as uow:
            assert uow.webhook_event_views.find(WebhookEventFilter(), first=10, after=None) == []
        assert backend.jobs() == []

    def test_saving_changes_the_state_and_a_tenant_sees_only_its_own(self, backend: Backend) -> None:
        acme, globex = backend.tenant("acme"), backend.tenant("globex")
        mine, theirs, nobody = event("a", tenant_id=acme), event("g", tenant_id=globex), event("n")
        with backend.uow(None) as uow:
            for e in (mine, theirs, nobody):
                uow.webhook_events.add_if_absent(e, processing(e))
            uow.commit()
        queued = {job.payload["event_id"]: job.tenant_id for job in backend.jobs()}
        assert queued == {mine.id: acme, theirs.id: globex, nobody.id: None}  # each job is its event's tenant's
        done = replace(mine, status=WebhookStatus.PROCESSED, attempts=1, processed_at=T0 + timedelta(seconds=1), last_error="ok")
        with backend.uow(acme) as uow:
            assert uow.webhook_events.get(theirs.id) is None and uow.webhook_events.get_for_update(nobody.id) is None
            assert uow.webhook_events.get_for_update(mine.id) == mine
            uow.webhook_events.save(done)
            uow.commit()
        with backend.uow(acme) as uow:
            assert uow.webhook_events.get(mine.id) == done
            assert [v.id for v in uow.webhook_event_views.find(WebhookEventFilter(), first=10, after=None)] == [mine.id]
            assert uow.webhook_event_views.get(theirs.id) is None
            with pytest.raises(PermissionError):
                stray = event("x", tenant_id=globex)
                uow.webhook_events.add_if_absent(stray, processing(stray))
        with backend.uow(None) as uow:
            assert len(uow.webhook_event_views.find(WebhookEventFilter(), first=10, after=None)) == 3
            only = uow.webhook_event_views.find(WebhookEventFilter(tenant_id=globex), first=10, after=None)
            assert [v.id for v in only] == [theirs.id]

    def test_the_list_filters_and_pages_newest_first(self, backend: Backend) -> None:
        events = [event(f"e{i}", at=T0 + timedelta(minutes=i), provider="polar" if i % 2 else "workos") for i in range(6)]
        with backend.uow(None) as uow:
            for e in events:
                uow.webhook_events.add_if_absent(e, processing(e))
            uow.commit()
        with backend.uow(None) as uow:
            views = uow.webhook_event_views
            page = views.find(WebhookEventFilter(), first=4, after=None)
            assert [v.provider_event_id for v in page] == ["e5", "e4", "e3", "e2"]
            rest = views.find(WebhookEventFilter(), first=4, after=WebhookEventCursor.of(page[-1]))
            assert [v.provider_event_id for v in rest] == ["e1", "e0"]
            polar = views.find(WebhookEventFilter(provider="polar"), first=10, after=None)
            assert [v.provider_event_id for v in polar] == ["e5", "e3", "e1"]
            window = views.find(
                WebhookEventFilter(received_from=T0 + timedelta(minutes=1), received_to=T0 + timedelta(minutes=3)), first=10, after=None
            )
            assert [v.provider_event_id for v in window] == ["e2", "e1"]
            assert views.find(WebhookEventFilter(status=WebhookStatus.DEAD), first=10, after=None) == []


class TestFakeInbox(InboxContract):
    @pytest.fixture
    def backend(self) -> Backend:
        store = FakeStore()
        return Backend(fake_uow_factory(store, FakeClock(T0)), lambda: list(store.jobs.values()))


class TestSqlAlchemyInbox(InboxContract):
    @pytest.fixture
    def backend(self, engine: Engine) -> Backend:
        clock = FakeClock(T0)
        sessions = sessionmaker(bind=engine, expire_on_commit=False)
        queue = SqlAlchemyJobQueue(sessions, clock)
        return Backend(
            lambda tenant_id: SqlAlchemyUnitOfWork(tenant_id, session_factory=sessions, clock=clock),
            lambda: queue.find(limit=1000),
        )
