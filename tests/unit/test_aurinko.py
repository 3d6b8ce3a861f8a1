"""Aurinko pieces that need no server: the OAuth state, the webhook signature, records to
messages, scopes and service types, Retry-After. Hypothesis for the signed values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.aurinko.http import retry_after
from adapters.aurinko.inbox import message_from_record
from adapters.webhooks.aurinko import AurinkoWebhookVerifier, sign
from application.integrations.aurinko.oauth_state import OAuthStateCodec
from application.webhooks.ports import SignatureRejected
from domain.integrations.aurinko.connection import InvalidOAuthState, ServiceType, parse_scopes
from domain.integrations.aurinko.inbox import client_matches
from domain.shared.errors import InvalidInput
from tests.fakes.clock import FakeClock
from tests.providers.aurinko import record

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
KEY = b"k" * 32


def issue(codec: OAuthStateCodec, tenant: str = "t1", user: str = "u1") -> str:
    token, _ = codec.issue(tenant_id=tenant, user_id=user, service_type="Google", scopes=("Mail.Read",), now=NOW)
    return token


# --- the OAuth state ---------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(tenant=st.text(min_size=1, max_size=40), user=st.text(min_size=1, max_size=80))
def test_a_state_verifies_for_its_tenant_and_user_only(tenant: str, user: str) -> None:
    codec = OAuthStateCodec(KEY)
    token = issue(codec, tenant, user)

    state = codec.verify(token, tenant_id=tenant, user_id=user, now=NOW + timedelta(minutes=9))

    assert (state.tenant_id, state.user_id, state.scopes) == (tenant, user, ("Mail.Read",))
    with pytest.raises(InvalidOAuthState):
        codec.verify(token, tenant_id=tenant + "x", user_id=user, now=NOW)
    with pytest.raises(InvalidOAuthState):
        codec.verify(token, tenant_id=tenant, user_id=user + "x", now=NOW)


@settings(max_examples=200, deadline=None)
@given(position=st.integers(min_value=0), replacement=st.characters(min_codepoint=33, max_codepoint=126))
def test_a_state_changed_anywhere_is_refused(position: int, replacement: str) -> None:
    codec = OAuthStateCodec(KEY)
    token = issue(codec)
    index = position % len(token)
    tampered = token[:index] + replacement + token[index + 1 :]

    if tampered.lower() == token.lower():  # the hex signature is case-insensitive
        return
    with pytest.raises(InvalidOAuthState):
        codec.verify(tampered, tenant_id="t1", user_id="u1", now=NOW)


def test_a_state_expires_after_ten_minutes_and_another_key_never_verifies_it() -> None:
    codec = OAuthStateCodec(KEY)
    token = issue(codec)

    with pytest.raises(InvalidOAuthState):
        codec.verify(token, tenant_id="t1", user_id="u1", now=NOW + timedelta(minutes=10))
    with pytest.raises(InvalidOAuthState):
        OAuthStateCodec(b"x" * 32).verify(token, tenant_id="t1", user_id="u1", now=NOW)
    assert issue(codec) != token, "every state has its own nonce"


@pytest.mark.parametrize("bad", ["", "nodot", "a.b.c", "é.é", "x" * 5000, "e30.00"])
def test_malformed_states_are_refused_with_the_same_message(bad: str) -> None:
    with pytest.raises(InvalidOAuthState) as error:
        OAuthStateCodec(KEY).verify(bad, tenant_id="t1", user_id="u1", now=NOW)
    assert error.value.field == "state"


# --- the webhook signature ---------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(body=st.binary(max_size=2000), skew=st.integers(min_value=-300, max_value=300))
def test_a_signed_body_verifies_within_five_minutes_and_not_once_changed(body: bytes, skew: int) -> None:
    clock = FakeClock(NOW)
    verifier = AurinkoWebhookVerifier("secret", clock=clock)
    stamp = str(int(NOW.timestamp()) + skew)
    headers = {"X-Aurinko-Request-Timestamp": stamp, "X-Aurinko-Signature": sign("secret", stamp, body)}

    verifier.verify(body, headers)
    with pytest.raises(SignatureRejected):
        verifier.verify(body + b"x", headers)
    with pytest.raises(SignatureRejected):
        verifier.verify(body, {**headers, "X-Aurinko-Request-Timestamp": str(int(stamp) + 1)})


def test_the_signature_is_hex_hmac_sha256_of_v0_timestamp_body() -> None:
    import hashlib
    import hmac

    expected = hmac.new(b"s3cret", b"v0:1700000000:{\"a\":1}", hashlib.sha256).hexdigest()
    assert sign("s3cret", "1700000000", b'{"a":1}') == expected


def test_a_stale_timestamp_is_refused_even_with_a_good_signature() -> None:
    verifier = AurinkoWebhookVerifier("hush-7f2", clock=FakeClock(NOW))
    stamp = str(int((NOW - timedelta(minutes=5, seconds=1)).timestamp()))
    signature = sign("hush-7f2", stamp, b"{}")

    with pytest.raises(SignatureRejected, match="5 minutes") as error:
        verifier.verify(b"{}", {"X-Aurinko-Request-Timestamp": stamp, "X-Aurinko-Signature": signature})
    assert "hush-7f2" not in repr(verifier) and signature not in str(error.value)


# --- records, scopes, service types ------------------------------------------------------------


def test_a_record_becomes_a_normalised_message_with_every_address() -> None:
    message = message_from_record(record(7, sender="Pagos@ACME.com.pa", to=("A@x.pa", "b@x.pa")))

    assert message is not None and message.provider_id == "msg-7" and message.thread_id == "thread-2"
    assert message.sender is not None and message.sender.address == "pagos@acme.com.pa"
    assert message.addresses() == ("pagos@acme.com.pa", "a@x.pa", "b@x.pa")
    assert message.received_at == datetime(2026, 11, 1, 0, 7, tzinfo=UTC)
    assert message.fingerprint() == message_from_record(record(7, sender="pagos@acme.com.pa", to=("a@x.pa", "b@x.pa"))).fingerprint()  # type: ignore[union-attr]
    assert message.fingerprint() != message_from_record(record(7, subject="other")).fingerprint()  # type: ignore[union-attr]


@pytest.mark.parametrize("bad", [None, [], "x", {"subject": "no id"}, {"id": ""}, {"id": "x" * 300}])
def test_a_record_without_a_usable_id_is_none(bad: object) -> None:
    assert message_from_record(bad) is None


def test_client_matches_are_case_insensitive_and_sorted() -> None:
    index = {"pagos@acme.pa": frozenset({"c2", "c1"}), "x@y.pa": frozenset({"c3"})}

    assert client_matches(["PAGOS@acme.pa", "nobody@z.pa"], index) == ("c1", "c2")


def test_scopes_and_service_types_are_checked_by_name() -> None:
    assert parse_scopes(None) == ("Mail.Read", "Mail.Send")
    assert parse_scopes(["mail.read", "Mail.Read", "Mail.All"]) == ("Mail.Read", "Mail.All")
    assert ServiceType.parse("office365") is ServiceType.OFFICE365
    for bad in (["Calendar.Read"], [], [3]):
        with pytest.raises(InvalidInput):
            parse_scopes(bad)
    with pytest.raises(InvalidInput):
        ServiceType.parse("Hotmail")


def test_retry_after_reads_seconds_and_http_dates_and_ignores_garbage() -> None:
    assert retry_after("42") == timedelta(seconds=42)
    assert retry_after("Tue, 24 Nov 2026 12:01:00 GMT", now=NOW) == timedelta(minutes=1)
    assert retry_after("soon") is None and retry_after(None) is None
    assert retry_after("999999") == timedelta(days=1)


@pytest.mark.parametrize("stamp", ["\u00b2", "\u0661\u0662\u0663", "1" * 17, "1e9", "-5"])
def test_aurinko_refuses_a_timestamp_that_is_no_plain_number(stamp: str) -> None:
    verifier = AurinkoWebhookVerifier("hush-7f2", clock=FakeClock(NOW))
    headers = {"X-Aurinko-Request-Timestamp": stamp, "X-Aurinko-Signature": "ab" * 32}
    with pytest.raises(SignatureRejected, match="is not a Unix timestamp"):
        verifier.verify(b"{}", headers)


@pytest.mark.parametrize("offset, accepted", [(0, True), (300, True), (-300, True), (301, False), (-301, False)])
def test_aurinko_timestamps_in_milliseconds_are_read_as_such_within_five_minutes(offset: int, accepted: bool) -> None:
    verifier = AurinkoWebhookVerifier("hush-7f2", clock=FakeClock(NOW))
    stamp = str(int(NOW.timestamp() + offset) * 1000)  # 13 digits: milliseconds
    headers = {"X-Aurinko-Request-Timestamp": stamp, "X-Aurinko-Signature": sign("hush-7f2", stamp, b"{}")}
    if accepted:
        verifier.verify(b"{}", headers)
    else:
        with pytest.raises(SignatureRejected, match="not within 5 minutes"):
            verifier.verify(b"{}", headers)
