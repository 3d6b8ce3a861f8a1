"""The emails domain and the shared delivery state machine (UNCERTAIN, retries by hand)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.emails.model import (
    EmailContent,
    EmailKind,
    EmailLocale,
    EmailMessage,
    NoRecipients,
    Recipients,
    TooManyRecipients,
    parse_subject,
)
from domain.shared.delivery import AttemptOutcome, Begin, DeliveryAttempt, DeliveryStatus, NotRetryable
from domain.shared.errors import InvalidInput

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _message() -> EmailMessage:
    return EmailMessage.queue(
        tenant_id="t1",
        kind=EmailKind.GENERIC,
        recipients=Recipients.of(["ana@example.com"]),
        content=EmailContent.of(subject="Hola", html=None, text="Cuerpo"),
        from_address=None,
        message_id_domain="istmo.test",
        created_by=None,
        now=NOW,
    )


def test_a_queued_message_has_one_message_id_and_key() -> None:
    message = _message()
    assert message.status is DeliveryStatus.QUEUED
    assert message.internet_message_id == f"<{message.id}@istmo.test>"
    assert message.idempotency_key == f"email:{message.id}"
    assert message.send_job_key() == f"email:{message.id}:0"


def test_sent_after_one_attempt() -> None:
    message = _message()
    assert message.begin_attempt(now=NOW) is Begin.SEND
    assert message.status is DeliveryStatus.SENDING
    message.record_sent(provider="smtp", provider_message_id="abc", response="250 OK", now=NOW)
    assert message.status is DeliveryStatus.SENT
    assert [a.outcome for a in message.attempts] == [AttemptOutcome.SENT]
    assert message.begin_attempt(now=NOW) is Begin.SKIP  # a re-run sends nothing


def test_a_run_finding_it_sending_makes_it_uncertain_and_only_retry_resends() -> None:
    message = _message()
    message.begin_attempt(now=NOW)  # the worker died here, after committing SENDING
    assert message.begin_attempt(now=NOW + timedelta(minutes=5)) is Begin.UNCERTAIN
    assert message.status is DeliveryStatus.UNCERTAIN
    assert message.attempts[-1].outcome is AttemptOutcome.INTERRUPTED
    assert message.begin_attempt(now=NOW) is Begin.SKIP
    before = (message.internet_message_id, message.idempotency_key)
    message.retry(now=NOW)
    assert message.status is DeliveryStatus.QUEUED
    assert (message.internet_message_id, message.idempotency_key) == before
    assert message.send_job_key().endswith(":1")
    assert message.begin_attempt(now=NOW) is Begin.SEND
    assert message.attempts[-1].number == 2


def test_the_sweep_abandons_only_a_message_sending_since_before_its_cutoff() -> None:
    message = _message()
    cutoff = NOW + timedelta(hours=1)
    assert not message.abandon(now=cutoff, claimed_before=cutoff)  # QUEUED: its job will run
    message.begin_attempt(now=cutoff)  # claimed at the cutoff itself: not stale yet
    assert not message.abandon(now=cutoff, claimed_before=cutoff)
    assert message.status is DeliveryStatus.SENDING
    later = cutoff + timedelta(hours=1)
    assert message.abandon(now=later, claimed_before=later - timedelta(minutes=30))
    assert message.status is DeliveryStatus.UNCERTAIN
    assert message.attempts[-1].outcome is AttemptOutcome.INTERRUPTED and message.updated_at == later
    assert not message.abandon(now=later, claimed_before=later)  # once only
    message.record_sent(provider="smtp", provider_message_id="abc", response="250 OK", now=later)  # a late answer
    assert message.status is DeliveryStatus.SENT
    assert not message.abandon(now=later, claimed_before=later + timedelta(days=1))


def test_deferred_goes_back_to_queued_then_dead_on_the_last_attempt() -> None:
    message = _message()
    message.begin_attempt(now=NOW)
    message.record_deferred(provider="smtp", reason="421 busy", now=NOW, last=False)
    assert message.status is DeliveryStatus.QUEUED
    message.begin_attempt(now=NOW)
    message.record_deferred(provider="smtp", reason="421 busy", now=NOW, last=True)
    assert message.status is DeliveryStatus.DEAD
    assert message.last_error == "421 busy"


def test_rejected_fails_and_queued_or_sent_cannot_be_retried() -> None:
    message = _message()
    with pytest.raises(NotRetryable):
        message.retry(now=NOW)
    message.begin_attempt(now=NOW)
    message.record_rejected(provider="smtp", reason="550 no such user", now=NOW)
    assert message.status is DeliveryStatus.FAILED
    message.retry(now=NOW)
    message.begin_attempt(now=NOW)
    message.record_sent(provider="smtp", provider_message_id=None, response="250", now=NOW)
    with pytest.raises(NotRetryable):
        message.retry(now=NOW)


def test_a_late_outcome_of_an_interrupted_attempt_still_counts_as_sent() -> None:
    message = _message()
    message.begin_attempt(now=NOW)
    message.begin_attempt(now=NOW)  # a second run saw SENDING while the first was still going
    message.record_sent(provider="smtp", provider_message_id=None, response="250", now=NOW)
    assert message.status is DeliveryStatus.SENT


def test_recipients_dedupe_across_fields_and_need_a_to() -> None:
    recipients = Recipients.of(["a@x.com", "A@x.com"], cc=["a@x.com", "b@x.com"], bcc=["b@x.com", "c@x.com"])
    assert recipients == Recipients(to=("a@x.com",), cc=("b@x.com",), bcc=("c@x.com",))
    with pytest.raises(NoRecipients) as error:
        Recipients.of([])
    assert error.value.field == "to"
    with pytest.raises(NoRecipients):
        Recipients.of([], cc=["b@x.com"])
    with pytest.raises(TooManyRecipients):
        Recipients.of([f"u{i}@x.com" for i in range(51)])


@pytest.mark.parametrize("subject", ["a\r\nBcc: evil@x.com", "a\nb", "", "   "])
def test_subjects_are_one_non_blank_line(subject: str) -> None:
    with pytest.raises(InvalidInput) as error:
        parse_subject(subject)
    assert error.value.field == "subject"


def test_content_needs_a_body() -> None:
    with pytest.raises(InvalidInput) as error:
        EmailContent.of(subject="x", html="  ", text=None)
    assert error.value.field == "text"


def test_locales() -> None:
    assert EmailLocale.parse("es-PA") is EmailLocale.ES
    assert EmailLocale.parse("EN") is EmailLocale.EN
    with pytest.raises(InvalidInput):
        EmailLocale.parse("fr")


_outcomes = st.sampled_from(["begin", "sent", "deferred", "last", "rejected", "retry"])


@given(st.lists(_outcomes, max_size=30))
def test_each_send_is_earned_by_the_queue_a_deferral_or_a_hand_retry(steps: list[str]) -> None:
    """Property: ``begin_attempt`` says SEND only for a QUEUED message, and at most once per
    queueing (the first, each transient deferral, each hand retry): never again for a message
    that is SENDING (interrupted: UNCERTAIN), SENT, FAILED, DEAD or UNCERTAIN."""
    message = _message()
    earned = 1
    for step in steps:
        status = message.status
        try:
            if step == "begin":
                if message.begin_attempt(now=NOW) is Begin.SEND:
                    assert status is DeliveryStatus.QUEUED
                    earned -= 1
                    assert earned >= 0
            elif step == "sent":
                message.record_sent(provider="p", provider_message_id=None, response="ok", now=NOW)
            elif step in ("deferred", "last"):
                message.record_deferred(provider="p", reason="later", now=NOW, last=step == "last")
                if status is DeliveryStatus.SENDING and step == "deferred":
                    earned += 1
            elif step == "rejected":
                message.record_rejected(provider="p", reason="no", now=NOW)
            else:
                message.retry(now=NOW)
                earned += 1
        except NotRetryable:
            assert message.status is status


def test_attempts_round_trip_as_json() -> None:
    attempt = DeliveryAttempt(
        number=3, started_at=NOW, finished_at=NOW, outcome=AttemptOutcome.DEFERRED, provider="smtp", response="421"
    )
    assert DeliveryAttempt.from_json(attempt.to_json()) == attempt
