"""The database away (nothing listens where it should be): every route answers 503 with
``Retry-After`` and a code that says so, and the log has one line for the outage, no tracebacks."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from entrypoints.http import outage
from tests.webhook_signing import polar_headers

AWAY = "postgresql+psycopg://postgres@127.0.0.1:9/istmo_away?connect_timeout=2"
POLAR_SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class Lines:
    def __init__(self) -> None:
        self.events: list[str] = []

    def warning(self, event: str, **fields: object) -> None:
        self.events.append(event)

    info = warning


@pytest.fixture
def away(make_service: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Lines]:
    lines = Lines()
    monkeypatch.setattr(outage, "log", lines)
    monkeypatch.setattr(outage, "OUTAGE", outage.Outage())
    return make_service(database_url=AWAY, polar_webhook_secret=POLAR_SECRET), lines


def assert_unavailable(response: Any) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "5"
    assert response.get_json()["error"]["code"] == "DATABASE_UNAVAILABLE"


def test_a_webhook_is_503_with_retry_after_and_one_line_per_outage(away: tuple[Any, Lines]) -> None:
    service, lines = away
    body = json.dumps({"type": "subscription.updated", "timestamp": "2026-12-07T00:00:00Z", "data": {}}).encode()
    for n in range(3):
        headers = polar_headers(POLAR_SECRET, body, msg_id=f"msg_{n}")
        assert_unavailable(service.client.post("/webhooks/polar", data=body, headers=headers))
    assert lines.events == ["database.unavailable"]


def test_graphql_is_503_with_retry_after_too(away: tuple[Any, Lines]) -> None:
    service, lines = away
    token = service.container.settings().jwt_secret
    from adapters.auth.jwt import HmacJwtVerifier

    bearer = HmacJwtVerifier(token).issue(tenant="acme", subject="u", role="owner", ttl_seconds=600)
    response = service.client.post("/graphql", json={"query": "{ me { tenantId } }"},
                                   headers={"Authorization": f"Bearer {bearer}"})
    assert_unavailable(response)
    assert lines.events == ["database.unavailable"]


def test_the_end_of_an_outage_is_logged_once_by_a_request_that_began_after_it() -> None:
    lines = Lines()
    watch = outage.Outage()
    original, outage.log = outage.log, lines
    try:
        watch.over(time.monotonic())  # no outage: nothing to say
        before = time.monotonic()
        watch.seen(ConnectionError())
        watch.seen(ConnectionError())
        watch.over(before)  # began before the outage: its success proves nothing
        assert lines.events == ["database.unavailable"]
        after = time.monotonic()
        watch.over(after)
        watch.over(after)
    finally:
        outage.log = original
    assert lines.events == ["database.unavailable", "database.back"]


class AwayBus:
    def handle(self, message: Any, **_: Any) -> Any:
        from sqlalchemy.exc import OperationalError

        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))


@pytest.mark.parametrize("env", ["dev", "production"])
def test_a_resolver_that_finds_the_database_away_makes_the_answer_503(
    make_service: Any, monkeypatch: pytest.MonkeyPatch, env: str
) -> None:
    from dependency_injector import providers

    from entrypoints.app import create_app

    lines = Lines()
    monkeypatch.setattr(outage, "log", lines)
    monkeypatch.setattr(outage, "OUTAGE", outage.Outage())
    service = make_service(env=env)
    headers = service.headers("acme")  # while the database is there
    service.container.bus.override(providers.Object(AwayBus()))
    response = create_app(container=service.container).test_client().post(
        "/graphql", json={"query": '{ getFileById(id: "00000000-0000-4000-8000-000000000000") { file { id } } }'},
        headers=headers,
    )
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    [error] = response.get_json()["errors"]
    assert error["extensions"]["code"] == "DATABASE_UNAVAILABLE" and "Traceback" not in response.get_data(as_text=True)
    assert lines.events == ["database.unavailable"]
