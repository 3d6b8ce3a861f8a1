"""``POST /webhooks/aurinko``: the validationToken handshake, the signature (hex HMAC-SHA256 of
``v0:{timestamp}:{raw body}``, 5 minutes), and a notification stored in the webhook inbox and
processed into a sync of that account's inbox. A refused delivery leaves nothing behind."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from adapters.db.integrations.aurinko.tables import inbox_messages
from adapters.db.jobs.tables import jobs
from adapters.db.webhooks.tables import webhook_events
from adapters.webhooks.aurinko import sign
from domain.jobs.model import JobStatus
from tests.integration.aurinko_api import SIGNING_SECRET, aurinko_settings, connect
from tests.providers.aurinko import FakeAurinko, record
from tests.providers.server import ProviderServer, provider_server  # noqa: F401  (fixture)


@pytest.fixture
def fake(provider_server: ProviderServer) -> FakeAurinko:
    return FakeAurinko(provider_server)


@pytest.fixture
def service(make_service: Callable[..., Any], fake: FakeAurinko) -> Any:
    return make_service(**aurinko_settings(fake))


def notification(account_id: int | str = 8001) -> bytes:
    return json.dumps(
        {"subscription": 77, "resource": "/email/messages", "accountId": account_id,
         "payloads": [{"id": "msg-1", "changeType": "created"}]}
    ).encode()


def post(service: Any, body: bytes, *, timestamp: int | None = None, secret: str = SIGNING_SECRET,
         signature: str | None = None) -> Any:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    headers = {
        "X-Aurinko-Request-Timestamp": stamp,
        "X-Aurinko-Signature": signature if signature is not None else sign(secret, stamp, body),
        "Content-Type": "application/json",
    }
    return service.client.post("/webhooks/aurinko", data=body, headers=headers)


def count(service: Any, table: Any, *where: Any) -> int:
    with service.container.engine().connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def test_the_validation_handshake_echoes_the_token_and_stores_nothing(service: Any) -> None:
    response = service.client.post("/webhooks/aurinko?validationToken=abc-123_XYZ")

    assert response.status_code == 200 and response.get_data(as_text=True) == "abc-123_XYZ"
    assert response.mimetype == "text/plain" and response.headers["X-Content-Type-Options"] == "nosniff"
    assert count(service, webhook_events) == 0


def test_a_signed_notification_is_stored_and_queues_a_sync_of_that_account(service: Any, fake: FakeAurinko) -> None:
    connection = connect(service, service.headers("acme", role="admin"), fake, account_id="8001")
    worker = service.container.worker(schedules=())
    worker.run_once()  # the sync queued by connecting
    fake.add(record(1), record(2))

    response = post(service, notification(8001))

    assert response.status_code == 200 and response.get_json()["duplicate"] is False
    worker.run_once()
    [event, *_] = service.container.bus().handle(_list_events())
    assert str(event.status) == "PROCESSED" and event.tenant_id is not None
    hooked = [j for j in service.container.job_queue().find(kind="aurinko.sync") if ":hook:" in (j.idempotency_key or "")]
    assert hooked and all(j.status is JobStatus.SUCCEEDED for j in hooked)
    assert all(j.payload == {"connection_id": connection["id"]} for j in hooked)
    assert count(service, inbox_messages) == 2


def _list_events() -> Any:
    from application.webhooks.commands import ListWebhookEvents

    return ListWebhookEvents(actor=None, tenant_id=None, provider="aurinko", status=None, limit=10)


def test_the_same_delivery_twice_is_stored_once(service: Any, fake: FakeAurinko) -> None:
    connect(service, service.headers("acme", role="admin"), fake, account_id="8001")
    stamp = int(time.time())

    first = post(service, notification(), timestamp=stamp)
    second = post(service, notification(), timestamp=stamp)

    assert first.get_json()["duplicate"] is False and second.get_json()["duplicate"] is True
    assert count(service, webhook_events) == 1


@pytest.mark.parametrize(
    "bad",
    ["wrong-secret", "tampered-signature", "stale", "future", "no-signature", "not-a-timestamp"],
)
def test_a_bad_signature_or_stale_timestamp_is_refused_and_nothing_is_queued(
    service: Any, fake: FakeAurinko, bad: str
) -> None:
    connect(service, service.headers("acme", role="admin"), fake, account_id="8001")
    jobs_before = count(service, jobs)
    body = notification()
    now = int(time.time())
    response = {
        "wrong-secret": lambda: post(service, body, secret="another-secret"),
        "tampered-signature": lambda: post(service, body, signature=sign(SIGNING_SECRET, str(now), body + b" ")),
        "stale": lambda: post(service, body, timestamp=now - 6 * 60),
        "future": lambda: post(service, body, timestamp=now + 6 * 60),
        "no-signature": lambda: service.client.post("/webhooks/aurinko", data=body),
        "not-a-timestamp": lambda: service.client.post(
            "/webhooks/aurinko", data=body,
            headers={"X-Aurinko-Request-Timestamp": "yesterday", "X-Aurinko-Signature": "00"},
        ),
    }[bad]()

    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "INVALID_SIGNATURE"
    assert SIGNING_SECRET not in response.get_data(as_text=True)
    assert count(service, webhook_events) == 0
    assert count(service, jobs) == jobs_before


def test_a_notification_for_an_unknown_account_is_unmatched_and_syncs_nothing(service: Any, fake: FakeAurinko) -> None:
    connect(service, service.headers("acme", role="admin"), fake, account_id="8001")
    worker = service.container.worker(schedules=())
    worker.run_once()

    assert post(service, notification(9999)).status_code == 200
    worker.run_once()

    [event] = service.container.bus().handle(_list_events())
    assert str(event.status) == "UNMATCHED"
    assert [j for j in service.container.job_queue().find(kind="aurinko.sync") if ":hook:" in (j.idempotency_key or "")] == []


def test_without_a_signing_secret_the_route_is_not_configured(make_service: Callable[..., Any], fake: FakeAurinko) -> None:
    settings = {**aurinko_settings(fake), "aurinko_signing_secret": None}
    service = make_service(**settings)

    response = post(service, notification())

    assert response.status_code == 503 and count(service, webhook_events) == 0
