"""Edges of the webhook signature checks the mutation run found unpinned (issue 20, ``make mutate``):
each header missing on its own, the timestamp length limits exactly at the limit and one past it
(a different refusal on each side), the seconds/milliseconds cut-over and how milliseconds are cut
to seconds, and entries that are not ``v1``, not hex or not base64."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import UTC, datetime

import pytest

from adapters.webhooks.aurinko import AurinkoWebhookVerifier, sign
from adapters.webhooks.standard import StandardWebhooksVerifier
from adapters.webhooks.workos import WorkOsWebhookVerifier
from application.webhooks.ports import SignatureRejected
from tests.fakes.clock import FakeClock
from tests.webhook_signing import polar_headers, workos_headers

BODY = b'{"type":"order.created"}'
POLAR = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


# --- Standard Webhooks (Polar) ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["webhook-id", "webhook-timestamp", "webhook-signature"])
@pytest.mark.parametrize("blank", [None, "  "])
def test_standard_webhooks_name_the_header_that_is_missing_or_blank(name: str, blank: str | None) -> None:
    headers = polar_headers(POLAR, BODY)
    if blank is None:
        del headers[name]
    else:
        headers[name] = blank
    with pytest.raises(SignatureRejected, match=f"the {name} header is missing"):
        StandardWebhooksVerifier(POLAR).verify(BODY, headers)


@pytest.mark.parametrize("entry", ["v1,abc", "v2,YWJjZA==", "YWJjZA==", "v1,"])
def test_standard_webhooks_skip_entries_that_are_not_v1_base64(entry: str) -> None:
    headers = polar_headers(POLAR, BODY)
    good = headers["webhook-signature"]
    headers["webhook-signature"] = entry
    with pytest.raises(SignatureRejected, match="holds no v1,<base64> signature"):
        StandardWebhooksVerifier(POLAR).verify(BODY, headers)
    headers["webhook-signature"] = f"{entry} {good}"
    StandardWebhooksVerifier(POLAR).verify(BODY, headers)  # the good one after it still counts


def test_a_standard_webhooks_timestamp_of_12_digits_is_read_and_13_are_refused_unread() -> None:
    headers = polar_headers(POLAR, BODY)
    headers["webhook-timestamp"] = "1" * 12  # the year 5490: read, and too new
    with pytest.raises(SignatureRejected, match="more than 5 minutes in the future"):
        StandardWebhooksVerifier(POLAR).verify(BODY, headers)
    headers["webhook-timestamp"] = "1" * 13
    with pytest.raises(SignatureRejected, match="not a Unix time in seconds"):
        StandardWebhooksVerifier(POLAR).verify(BODY, headers)


# --- WorkOS ---------------------------------------------------------------------------------------


def _workos(header: str) -> None:
    WorkOsWebhookVerifier("sekret").verify(BODY, {"WorkOS-Signature": header})


@pytest.mark.parametrize("headers", [{}, {"WorkOS-Signature": "   "}])
def test_workos_says_the_header_is_missing(headers: dict[str, str]) -> None:
    with pytest.raises(SignatureRejected, match="the WorkOS-Signature header is missing"):
        WorkOsWebhookVerifier("sekret").verify(BODY, headers)


def test_workos_counts_only_v1_entries_of_64_hex_digits() -> None:
    stamp = str(int(time.time() * 1000))
    with pytest.raises(SignatureRejected, match="has no v1=<hex> signature"):
        _workos(f"t={stamp}, v1=zz")
    with pytest.raises(SignatureRejected, match="has no v1=<hex> signature"):
        _workos(f"t={stamp}, v0={'a' * 64}")
    with pytest.raises(SignatureRejected, match="has no v1=<hex> signature"):
        _workos(f"t={stamp}, v1={'a' * 63}")


def test_a_workos_timestamp_of_16_digits_is_read_and_17_are_refused_unread() -> None:
    future = workos_headers("sekret", BODY, timestamp_ms=int("9" * 16))["WorkOS-Signature"]
    with pytest.raises(SignatureRejected, match="more than 180 s in the future"):
        _workos(future)
    with pytest.raises(SignatureRejected, match="has no t=<unix ms>"):
        _workos(workos_headers("sekret", BODY, timestamp_ms=int("1" * 17))["WorkOS-Signature"])


# --- Aurinko --------------------------------------------------------------------------------------


def _aurinko(stamp: str, *, signature: str | None = None, body: bytes = BODY) -> None:
    headers = {"X-Aurinko-Request-Timestamp": stamp, "X-Aurinko-Signature": signature or sign("hush", stamp, body)}
    AurinkoWebhookVerifier("hush", clock=FakeClock(NOW)).verify(body, headers)


@pytest.mark.parametrize("missing", ["X-Aurinko-Request-Timestamp", "X-Aurinko-Signature"])
def test_aurinko_needs_both_headers_each_on_its_own(missing: str) -> None:
    stamp = str(int(NOW.timestamp()))
    headers = {"X-Aurinko-Request-Timestamp": stamp, "X-Aurinko-Signature": sign("hush", stamp, BODY)}
    headers[missing] = "  "
    with pytest.raises(SignatureRejected, match="are required"):
        AurinkoWebhookVerifier("hush", clock=FakeClock(NOW)).verify(BODY, headers)
    del headers[missing]
    with pytest.raises(SignatureRejected, match="are required"):
        AurinkoWebhookVerifier("hush", clock=FakeClock(NOW)).verify(BODY, headers)


@pytest.mark.parametrize("stamp", ["9" * 16, "1" * 16, "9" * 15, "1" * 12, "9" * 11])
def test_aurinko_timestamps_up_to_16_digits_are_read_and_far_ones_refused_not_crashed(stamp: str) -> None:
    # 16 digits of milliseconds is the year 318857: refused for its distance, never a ValueError.
    with pytest.raises(SignatureRejected, match="not within 5 minutes"):
        _aurinko(stamp)


def test_aurinko_reads_100_000_000_000_as_seconds_and_one_more_as_milliseconds() -> None:
    # Either way far from now; the refusal is the window's, so the cut-over itself is read apart:
    # as seconds it is the year 5138, as milliseconds 1973 - both refused, and 1 second later in ms is too.
    clock_1973 = FakeClock(datetime.fromtimestamp(100_000_000, UTC))
    stamp = "100000000001"  # milliseconds: 100,000,000.001 s
    AurinkoWebhookVerifier("hush", clock=clock_1973).verify(
        BODY, {"X-Aurinko-Request-Timestamp": stamp, "X-Aurinko-Signature": sign("hush", stamp, BODY)})
    stamp = "100000000000"  # not above the cut-over: seconds, the year 5138
    with pytest.raises(SignatureRejected, match="not within 5 minutes"):
        AurinkoWebhookVerifier("hush", clock=clock_1973).verify(
            BODY, {"X-Aurinko-Request-Timestamp": stamp, "X-Aurinko-Signature": sign("hush", stamp, BODY)})


def test_aurinko_cuts_milliseconds_down_to_the_second() -> None:
    # 300.999 s ahead is 300 s once the milliseconds are cut: inside the window, as Aurinko means it.
    _aurinko(str(int(NOW.timestamp() + 300) * 1000 + 999))
    with pytest.raises(SignatureRejected, match="not within 5 minutes"):
        _aurinko(str(int(NOW.timestamp() + 301) * 1000))


def test_aurinko_signatures_are_compared_as_lower_case_hex() -> None:
    stamp = str(int(NOW.timestamp()))
    _aurinko(stamp, signature=sign("hush", stamp, BODY).upper())
    expected = hmac.new(b"hush", b"v0:" + stamp.encode() + b":" + BODY, hashlib.sha256).hexdigest()
    assert sign("hush", stamp, BODY) == expected
