"""The WhatsApp domain without I/O: the message state machine, statuses in any order, the window,
content limits, registered templates, and what a Graph API error code means."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.shared.channels import DeliveryChannel
from domain.shared.delivery import AttemptOutcome, Begin, DeliveryStatus
from domain.shared.delivery import NotRetryable as MessageNotRetryable
from domain.shared.errors import InvalidInput
from domain.whatsapp.errors import (
    CaptionTooLong,
    TemplateParameterCount,
    TextTooLong,
    WindowClosed,
)
from domain.whatsapp.connection import WhatsappTemplate
from domain.whatsapp.content import MAX_TEXT, WINDOW, MessageContent, MessageKind, check_window, document_content, window_open
from domain.whatsapp.graph import graph_disposition
from domain.whatsapp.messages import PROVIDER, InboundWhatsapp, MessageStatus, WhatsappDelivery

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
RANK = {"sent": 1, "delivered": 2, "read": 3}


def message(content: MessageContent | None = None) -> WhatsappDelivery:
    return WhatsappDelivery.outbound(
        tenant_id="t", phone="+50761234567", client_id=None,
        content=content or MessageContent.of_template(name="hola", language="es"), created_by="u", now=NOW,
    )


def sent() -> WhatsappDelivery:
    m = message()
    assert m.begin_attempt(now=NOW) is Begin.SEND
    m.record_sent(provider=PROVIDER, provider_message_id="wamid.1", response="accepted", now=NOW)
    return m


def test_delivery_happy_path_and_a_rerun_that_finds_it_sending_makes_it_uncertain() -> None:
    m = message()
    assert m.status is DeliveryStatus.QUEUED
    assert m.begin_attempt(now=NOW) is Begin.SEND and m.status is DeliveryStatus.SENDING and len(m.attempts) == 1
    assert m.begin_attempt(now=NOW) is Begin.UNCERTAIN and m.status is DeliveryStatus.UNCERTAIN  # the first run died
    assert m.begin_attempt(now=NOW) is Begin.SKIP and m.status is DeliveryStatus.UNCERTAIN  # and stays so
    # the first run's outcome arrives after all: now it is known
    m.record_sent(provider=PROVIDER, provider_message_id="wamid.9", response="accepted", now=NOW)
    assert (m.status, m.wamid) == (DeliveryStatus.SENT, "wamid.9")
    assert [a.outcome for a in m.attempts] == [AttemptOutcome.INTERRUPTED]  # the shared Delivery's record


def test_the_sweep_abandons_a_message_left_sending_but_never_a_delivered_one() -> None:
    m = message()
    m.begin_attempt(now=NOW)
    later = NOW + timedelta(hours=2)
    assert m.abandon(now=later, claimed_before=later - timedelta(hours=1))
    assert m.status is DeliveryStatus.UNCERTAIN and m.error_code is None
    assert [a.outcome for a in m.attempts] == [AttemptOutcome.INTERRUPTED]
    delivered = sent()
    delivered.apply_status("delivered", at=NOW, now=NOW)
    assert not delivered.abandon(now=later, claimed_before=later)
    assert delivered.status is DeliveryStatus.DELIVERED


def test_transient_refusals_queue_again_and_the_last_one_is_dead() -> None:
    m = message()
    m.begin_attempt(now=NOW)
    m.record_deferred(provider=PROVIDER, reason="Rate limit hit", now=NOW, last=False, code=130429)
    assert (m.status, m.error_code, m.failed_at) == (DeliveryStatus.QUEUED, 130429, None)
    m.begin_attempt(now=NOW)
    m.record_deferred(provider=PROVIDER, reason="Rate limit hit", now=NOW, last=True, code=130429)
    assert (m.status, m.error_code, m.failed_at) == (DeliveryStatus.DEAD, 130429, NOW) and len(m.attempts) == 2
    assert [a.outcome for a in m.attempts] == [AttemptOutcome.DEFERRED, AttemptOutcome.DEFERRED]


def test_retry_is_only_for_failed_dead_or_uncertain_and_starts_a_new_round() -> None:
    with pytest.raises(MessageNotRetryable):
        sent().retry(now=NOW)
    m = message()
    m.begin_attempt(now=NOW)
    m.record_rejected(provider=PROVIDER, reason="Message Undeliverable", now=NOW, code=131026)
    assert (m.status, m.error_code, m.failed_at) == (DeliveryStatus.FAILED, 131026, NOW)
    m.retry(now=NOW)
    assert m.retries == 1 and m.status is DeliveryStatus.QUEUED and (m.error_code, m.failed_at) == (None, None)
    m.begin_attempt(now=NOW)
    m.record_unknown(provider=PROVIDER, reason="read timeout", now=NOW)
    assert m.status is DeliveryStatus.UNCERTAIN
    m.retry(now=NOW)
    assert m.retries == 2


@given(st.lists(st.sampled_from(["sent", "delivered", "read"]), min_size=1, max_size=12))
def test_statuses_in_any_order_end_at_the_furthest_one(order: list[str]) -> None:
    m = sent()
    for index, state in enumerate(order):
        m.apply_status(state, at=NOW + timedelta(seconds=index), now=NOW)
    furthest = max(order, key=RANK.__getitem__)
    assert m.status is DeliveryStatus(furthest.upper())


@given(st.lists(st.sampled_from(["sent", "delivered", "read", "failed"]), min_size=1, max_size=12))
def test_a_repeated_status_changes_nothing(order: list[str]) -> None:
    m = sent()
    for index, state in enumerate(order):
        m.apply_status(state, at=NOW + timedelta(seconds=index), now=NOW, error_code=131026, error_title="x")
    snapshot = dict(vars(m))
    assert m.apply_status(order[-1], at=NOW + timedelta(seconds=len(order) - 1), now=NOW + timedelta(hours=1),
                          error_code=131026, error_title="x") is False
    assert dict(vars(m)) == snapshot


def test_failed_records_the_error_and_is_final_but_not_after_delivery() -> None:
    m = sent()
    assert m.apply_status("failed", at=NOW, now=NOW, error_code=131026, error_title="Message Undeliverable")
    assert (m.status, m.error_code, m.last_error) == (DeliveryStatus.FAILED, 131026, "Message Undeliverable")
    assert not m.apply_status("read", at=NOW, now=NOW)
    delivered = sent()
    delivered.apply_status("delivered", at=NOW, now=NOW)
    assert not delivered.apply_status("failed", at=NOW, now=NOW, error_code=1)
    assert delivered.status is DeliveryStatus.DELIVERED


def test_an_answer_that_comes_back_after_the_webhook_only_adds_the_wamid() -> None:
    m = message()
    m.begin_attempt(now=NOW)
    assert m.apply_status("delivered", at=NOW, now=NOW, wamid="wamid.7")
    m.record_sent(provider=PROVIDER, provider_message_id="wamid.8", response="accepted", now=NOW)
    assert (m.status, m.wamid, m.sent_at) == (DeliveryStatus.DELIVERED, "wamid.7", NOW)


def test_an_inbound_message_is_received_and_kept_short() -> None:
    m = InboundWhatsapp.receive(tenant_id="t", phone="+50761234567", client_id=None, wamid="w" * 200,
                                kind=MessageKind.TEXT, text="x" * (MAX_TEXT + 5), provider_at=NOW, now=NOW)
    assert m.status is MessageStatus.RECEIVED and len(m.wamid) == 128 and len(m.text or "") == MAX_TEXT


@given(st.integers(min_value=0, max_value=3 * 24 * 3600))
def test_the_window_is_open_for_24_hours_after_the_last_inbound_message(seconds: int) -> None:
    now = NOW + timedelta(seconds=seconds)
    assert window_open(NOW, now) is (now - NOW < WINDOW)
    text, template = MessageContent.of_text("hola"), MessageContent.of_template(name="hola", language="es")
    check_window(template, NOW, now, phone="+507")  # templates always go
    check_window(template, None, now, phone="+507")
    if now - NOW >= WINDOW:
        with pytest.raises(WindowClosed):
            check_window(text, NOW, now, phone="+507")
    else:
        check_window(text, NOW, now, phone="+507")


def test_content_limits() -> None:
    assert MessageContent.of_text("x" * MAX_TEXT).text == "x" * MAX_TEXT
    with pytest.raises(TextTooLong):
        MessageContent.of_text("x" * (MAX_TEXT + 1))
    with pytest.raises(CaptionTooLong):
        document_content(file_id="f", filename="F.pdf", caption="c" * 1025)
    assert document_content(file_id="f", filename="a/b.pdf", caption="c" * 1024).filename == "a-b.pdf"
    with pytest.raises(InvalidInput):
        MessageContent.of_template(name="Hola Mundo", language="es")
    with pytest.raises(InvalidInput):
        MessageContent.of_template(name="hola", language="spanish")
    with pytest.raises(InvalidInput):
        MessageContent.of_template(name="hola", language="es", parameters=[" "])


def test_a_registered_template_checks_its_parameter_count_and_header() -> None:
    template = WhatsappTemplate.create(tenant_id="t", name="factura", language="es", body_parameters=2,
                                       document_header=False, now=NOW)
    template.check(["a", "b"], with_document=False)
    with pytest.raises(TemplateParameterCount):
        template.check(["a"], with_document=False)
    with pytest.raises(InvalidInput):
        template.check(["a", "b"], with_document=True)
    with_header = WhatsappTemplate.create(tenant_id="t", name="factura_pdf", language="es", body_parameters=0,
                                          document_header=True, now=NOW)
    with_header.check([], with_document=True)
    with pytest.raises(InvalidInput):
        with_header.check([], with_document=False)
    with pytest.raises(InvalidInput):
        WhatsappTemplate.create(tenant_id="t", name="f", language="es", body_parameters=-1, document_header=False, now=NOW)


@pytest.mark.parametrize(
    ("code", "status", "meaning"),
    [
        (130429, 400, "retry"), (131056, 400, "retry"), (80007, 400, "retry"), (None, 503, "retry"), (None, 500, "retry"),
        (131047, 400, "window"), (190, 401, "reauth"), (None, 401, "reauth"),
        (132000, 400, "fail"), (132001, 404, "fail"), (132018, 400, "fail"), (131026, 400, "fail"),
        (131051, 400, "fail"), (100, 400, "fail"), (368, 403, "fail"),
    ],
)
def test_what_an_error_code_means(code: int | None, status: int, meaning: str) -> None:
    assert graph_disposition(code, status) == meaning


def test_the_log_statuses_are_the_delivery_states_and_received() -> None:
    assert {s.value for s in MessageStatus} == {s.value for s in DeliveryStatus} | {"RECEIVED"}


def test_channels() -> None:
    assert DeliveryChannel.parse("both") is DeliveryChannel.BOTH
    assert DeliveryChannel.BOTH.email and DeliveryChannel.BOTH.whatsapp
    assert not DeliveryChannel.EMAIL.whatsapp and not DeliveryChannel.WHATSAPP.email
    with pytest.raises(InvalidInput):
        DeliveryChannel.parse("SMS")
