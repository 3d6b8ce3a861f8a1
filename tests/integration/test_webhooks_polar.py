"""POST /webhooks/polar on SQLite and PostgreSQL: Standard Webhooks verification (both secret
schemes), the inbox (store before answering, duplicates, bad content kept), subscription events
applied in event order whatever the arrival order."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from adapters.db.tenancy.tables import tenant_subscriptions
from adapters.webhooks.standard import StandardWebhooksVerifier
from application.webhooks.ports import SignatureRejected
from tests.conftest import Service
from tests.integration.webhooks_helpers import POLAR_SECRET, count, events, process_jobs, run_jobs
from tests.webhook_signing import polar_headers, standard_key, standard_signature

LEGACY_SECRET = "polar_whs_legacy-secret-string"


@pytest.fixture
def polar(make_service: Callable[..., Service]) -> Service:
    return make_service(polar_webhook_secret=POLAR_SECRET)


def post(service: Service, body: bytes, headers: dict[str, str]) -> Any:
    return service.client.post("/webhooks/polar", data=body, headers=headers)


def subscription_event(kind: str, *, tenant: str, status: str, at: str, msg: str | None = None, **data: Any) -> bytes:
    payload = {
        "type": kind,
        "timestamp": at,
        "data": {
            "id": "sub_1", "status": status, "product_id": "prod_pro", "product": {"id": "prod_pro", "name": "Pro"},
            "current_period_end": "2027-01-01T00:00:00Z", "cancel_at_period_end": False,
            "customer": {"external_id": tenant}, **data,
        },
    }
    return json.dumps(payload).encode()


# --- the signature ----------------------------------------------------------------------------


def test_the_standard_webhooks_test_vector() -> None:
    key = standard_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    signature = standard_signature(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}')
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    # and the library the route uses agrees, once its clock is in the vector's tolerance window
    from standardwebhooks.webhooks import Webhook

    signed = Webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").sign(
        "msg_p5jXN8AQM9LWM0D4loKWxJek", datetime.fromtimestamp(1614265330, tz=UTC), '{"test": 2432232314}'
    )
    assert signed == signature


Sign = Callable[[bytes, str], dict[str, str]]


def _matrix(secret: str, legacy: bool) -> list[tuple[str, Sign, bytes | None, bool]]:
    """(case, how the delivery is signed, the body actually sent if not the signed one, accepted?)"""
    now = int(time.time())

    def good(body: bytes, msg_id: str, **kw: Any) -> dict[str, str]:
        return polar_headers(secret, body, msg_id=msg_id, legacy=legacy, **kw)

    def several(body: bytes, msg_id: str) -> dict[str, str]:
        headers = good(body, msg_id)
        wrong = polar_headers("whsec_QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB", body, msg_id=msg_id)["webhook-signature"]
        headers["webhook-signature"] = f"v1,bm90LXRoaXMtb25l {wrong} garbage v2,xyz {headers['webhook-signature']}"
        return headers

    def wrong_secret(body: bytes, msg_id: str) -> dict[str, str]:
        return polar_headers("whsec_d3Jvbmctc2VjcmV0LWtleS0xMjM0NQ==", body, msg_id=msg_id)

    def without(name: str) -> Sign:
        def sign(body: bytes, msg_id: str) -> dict[str, str]:
            headers = good(body, msg_id)
            del headers[name]
            return headers

        return sign

    def malformed_signature(body: bytes, msg_id: str) -> dict[str, str]:
        headers = good(body, msg_id)
        headers["webhook-signature"] = headers["webhook-signature"].replace("v1,", "v1;")
        return headers

    def malformed_timestamp(body: bytes, msg_id: str) -> dict[str, str]:
        headers = good(body, msg_id)
        headers["webhook-timestamp"] = "yesterday"
        return headers

    return [
        ("valid", good, None, True),
        ("several signatures, one valid", several, None, True),
        ("tampered body", good, b'{"type":"checkout.created","tampered":true}', False),
        ("wrong secret", wrong_secret, None, False),
        ("too old", lambda body, msg_id: good(body, msg_id, timestamp=now - 6 * 60), None, False),
        ("too new", lambda body, msg_id: good(body, msg_id, timestamp=now + 6 * 60), None, False),
        ("missing signature header", without("webhook-signature"), None, False),
        ("missing id header", without("webhook-id"), None, False),
        ("missing timestamp header", without("webhook-timestamp"), None, False),
        ("malformed signature header", malformed_signature, None, False),
        ("malformed timestamp header", malformed_timestamp, None, False),
    ]


@pytest.mark.parametrize("legacy", [False, True], ids=["whsec-scheme", "legacy-scheme"])
def test_the_signature_matrix(make_service: Callable[..., Service], legacy: bool) -> None:
    secret = LEGACY_SECRET if legacy else POLAR_SECRET
    service = make_service(polar_webhook_secret=secret)
    for index, (case, sign, sent, accepted) in enumerate(_matrix(secret, legacy)):
        body = json.dumps({"type": "checkout.created", "timestamp": "2026-12-01T10:00:00Z", "data": {"n": index}}).encode()
        headers = sign(body, f"msg_{index}")
        before = count(service, "webhook_events")
        response = post(service, sent if sent is not None else body, headers)
        if accepted:
            assert response.status_code == 200, (case, response.get_json())
            assert count(service, "webhook_events") == before + 1, case
        else:
            assert response.status_code == 401, (case, response.status_code, response.get_json())
            assert response.get_json()["error"]["code"] == "INVALID_SIGNATURE"
            assert count(service, "webhook_events") == before, case
    assert len(process_jobs(service)) == 2  # the two accepted ones, nothing for the refused


def test_a_signature_made_with_the_other_scheme_is_refused() -> None:
    """The standard secret's key is the decoded base64; signing with its string bytes is wrong,
    and the reverse for a secret that is not whsec_ (only its bytes are the key)."""
    body = b'{"type":"x"}'
    standard = StandardWebhooksVerifier(POLAR_SECRET)
    standard.verify(body, polar_headers(POLAR_SECRET, body))
    standard.verify(body, polar_headers(POLAR_SECRET, body, legacy=True))  # Polar's legacy reading of it
    legacy_only = StandardWebhooksVerifier(LEGACY_SECRET)
    legacy_only.verify(body, polar_headers(LEGACY_SECRET, body, legacy=True))
    with pytest.raises(SignatureRejected):
        legacy_only.verify(body, polar_headers("whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB", body))


# --- the inbox ---------------------------------------------------------------------------------


def test_a_verified_delivery_is_stored_and_a_duplicate_creates_nothing(polar: Service) -> None:
    body = b'{"type":"order.created","timestamp":"2026-12-01T10:00:00Z","data":{"id":"ord_1"}}'
    headers = polar_headers(POLAR_SECRET, body, msg_id="msg_dup")
    first = post(polar, body, headers)
    assert first.status_code == 200 and first.get_json()["duplicate"] is False
    again = post(polar, body, headers)
    assert again.status_code == 200 and again.get_json() == {**first.get_json(), "duplicate": True}
    [event] = events(polar)
    assert (event["provider"], event["provider_event_id"], event["event_type"]) == ("polar", "msg_dup", "order.created")
    assert bytes(event["body"]) == body
    assert "webhook-signature" in event["headers"] and "authorization" not in event["headers"]
    assert len(process_jobs(polar)) == 1
    run_jobs(polar)
    [event] = events(polar)
    assert event["status"] == "PROCESSED" and "nothing to do" in event["last_error"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"", "not JSON"), (b"not json at all", "not JSON"), (b"[1, 2]", "JSON list"), (b'{"data": {}}', "type is missing")],
    ids=["empty", "not-json", "not-an-object", "no-type"],
)
def test_a_signed_delivery_that_cannot_be_processed_is_kept_failed_with_the_reason(
    polar: Service, body: bytes, reason: str
) -> None:
    response = post(polar, body, polar_headers(POLAR_SECRET, body, msg_id="msg_bad"))
    assert response.status_code == 200
    run_jobs(polar)
    [event] = events(polar)
    assert event["status"] == "FAILED" and reason in event["last_error"], event["last_error"]
    assert bytes(event["body"]) == body


def test_a_huge_body_is_refused_with_413_and_nothing_stored(make_service: Callable[..., Service]) -> None:
    service = make_service(polar_webhook_secret=POLAR_SECRET, webhook_max_bytes=1024)
    body = json.dumps({"type": "x", "pad": "a" * 2000}).encode()
    response = post(service, body, polar_headers(POLAR_SECRET, body))
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "REQUEST_TOO_LARGE"
    assert count(service, "webhook_events") == 0


def test_without_a_configured_secret_the_route_answers_503_so_polar_retries(make_service: Callable[..., Service]) -> None:
    service = make_service()
    body = b'{"type":"x"}'
    assert post(service, body, polar_headers(POLAR_SECRET, body)).status_code == 503
    assert count(service, "webhook_events") == 0


def test_fifty_concurrent_deliveries_of_one_event_give_one_row_and_one_processing(polar: Service) -> None:
    tenant_id = polar.tenant("acme")
    body = subscription_event("subscription.active", tenant="acme", status="active", at="2026-12-01T10:00:00Z")
    headers = polar_headers(POLAR_SECRET, body, msg_id="msg_race")
    barrier = threading.Barrier(50)
    statuses: list[Any] = []
    lock = threading.Lock()

    def deliver() -> None:
        client = polar.app.test_client()
        barrier.wait()
        response = client.post("/webhooks/polar", data=body, headers=headers)
        with lock:
            statuses.append((response.status_code, response.get_json().get("duplicate")))

    threads = [threading.Thread(target=deliver) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [code for code, _ in statuses] == [200] * 50
    assert sorted(duplicate for _, duplicate in statuses) == [False] + [True] * 49
    assert count(polar, "webhook_events") == 1 and len(process_jobs(polar)) == 1
    run_jobs(polar)
    [job] = process_jobs(polar)
    assert (job["status"], job["attempts"]) == ("SUCCEEDED", 1)
    [event] = events(polar)
    assert (event["status"], event["attempts"], event["tenant_id"]) == ("PROCESSED", 1, tenant_id)


# --- subscriptions ------------------------------------------------------------------------------


def _subscription(service: Service) -> dict[str, Any]:
    with service.container.engine().connect() as connection:
        return dict(connection.execute(select(tenant_subscriptions)).mappings().one())


def test_subscription_events_apply_in_event_order_whatever_the_arrival_order(polar: Service) -> None:
    tenant_id = polar.tenant("acme")
    created = subscription_event("subscription.created", tenant="acme", status="incomplete", at="2026-12-01T10:00:00Z")
    active = subscription_event("subscription.active", tenant="acme", status="active", at="2026-12-01T10:01:00Z")
    canceled = subscription_event(
        "subscription.canceled", tenant="acme", status="active", at="2026-12-01T10:05:00Z", cancel_at_period_end=True
    )
    for msg, body in (("m3", canceled), ("m1", created), ("m2", active)):  # newest first
        assert post(polar, body, polar_headers(POLAR_SECRET, body, msg_id=msg)).status_code == 200
        run_jobs(polar)
    subscription = _subscription(polar)
    assert subscription["tenant_id"] == tenant_id
    assert (subscription["status"], subscription["cancel_at_period_end"], subscription["plan"]) == ("active", True, "Pro")
    assert subscription["event_at"] == datetime(2026, 12, 1, 10, 5, tzinfo=UTC)
    notes = {e["provider_event_id"]: (e["status"], e["last_error"]) for e in events(polar)}
    assert notes["m1"][0] == notes["m2"][0] == "PROCESSED" and "ignored" in notes["m1"][1] and "ignored" in notes["m2"][1]

    revoked = subscription_event(
        "subscription.revoked", tenant=tenant_id, status="canceled", at="2026-12-02T09:00:00Z"
    )
    post(polar, revoked, polar_headers(POLAR_SECRET, revoked, msg_id="m4"))
    run_jobs(polar)
    subscription = _subscription(polar)
    assert subscription["status"] == "canceled"
    assert subscription["ended_at"] == datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # revoked: access ends now


def test_a_subscription_of_an_unknown_tenant_is_unmatched_then_replayed_once_it_exists(polar: Service) -> None:
    from tests.integration.api import data

    body = subscription_event("subscription.active", tenant="org_later", status="active", at="2026-12-01T10:00:00Z")
    post(polar, body, polar_headers(POLAR_SECRET, body, msg_id="m-later"))
    run_jobs(polar)
    [event] = events(polar)
    assert event["status"] == "UNMATCHED" and "org_later" in event["last_error"] and event["tenant_id"] is None
    polar.tenant("later", external_id="org_later")
    from application.webhooks.commands import ReplayWebhookEvent

    polar.container.bus().handle(ReplayWebhookEvent(actor=None, event_id=event["id"]))
    run_jobs(polar)
    [event] = events(polar)
    assert event["status"] == "PROCESSED" and event["replays"] == 1
    assert _subscription(polar)["status"] == "active"
    # now the tenant's admins see it
    page = data(polar, "{ webhookEvents { edges { node { id status replays } } } }", headers=polar.headers("later"))
    assert page["webhookEvents"]["edges"] == [{"node": {"id": event["id"], "status": "PROCESSED", "replays": 1}}]


def test_a_subscription_event_with_bad_fields_fails_naming_the_field(polar: Service) -> None:
    polar.tenant("acme")
    body = subscription_event("subscription.updated", tenant="acme", status="sleeping", at="2026-12-01T10:00:00Z")
    post(polar, body, polar_headers(POLAR_SECRET, body, msg_id="m-bad"))
    run_jobs(polar)
    [event] = events(polar)
    assert event["status"] == "FAILED" and "data.status" in event["last_error"]
    assert count(polar, "tenant_subscriptions") == 0
