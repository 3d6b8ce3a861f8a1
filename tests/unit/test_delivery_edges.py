"""The shared delivery state and flow, pinned where the mutation run found them loose (issue 20,
``make mutate``): what each outcome writes into the attempt log (when, which provider, what it
answered), what a channel is told beside the status (its error code, whether it failed), the
provider's id arriving after a delivery report, an open attempt through JSON, and the same
details recorded by the flow from a channel's answer."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from application.deliveries.ports import DeliveryDeferred, DeliveryOutcomeUnknown, DeliveryRejected
from application.emails.commands import GetEmailMessage, RetryEmail
from domain.shared.delivery import (
    AttemptOutcome,
    Begin,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    queued,
)
from domain.shared.errors import InvalidInput
from domain.tenancy.model import Actor
from tests.unit.test_emails_handlers import World

T0 = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
T1 = T0 + timedelta(seconds=3)
T2 = T0 + timedelta(minutes=5)


class Message(Delivery):
    """The smallest channel: remembers what it was told beside each outcome."""

    def __init__(self) -> None:
        super().__init__(**queued(tenant_id="t", entity=None, created_by="u", now=T0))
        self.provider_message_id = None
        self.noted: list[tuple[Any, ...]] = []

    @property
    def delivery_key(self) -> str:
        return f"test:{self.id}"

    def _noted(self, *, code: int | None, failed: bool, now: datetime) -> None:
        self.noted.append((code, failed, now))


def sending() -> Message:
    message = Message()
    assert message.begin_attempt(now=T0) is Begin.SEND
    return message


def test_a_sent_message_records_who_took_it_when_and_what_they_said() -> None:
    message = sending()
    message.record_sent(provider="smtp", provider_message_id="Q1", response="250 2.0.0 Ok", now=T1)
    assert message.attempts == (DeliveryAttempt(number=1, started_at=T0, finished_at=T1, outcome=AttemptOutcome.SENT,
                                                provider="smtp", response="250 2.0.0 Ok"),)
    assert (message.status, message.provider, message.provider_message_id) == (DeliveryStatus.SENT, "smtp", "Q1")
    assert (message.sent_at, message.updated_at, message.last_error) == (T1, T1, None)
    assert message.noted == [(None, False, T1)]


@pytest.mark.parametrize("last, status", [(False, DeliveryStatus.QUEUED), (True, DeliveryStatus.DEAD)])
def test_a_deferred_attempt_is_logged_and_the_last_one_fails_the_message(last: bool, status: DeliveryStatus) -> None:
    message = sending()
    message.record_deferred(provider="smtp", reason="421 try\nlater", now=T1, last=last, code=421)
    assert message.attempts[-1] == DeliveryAttempt(number=1, started_at=T0, finished_at=T1,
                                                   outcome=AttemptOutcome.DEFERRED, provider="smtp",
                                                   response="421 try later")
    assert (message.status, message.last_error, message.updated_at) == (status, "421 try later", T1)
    assert message.noted == [(421, last, T1)]


def test_a_rejected_attempt_fails_the_message_with_the_providers_code() -> None:
    message = sending()
    message.record_rejected(provider="graph", reason="131026 undeliverable", now=T1, code=131026)
    assert message.attempts[-1].outcome is AttemptOutcome.REJECTED and message.attempts[-1].provider == "graph"
    assert message.attempts[-1].finished_at == T1
    assert (message.status, message.last_error) == (DeliveryStatus.FAILED, "131026 undeliverable")
    assert message.noted == [(131026, True, T1)]


def test_a_lost_answer_is_uncertain_and_says_what_was_lost() -> None:
    message = sending()
    message.record_unknown(provider="smtp", reason="connection lost after the final dot", now=T1)
    assert message.attempts[-1] == DeliveryAttempt(number=1, started_at=T0, finished_at=T1,
                                                   outcome=AttemptOutcome.UNKNOWN, provider="smtp",
                                                   response="connection lost after the final dot")
    assert (message.status, message.last_error) == (DeliveryStatus.UNCERTAIN, "connection lost after the final dot")
    assert message.noted == [(None, False, T1)]


def test_an_interrupted_attempt_is_closed_and_the_message_uncertain() -> None:
    message = sending()
    assert message.begin_attempt(now=T1) is Begin.UNCERTAIN
    [attempt] = message.attempts
    assert (attempt.outcome, attempt.finished_at) == (AttemptOutcome.INTERRUPTED, T1)
    assert attempt.response is not None and "interrupted" in attempt.response
    assert (message.status, message.last_error, message.updated_at) == (DeliveryStatus.UNCERTAIN, attempt.response, T1)
    assert message.noted == [(None, False, T1)]


def test_a_refusal_fails_a_queued_message_without_an_attempt() -> None:
    message = Message()
    message.refuse("the file\nwas deleted", now=T1, code=7)
    assert (message.status, message.last_error, message.updated_at) == (DeliveryStatus.FAILED, "the file was deleted", T1)
    assert message.attempts == () and message.noted == [(7, True, T1)]


def test_a_retry_by_hand_clears_the_error_and_counts() -> None:
    message = sending()
    message.record_rejected(provider="smtp", reason="550 no such user", now=T1)
    message.retry(now=T2)
    assert (message.status, message.retries, message.updated_at) == (DeliveryStatus.QUEUED, 1, T2)
    assert message.last_error is None
    assert message.noted[-1] == (None, False, T2)


def test_the_providers_id_arriving_after_a_delivery_report_fills_only_what_is_missing() -> None:
    message = sending()
    message.status = DeliveryStatus.DELIVERED
    message.record_sent(provider="graph", provider_message_id="wamid.1", response="ok", now=T1)
    assert (message.provider_message_id, message.sent_at) == ("wamid.1", T1)
    message.record_sent(provider="graph", provider_message_id="wamid.2", response="ok", now=T2)
    assert (message.provider_message_id, message.sent_at) == ("wamid.1", T1)


def test_an_open_attempt_goes_through_json_unchanged() -> None:
    open_attempt = DeliveryAttempt(number=2, started_at=T0)
    assert open_attempt.to_json()["finished_at"] is None and open_attempt.to_json()["outcome"] is None
    assert DeliveryAttempt.from_json(open_attempt.to_json()) == open_attempt
    closed = DeliveryAttempt(number=2, started_at=T0, finished_at=T1, outcome=AttemptOutcome.SENT, provider="smtp",
                             response="250")
    assert DeliveryAttempt.from_json(closed.to_json()) == closed


# --- through the flow (the e-mail channel on fakes) ---------------------------------------------


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def acme(world: World) -> Actor:
    return world.tenant("acme")


@pytest.mark.parametrize(
    "answer, status, outcome",
    [
        (DeliveryRejected("550 no such user", provider="smtp", code=550), DeliveryStatus.FAILED, AttemptOutcome.REJECTED),
        (DeliveryOutcomeUnknown("lost after the dot", provider="smtp"), DeliveryStatus.UNCERTAIN, AttemptOutcome.UNKNOWN),
        (DeliveryDeferred("421 later", provider="smtp", code=421), DeliveryStatus.QUEUED, AttemptOutcome.DEFERRED),
    ],
)
def test_the_flow_records_the_channels_answer_with_its_provider_and_time(
    world: World, acme: Actor, answer: Exception, status: DeliveryStatus, outcome: AttemptOutcome
) -> None:
    world.sender.script = lambda email: answer
    queued_message = world.send(acme)
    world.clock.advance(timedelta(seconds=30))
    world.run_jobs()
    message = world.message(acme, queued_message.id)
    attempt = message.attempts[-1]
    assert (message.status, attempt.outcome, attempt.provider) == (status, outcome, "smtp")
    assert attempt.finished_at == world.clock.now() and attempt.response == answer.args[0]
    assert message.last_error == answer.args[0]


def test_the_flow_records_a_send_with_its_time(world: World, acme: Actor) -> None:
    queued_message = world.send(acme)
    world.clock.advance(timedelta(seconds=30))
    world.run_jobs()
    message = world.message(acme, queued_message.id)
    assert (message.status, message.sent_at, message.attempts[-1].finished_at) == (
        DeliveryStatus.SENT, world.clock.now(), world.clock.now())
    assert (message.attempts[-1].provider, message.attempts[-1].response) == ("fake", "250 OK")


def test_a_retried_message_is_stamped_with_the_time_of_the_retry(world: World, acme: Actor) -> None:
    world.sender.script = lambda email: DeliveryRejected("550 no such user")
    queued_message = world.send(acme)
    world.run_jobs()
    world.clock.advance(timedelta(minutes=10))
    retried = world.bus.handle(RetryEmail(actor=acme, message_id=queued_message.id))
    assert (retried.status, retried.updated_at, retried.retries) == (DeliveryStatus.QUEUED, world.clock.now(), 1)


@pytest.mark.parametrize("command", [RetryEmail, GetEmailMessage])
def test_a_malformed_message_id_is_refused_naming_the_id(world: World, acme: Actor, command: Any) -> None:
    with pytest.raises(InvalidInput) as refused:
        world.bus.handle(command(actor=acme, message_id="no-es-un-id"))
    assert refused.value.field == "id"


def test_recording_is_tried_again_when_the_next_pause_ends_exactly_at_the_deadline() -> None:
    from application.deliveries import flows

    times = iter([0.0, flows.RECORD_RETRY_FOR - 0.1])  # the deadline, then 0.1 s (the first pause) before it
    handler = flows.DeliverHandler(rules=None, clock=None, sleep=lambda _: None, monotonic=lambda: next(times))  # type: ignore[arg-type]
    handler._rules = type("Rules", (), {"name": "email"})()  # type: ignore[assignment]
    tries: list[int] = []

    def record(cmd: object, uow: object, outcome: object) -> str:
        tries.append(1)
        if len(tries) == 1:
            raise ConnectionError("the database went away")
        return "SENT"

    handler._record = record  # type: ignore[method-assign]
    command = type("Cmd", (), {"message_id": "m-1"})()
    assert handler._record_until_stored(command, None, None) == "SENT"  # type: ignore[arg-type]
    assert len(tries) == 2


def test_the_flow_passes_a_refusals_code_to_the_channel() -> None:
    """WhatsApp keeps the Graph API's error code of a refused message (131026: not on WhatsApp)."""
    from adapters.whatsapp.graph import GraphApiError
    from application.jobs.errors import PermanentJobError
    from tests.unit import test_whatsapp_handlers as whatsapp

    world = whatsapp.World()
    world.connect()
    [message] = world.send(client_id=world.client(), template=whatsapp.TEMPLATE)
    world.sender.script = [GraphApiError(code=131026, title="Message undeliverable", http_status=400)]
    with pytest.raises(PermanentJobError):
        world.deliver(message.id)
    failed = world.message(message.id)
    assert (failed.status, failed.error_code) == (DeliveryStatus.FAILED, 131026)


