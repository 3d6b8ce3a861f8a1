"""Signature checks as properties: any body signed verifies, any change to it or to the key does not."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.webhooks.standard import StandardWebhooksVerifier
from adapters.webhooks.workos import WorkOsWebhookVerifier
from application.invoicing.pac_settings import signature_matches
from application.webhooks.ports import SignatureRejected
from domain.invoicing.pac import SignatureMode
from tests.webhook_signing import polar_headers, workos_headers

bodies = st.binary(max_size=300)
text_bodies = st.text(max_size=200).map(str.encode)
secrets = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40)


@given(body=bodies, secret=secrets, flip=st.integers(min_value=0, max_value=299))
def test_pac_hmac_mode_accepts_the_body_signed_and_no_other(body: bytes, secret: str, flip: int) -> None:
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert signature_matches(SignatureMode.HMAC, secret, signature, body)
    assert signature_matches(SignatureMode.HMAC, secret, "sha256=" + signature.upper(), body)
    if body:
        index = flip % len(body)
        tampered = body[:index] + bytes([body[index] ^ 1]) + body[index + 1 :]
        assert not signature_matches(SignatureMode.HMAC, secret, signature, tampered)
    assert not signature_matches(SignatureMode.HMAC, secret + "x", signature, body)


@given(secret=secrets, other=secrets)
def test_pac_secret_mode_is_the_secret_itself(secret: str, other: str) -> None:
    assert signature_matches(SignatureMode.SECRET, secret, secret, b"anything")
    assert signature_matches(SignatureMode.SECRET, secret, other, b"anything") is (other.strip() == secret)


@settings(max_examples=50)
@given(body=text_bodies, flip=st.integers(min_value=0, max_value=199))
def test_standard_webhooks_accept_what_was_signed_and_refuse_a_changed_body(body: bytes, flip: int) -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    verifier = StandardWebhooksVerifier(secret)
    headers = polar_headers(secret, body, msg_id="msg_prop")
    verifier.verify(body, headers)
    changed = body + b" " if not body else body[: flip % len(body)] + b"\x00" + body[flip % len(body) :]
    with pytest.raises(SignatureRejected):
        verifier.verify(changed, headers)


def test_workos_tolerance_is_180_seconds_both_ways() -> None:
    now = 1_800_000_000.0
    verifier = WorkOsWebhookVerifier("sekret", now=lambda: now)
    body = b'{"id":"event_1"}'
    # exactly at the window's edges passes; one millisecond past either is refused
    for offset_ms, ok in ((0, True), (180_000, True), (-180_000, True), (180_001, False), (-180_001, False)):
        headers = workos_headers("sekret", body, timestamp_ms=int(now * 1000) - offset_ms)
        if ok:
            verifier.verify(body, headers)
        else:
            with pytest.raises(SignatureRejected):
                verifier.verify(body, headers)


@given(body=bodies)
def test_workos_refuses_another_secret(body: bytes) -> None:
    headers = workos_headers("right", body, timestamp_ms=int(time.time() * 1000))
    WorkOsWebhookVerifier("right").verify(body, headers)
    with pytest.raises(SignatureRejected):
        WorkOsWebhookVerifier("wrong").verify(body, headers)


@pytest.mark.parametrize("stamp", ["\u00b2", "\u0661\u0662\u0663", "1" * 400, "12.5", "-5", ""])
def test_workos_refuses_a_timestamp_that_is_no_plain_number_of_milliseconds(stamp: str) -> None:
    with pytest.raises(SignatureRejected, match="no t=<unix ms>"):
        WorkOsWebhookVerifier("sekret").verify(b"{}", {"WorkOS-Signature": f"t={stamp}, v1={'a' * 64}"})


class ConstantTime:
    """``hmac.compare_digest`` watched: a verifier that compares with ``==`` is caught here."""

    def __init__(self) -> None:
        import hmac as real

        self.calls = 0
        self._real = real.compare_digest

    def __call__(self, a: Any, b: Any) -> bool:
        self.calls += 1
        return self._real(a, b)


def test_the_signature_checks_compare_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import UTC, datetime

    from adapters.webhooks.aurinko import AurinkoWebhookVerifier, sign
    from adapters.webhooks.whatsapp import HubSignatures
    from tests.fakes.clock import FakeClock

    spy = ConstantTime()
    monkeypatch.setattr(hmac, "compare_digest", spy)
    body = b'{"a":1}'
    WorkOsWebhookVerifier("sekret").verify(body, workos_headers("sekret", body))
    assert spy.calls == 1
    now = datetime(2026, 12, 7, tzinfo=UTC)
    stamp = str(int(now.timestamp()))
    AurinkoWebhookVerifier("hush", clock=FakeClock(now)).verify(
        body, {"X-Aurinko-Request-Timestamp": stamp, "X-Aurinko-Signature": sign("hush", stamp, body)}
    )
    assert spy.calls == 2
    expected = "sha256=" + hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()
    assert HubSignatures().valid(secret="app-secret", body=body, header=expected)
    assert spy.calls == 3
    assert signature_matches(SignatureMode.HMAC, "s", hmac.new(b"s", body, hashlib.sha256).hexdigest(), body)
    assert spy.calls == 4


@pytest.mark.parametrize(
    "shift, stamp, reason",
    [
        (-301, None, "more than 5 minutes old"),
        (301, None, "more than 5 minutes in the future"),
        (0, "\u00b2", "not a Unix time in seconds"),
        (0, "1" * 13, "not a Unix time in seconds"),
    ],
)
def test_standard_webhooks_say_why_a_delivery_is_refused(shift: int, stamp: str | None, reason: str) -> None:
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"type":"order.created"}'
    headers = polar_headers(secret, body, timestamp=int(time.time()) + shift)
    if stamp is not None:
        headers["webhook-timestamp"] = stamp
    with pytest.raises(SignatureRejected, match=reason):
        StandardWebhooksVerifier(secret).verify(body, headers)
    with pytest.raises(SignatureRejected, match="no signature matches"):
        StandardWebhooksVerifier(secret).verify(body + b" ", polar_headers(secret, body))
