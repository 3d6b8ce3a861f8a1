"""The webhook inbox through the bus with in-memory fakes: receive, dedupe, process, fail, replay, list."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.storage.mime import SniffingMimeDetector
from application.modules import build_message_bus
from application.files.commands import FilePolicy
from application.jobs.errors import PermanentJobError, TransientJobError
from application.tenancy.handlers import CreateTenant
from application.webhooks.commands import (
    PROCESS_JOB,
    FindWebhookEvents,
    ListWebhookEvents,
    ReceiveWebhook,
    ReplayWebhookEvent,
)
from application.webhooks.ports import WebhookOutcome
from application.webhooks.processing import WebhookJob
from application.webhooks.views import WebhookEventView
from domain.jobs.model import Job, claimed
from domain.shared.errors import DomainError
from domain.tenancy.model import Actor, Role
from domain.webhooks.model import WebhookStatus, stored_headers
from tests.fakes.clock import FakeClock
from tests.fakes.storage import FakeFileStorage
from tests.fakes.uow import FakeStore, fake_uow_factory


class Recorder:
    """A processor whose next answers the test sets; it records every event it was given."""

    def __init__(self) -> None:
        self.seen: list[WebhookEventView] = []
        self.answers: list[Any] = []

    def __call__(self, event: WebhookEventView) -> WebhookOutcome:
        self.seen.append(event)
        answer = self.answers.pop(0) if self.answers else WebhookOutcome.processed()
        if isinstance(answer, Exception):
            raise answer
        return answer


class World:
    def __init__(self, max_attempts: int = 3) -> None:
        self.clock = FakeClock()
        self.store = FakeStore()
        self.bus = build_message_bus(
            uow_factory=fake_uow_factory(self.store, self.clock),
            storage=FakeFileStorage(self.clock),
            mime=SniffingMimeDetector(),
            clock=self.clock,
            file_policy=FilePolicy(),
        )
        self.processor = Recorder()
        self.job_handler = WebhookJob(self.bus, {"test": self.processor})
        self.max_attempts = max_attempts

    def tenant(self, slug: str, role: Role = Role.OWNER) -> Actor:
        created = self.bus.handle(CreateTenant(actor=None, slug=slug, name=slug.title(), exist_ok=True))
        return Actor(tenant_id=created.tenant_id, user_id=f"u@{slug}", role=role)

    def receive(self, event_id: str = "evt_1", *, tenant_id: str | None = None, provider: str = "test", **kw: Any) -> Any:
        return self.bus.handle(
            ReceiveWebhook(
                actor=None, provider=provider, provider_event_id=event_id, tenant_id=tenant_id,
                headers=kw.pop("headers", {"Content-Type": "application/json"}), body=kw.pop("body", b'{"a":1}'), **kw,
            )
        )

    def jobs(self) -> list[Job]:
        return [job for job in self.store.jobs.values() if job.kind == PROCESS_JOB]

    def run(self, job: Job, attempt: int = 1) -> None:
        """Run one attempt of ``job`` as the worker would (the attempt counted on the job)."""
        running = claimed(replace(job, attempts=attempt - 1, max_attempts=self.max_attempts), worker="w", now=self.clock.now(), lease=timedelta(minutes=5))
        self.job_handler(running)

    def event(self, event_id: str) -> Any:
        return self.store.webhook_events[event_id]


@pytest.fixture
def world() -> World:
    return World()


def test_a_delivery_is_stored_with_its_processing_job_in_one_commit(world: World) -> None:
    commits = world.store.commits
    received = world.receive(headers={"Webhook-Id": "evt_1", "Authorization": "Bearer x", "X-Pac-Signature": "s3cret"})
    assert received.duplicate is False
    assert world.store.commits == commits + 1
    event = world.event(received.event_id)
    assert (event.provider, event.provider_event_id, event.status, event.attempts) == ("test", "evt_1", WebhookStatus.RECEIVED, 0)
    assert event.headers == {"webhook-id": "evt_1"}  # credentials are never stored
    [job] = world.jobs()
    assert job.payload == {"event_id": received.event_id}  # ids, never the body
    assert job.idempotency_key == "webhook:test:evt_1"


def test_a_duplicate_delivery_creates_nothing_and_names_the_stored_event(world: World) -> None:
    first = world.receive()
    commits = world.store.commits
    again = world.receive(body=b'{"different": true}')
    assert again.duplicate is True and again.event_id == first.event_id
    assert world.store.commits == commits
    assert len(world.store.webhook_events) == 1 and len(world.jobs()) == 1
    assert world.event(first.event_id).body == b'{"a":1}'


def test_the_same_event_id_from_two_providers_is_two_events(world: World) -> None:
    world.receive("evt_1", provider="test")
    world.receive("evt_1", provider="other")
    assert len(world.store.webhook_events) == 2 and len(world.jobs()) == 2


def test_bad_identifiers_are_refused_naming_the_field(world: World) -> None:
    with pytest.raises(DomainError) as refused:
        world.receive("")
    assert refused.value.field == "providerEventId"
    with pytest.raises(DomainError) as refused:
        world.receive("x", provider="Not A Provider!")
    assert refused.value.field == "provider"
    assert world.store.webhook_events == {} and world.jobs() == []


def test_a_processed_event_is_finished_and_its_job_does_nothing_when_it_runs_again(world: World) -> None:
    received = world.receive()
    [job] = world.jobs()
    world.run(job)
    event = world.event(received.event_id)
    assert (event.status, event.attempts, event.last_error) == (WebhookStatus.PROCESSED, 1, None)
    assert event.processed_at == world.clock.now()
    world.run(job, attempt=2)  # at least once: a second run of the job finds the event finished
    assert len(world.processor.seen) == 1


def test_an_unmatched_event_keeps_its_reason_and_the_tenant_the_processor_found(world: World) -> None:
    acme = world.tenant("acme")
    received = world.receive()
    world.processor.answers = [WebhookOutcome.unmatched("no invoice with document id d-1", tenant_id=acme.tenant_id)]
    world.run(world.jobs()[0])
    event = world.event(received.event_id)
    assert (event.status, event.last_error, event.tenant_id) == (WebhookStatus.UNMATCHED, "no invoice with document id d-1", acme.tenant_id)


def test_a_permanent_failure_marks_the_event_failed_with_the_reason(world: World) -> None:
    received = world.receive()
    world.processor.answers = [PermanentJobError("the body is not JSON")]
    with pytest.raises(PermanentJobError):
        world.run(world.jobs()[0])
    event = world.event(received.event_id)
    assert (event.status, event.last_error) == (WebhookStatus.FAILED, "the body is not JSON")


def test_a_domain_error_from_a_processor_is_a_permanent_failure(world: World) -> None:
    from domain.shared.errors import InvalidInput

    received = world.receive()
    world.processor.answers = [InvalidInput("unknown legal status 'X'", field="legalStatus")]
    with pytest.raises(PermanentJobError):
        world.run(world.jobs()[0])
    assert world.event(received.event_id).status is WebhookStatus.FAILED
    assert "unknown legal status" in (world.event(received.event_id).last_error or "")


def test_transient_failures_are_retried_then_dead_then_replayed_successfully(world: World) -> None:
    received = world.receive()
    [job] = world.jobs()
    world.processor.answers = [TransientJobError("PAC timed out"), RuntimeError("boom"), TransientJobError("PAC 503")]
    with pytest.raises(TransientJobError):
        world.run(job, attempt=1)
    event = world.event(received.event_id)
    assert (event.status, event.attempts, event.last_error) == (WebhookStatus.RECEIVED, 1, "PAC timed out")
    with pytest.raises(RuntimeError):
        world.run(job, attempt=2)
    assert world.event(received.event_id).last_error == "RuntimeError: boom"
    with pytest.raises(TransientJobError):
        world.run(job, attempt=3)  # the last attempt
    event = world.event(received.event_id)
    assert (event.status, event.attempts, event.last_error) == (WebhookStatus.DEAD, 3, "PAC 503")

    replayed = world.bus.handle(ReplayWebhookEvent(actor=None, event_id=received.event_id))
    assert (replayed.status, replayed.attempts, replayed.replays, replayed.last_error) == (WebhookStatus.RECEIVED, 0, 1, None)
    jobs = world.jobs()
    assert len(jobs) == 2
    replay_job = next(j for j in jobs if j.id != job.id)
    assert replay_job.idempotency_key == "webhook:test:evt_1:replay:1"
    world.run(replay_job)
    assert world.event(received.event_id).status is WebhookStatus.PROCESSED
    assert len(world.processor.seen) == 4


def test_an_event_still_being_processed_cannot_be_replayed(world: World) -> None:
    received = world.receive()
    with pytest.raises(DomainError) as refused:
        world.bus.handle(ReplayWebhookEvent(actor=None, event_id=received.event_id))
    assert refused.value.code == "WEBHOOK_EVENT_BUSY"
    assert len(world.jobs()) == 1


def test_an_event_of_a_provider_without_processor_fails_with_the_reason(world: World) -> None:
    received = world.receive(provider="nobody")
    with pytest.raises(PermanentJobError):
        world.run(world.jobs()[0])
    event = world.event(received.event_id)
    assert event.status is WebhookStatus.FAILED and "no processor" in (event.last_error or "")


def test_owners_and_admins_see_and_replay_their_tenant_events_only(world: World) -> None:
    acme, globex = world.tenant("acme"), world.tenant("globex")
    mine = world.receive("a-1", tenant_id=acme.tenant_id)
    theirs = world.receive("g-1", tenant_id=globex.tenant_id)
    world.receive("none-1")  # no tenant yet: operators only
    for job in world.jobs():
        world.run(job)
    page = world.bus.handle(FindWebhookEvents(actor=acme))
    assert [e.id for e in page.items] == [mine.event_id]
    with pytest.raises(DomainError) as refused:
        world.bus.handle(ReplayWebhookEvent(actor=acme, event_id=theirs.event_id))
    assert refused.value.code == "WEBHOOK_EVENT_NOT_FOUND"
    member = Actor(tenant_id=acme.tenant_id, user_id="m", role=Role.MEMBER)
    for message in (FindWebhookEvents(actor=member), ReplayWebhookEvent(actor=member, event_id=mine.event_id)):
        with pytest.raises(DomainError) as refused:
            world.bus.handle(message)
        assert refused.value.code == "PERMISSION_DENIED"
    assert world.bus.handle(ReplayWebhookEvent(actor=acme, event_id=mine.event_id)).replays == 1
    assert len(world.bus.handle(ListWebhookEvents(actor=None))) == 3


def test_the_list_filters_and_pages_newest_first(world: World) -> None:
    acme = world.tenant("acme")
    ids = []
    for index in range(5):
        ids.append(world.receive(f"e-{index}", tenant_id=acme.tenant_id, provider="polar" if index % 2 else "test").event_id)
        world.clock.advance(timedelta(minutes=1))
    newest_first = list(reversed(ids))
    first = world.bus.handle(FindWebhookEvents(actor=acme, first=2))
    assert [e.id for e in first.items] == newest_first[:2] and first.has_next_page
    second = world.bus.handle(FindWebhookEvents(actor=acme, first=2, after=first.end_cursor))
    third = world.bus.handle(FindWebhookEvents(actor=acme, first=2, after=second.end_cursor))
    assert [e.id for e in second.items + third.items] == newest_first[2:] and not third.has_next_page
    polar = world.bus.handle(FindWebhookEvents(actor=acme, provider="polar"))
    assert [e.id for e in polar.items] == [ids[3], ids[1]]
    start = world.store.webhook_events[ids[1]].received_at
    window = world.bus.handle(FindWebhookEvents(actor=acme, received_from=start, received_to=start + timedelta(minutes=2)))
    assert [e.id for e in window.items] == [ids[2], ids[1]]
    received = world.bus.handle(FindWebhookEvents(actor=acme, status="received"))
    assert len(received.items) == 5
    for bad, field in (({"status": "LOST"}, "status"), ({"after": "nope"}, "cursor"), ({"first": 0}, "first")):
        with pytest.raises(DomainError) as refused:
            world.bus.handle(FindWebhookEvents(actor=acme, **bad))
        assert refused.value.field == field


@given(names=st.lists(st.text(min_size=1, max_size=30), max_size=20))
def test_stored_headers_never_keep_a_credential(names: list[str]) -> None:
    secret_names = ["Authorization", "Cookie", "X-Api-Key", "X-Pac-Signature", "X-Webhook-Secret", "X-Token"]
    kept = stored_headers({**{n: "v" for n in names}, **{n: "hidden" for n in secret_names}})
    assert "hidden" not in kept.values()
    assert all(k == k.lower() for k in kept)


@given(deliveries=st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=30))
def test_any_sequence_of_deliveries_leaves_one_event_and_one_job_per_id(deliveries: list[str]) -> None:
    world = World()
    results = [world.receive(event_id) for event_id in deliveries]
    assert len(world.store.webhook_events) == len(set(deliveries)) == len(world.jobs())
    first_id = {}
    for event_id, result in zip(deliveries, results, strict=True):
        assert result.event_id == first_id.setdefault(event_id, result.event_id)
        assert result.duplicate is (result is not results[deliveries.index(event_id)])