def test_a_provider_answer_of_exactly_500_characters_is_kept_and_501_are_cut() -> None:
    from domain.shared.delivery import MAX_RESPONSE_LENGTH, clip_response

    exact = "a" * MAX_RESPONSE_LENGTH
    assert clip_response(exact) == exact
    cut = clip_response(exact + "b")
    assert cut == "a" * (MAX_RESPONSE_LENGTH - 1) + "…" and len(cut) == MAX_RESPONSE_LENGTH


@pytest.mark.parametrize("attempts, last, spare", [(6, False, False), (7, True, False), (8, True, True)])
def test_a_delivery_job_knows_its_last_attempt_and_its_spare_run(attempts: int, last: bool, spare: bool) -> None:
    from application.deliveries.flows import DeliverMessage, delivery_job
    from application.jobs.errors import PermanentJobError
    from domain.jobs.model import Job

    handled: list[Any] = []
    messages = type("Messages", (), {"handle": lambda self, command, **kw: handled.append((command, kw))})()
    run = delivery_job(messages, DeliverMessage)  # type: ignore[arg-type]
    job = Job(id="j", tenant_id="t", kind="emails.send", payload={"message_id": "m"}, attempts=attempts,
              max_attempts=8, run_at=T0, created_at=T0, updated_at=T0)
    run(job)
    [(command, kw)] = handled
    assert (command.message_id, command.last_attempt, command.spare, kw) == ("m", last, spare, {"tenant_id": "t"})
    for broken in ({"tenant_id": None}, {"payload": {}}):
        with pytest.raises(PermanentJobError):
            run(dataclasses.replace(job, **broken))
