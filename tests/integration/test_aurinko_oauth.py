"""Connecting a tenant's mailbox through Aurinko, end to end through the API, against the local
Aurinko server: the authorize URL, the signed single-use state, the code exchange (HTTP Basic),
the token sealed at rest, disconnect (revoke), and no token or secret anywhere it should not be."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select

from adapters.db.integrations.aurinko.tables import aurinko_connections
from adapters.secrets.fernet import FernetSecretBox
from application.shared.secrets import SecretUnreadable
from tests.conftest import TEST_SECRET_KEY
from tests.fakes.clock import FakeClock
from tests.integration.api import data, gql
from tests.integration.aurinko_api import (
    AUTH_URL,
    CONNECT,
    DISCONNECT,
    GET_CONNECTION,
    aurinko_settings,
    authorization_state,
    connect,
)
from tests.providers.aurinko import CLIENT_ID, CLIENT_SECRET, FakeAurinko
from tests.providers.server import ProviderServer, Reply, provider_server  # noqa: F401  (fixture)

TOKEN = "tok-live-1"


@pytest.fixture
def fake(provider_server: ProviderServer) -> FakeAurinko:
    return FakeAurinko(provider_server)


@pytest.fixture
def service(make_service: Callable[..., Any], fake: FakeAurinko) -> Any:
    return make_service(**aurinko_settings(fake))


def rows(service: Any) -> list[dict[str, Any]]:
    with service.container.engine().connect() as connection:
        return [dict(r._mapping) for r in connection.execute(select(aurinko_connections))]


def test_the_authorization_url_names_the_app_service_scopes_return_url_and_a_signed_state(service: Any) -> None:
    headers = service.headers("acme", role="admin")

    result = data(service, AUTH_URL, {"s": "office365", "scopes": ["Mail.Read"]}, headers=headers)
    authorization = result["getAurinkoAuthorizationUrl"]["authorization"]

    url = urlparse(authorization["url"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{service.container.settings().aurinko_base_url}/v1/auth/authorize"
    assert query["clientId"] == CLIENT_ID and query["serviceType"] == "Office365"
    assert query["scopes"] == "Mail.Read" and query["responseType"] == "code"
    assert query["returnUrl"] == "http://localhost/integrations/aurinko/callback"
    assert "." in query["state"] and CLIENT_SECRET not in authorization["url"]


@pytest.mark.parametrize(("variables", "field"), [({"s": "Hotmail"}, "serviceType"),
                                                   ({"s": "Google", "scopes": ["Calendar.Read"]}, "scopes")])
def test_a_bad_service_type_or_scope_is_refused_naming_it(service: Any, variables: dict[str, Any], field: str) -> None:
    result = data(service, AUTH_URL, variables, headers=service.headers("acme"))["getAurinkoAuthorizationUrl"]

    assert result["authorization"] is None
    assert result["error"]["code"] == "INVALID_INPUT" and result["error"]["field"] == field


def test_members_cannot_connect_or_see_the_connection(service: Any) -> None:
    member = service.headers("acme", role="member")

    assert data(service, AUTH_URL, {"s": "Google"}, headers=member)["getAurinkoAuthorizationUrl"]["error"]["code"] == (
        "PERMISSION_DENIED"
    )
    assert data(service, GET_CONNECTION, headers=member)["getAurinkoConnection"]["error"]["code"] == "PERMISSION_DENIED"
    assert data(service, DISCONNECT, headers=member)["disconnectAurinko"]["error"]["code"] == "PERMISSION_DENIED"


def test_connecting_exchanges_the_code_with_basic_auth_and_stores_the_token_sealed(
    service: Any, fake: FakeAurinko, capfd: pytest.CaptureFixture[str]
) -> None:
    headers = service.headers("acme", role="owner")

    connection = connect(service, headers, fake, code="code-abc", account_id="8001", token=TOKEN)

    assert connection["status"] == "ACTIVE" and connection["accountId"] == "8001"
    assert connection["email"] == "ventas@pyme.pa" and connection["serviceType"] == "Google"
    assert connection["scopes"] == ["Mail.Read", "Mail.Send"]
    [exchange] = fake.server.received("POST", r"/v1/auth/token/code-abc")
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert exchange.header("Authorization") == f"Basic {basic}"
    [row] = rows(service)
    assert TOKEN not in row["token_sealed"]
    tenant_id = row["tenant_id"]
    box = FernetSecretBox([TEST_SECRET_KEY])
    assert box.open(row["token_sealed"], context=f"aurinko:{tenant_id}:{row['id']}") == TOKEN
    with pytest.raises(SecretUnreadable):  # the ciphertext belongs to this row only
        box.open(row["token_sealed"], context=f"aurinko:{tenant_id}:another-connection")

    seen = data(service, GET_CONNECTION, headers=headers)["getAurinkoConnection"]["connection"]
    assert seen == connection
    [job] = service.container.job_queue().find(kind="aurinko.sync")
    assert job.payload == {"connection_id": connection["id"]}, "the first sync is queued, by id only"
    logged = capfd.readouterr()
    for secret in (TOKEN, CLIENT_SECRET, "code-abc"):
        assert secret not in logged.out + logged.err


def test_a_used_state_is_refused_and_nothing_is_exchanged_again(service: Any, fake: FakeAurinko) -> None:
    headers = service.headers("acme", role="admin")
    state = authorization_state(service, headers)
    first = data(service, CONNECT, {"code": fake.issue_code("c1"), "state": state}, headers=headers)
    assert first["connectAurinko"]["error"] is None

    again = data(service, CONNECT, {"code": fake.issue_code("c2"), "state": state}, headers=headers)

    assert again["connectAurinko"] == {
        "connection": None,
        "error": {"code": "INVALID_OAUTH_STATE", "message": "state was used already: start the connection again",
                  "field": "state"},
    }
    assert fake.server.received("POST", r"/v1/auth/token/c2") == []


@pytest.mark.parametrize("tamper", ["garbage", "other-user", "other-tenant", "bad-signature", "expired"])
def test_a_bad_state_is_refused_before_aurinko_is_called(
    make_service: Callable[..., Any], fake: FakeAurinko, tamper: str
) -> None:
    service = make_service(**aurinko_settings(fake))
    clock = FakeClock()
    service.container.clock.override(clock)
    headers = service.headers("acme", role="admin", subject="user-1")
    state = authorization_state(service, headers)
    payload, signature = state.split(".")
    bad, use = {
        "garbage": ("not-a-state", headers),
        "other-user": (state, service.headers("acme", role="admin", subject="user-2")),
        "other-tenant": (state, service.headers("globex", role="admin", subject="user-1")),
        "bad-signature": (f"{payload}.{'0' * len(signature)}", headers),
        "expired": (state, headers),
    }[tamper]
    if tamper == "expired":
        clock.advance(timedelta(minutes=10, seconds=1))

    result = data(service, CONNECT, {"code": fake.issue_code(), "state": bad}, headers=use)["connectAurinko"]

    assert result["error"]["code"] == "INVALID_OAUTH_STATE" and result["error"]["field"] == "state"
    assert fake.server.received("POST", r"/v1/auth/token/.*") == []
    assert rows(service) == []


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        (Reply.json({"code": "auth.code.invalid"}, status=400), "AURINKO_REFUSED"),
        (Reply.json({"code": "unauthorized"}, status=401), "AURINKO_REFUSED"),
        (Reply.json({"code": "internal"}, status=503), "AURINKO_UNAVAILABLE"),
        (Reply.json({"code": "tooMany"}, status=429, headers={"Retry-After": "7"}), "AURINKO_UNAVAILABLE"),
        (Reply(status=200, body=b"{not json", headers={"Content-Type": "application/json"}), "AURINKO_UNAVAILABLE"),
        (Reply.json({"accountId": 1}), "AURINKO_UNAVAILABLE"),  # no accessToken
    ],
)
def test_a_failed_exchange_is_a_clear_error_and_nothing_is_stored(
    service: Any, fake: FakeAurinko, reply: Reply, code: str
) -> None:
    headers = service.headers("acme", role="admin")
    state = authorization_state(service, headers)
    fake.server.route("POST", r"/v1/auth/token/(.+)", reply)

    result = data(service, CONNECT, {"code": "code-x", "state": state}, headers=headers)["connectAurinko"]

    assert result["connection"] is None and result["error"]["code"] == code
    assert "code-x" not in result["error"]["message"] and CLIENT_SECRET not in result["error"]["message"]
    assert rows(service) == []
    assert service.container.job_queue().find(kind="aurinko.sync") == []


def test_without_client_credentials_aurinko_is_not_configured(make_service: Callable[..., Any]) -> None:
    service = make_service()
    result = data(service, AUTH_URL, {"s": "Google"}, headers=service.headers("acme"))

    assert result["getAurinkoAuthorizationUrl"]["error"]["code"] == "AURINKO_NOT_CONFIGURED"


def test_connecting_again_updates_the_one_connection_with_the_new_token(service: Any, fake: FakeAurinko) -> None:
    headers = service.headers("acme", role="admin")
    first = connect(service, headers, fake, code="c1", account_id="8001", token="tok-a")

    second = connect(service, headers, fake, code="c2", account_id="8001", token="tok-b")

    assert second["id"] == first["id"]
    [row] = rows(service)
    context = f"aurinko:{row['tenant_id']}:{row['id']}"
    assert FernetSecretBox([TEST_SECRET_KEY]).open(row["token_sealed"], context=context) == "tok-b"


def test_disconnecting_revokes_the_token_at_aurinko_and_deletes_it(service: Any, fake: FakeAurinko) -> None:
    headers = service.headers("acme", role="admin")
    connect(service, headers, fake, token=TOKEN)

    result = data(service, DISCONNECT, headers=headers)["disconnectAurinko"]

    assert result["error"] is None and result["connection"]["status"] == "DISCONNECTED"
    [revoke] = fake.server.received("DELETE", r"/v1/account/token")
    assert revoke.header("Authorization") == f"Bearer {TOKEN}"
    [row] = rows(service)
    assert row["token_sealed"] is None
    again = data(service, DISCONNECT, headers=headers)["disconnectAurinko"]
    assert again["error"]["code"] == "AURINKO_NOT_CONNECTED"


def test_a_revoke_that_fails_for_now_keeps_the_connection_so_it_can_be_tried_again(
    service: Any, fake: FakeAurinko
) -> None:
    headers = service.headers("acme", role="admin")
    connect(service, headers, fake, token=TOKEN)
    fake.server.route("DELETE", r"/v1/account/token", Reply.json({"code": "internal"}, status=502))

    result = data(service, DISCONNECT, headers=headers)["disconnectAurinko"]

    assert result["error"]["code"] == "AURINKO_UNAVAILABLE"
    [row] = rows(service)
    assert row["status"] == "ACTIVE" and row["token_sealed"] is not None


def test_a_token_aurinko_already_forgot_is_disconnected_all_the_same(service: Any, fake: FakeAurinko) -> None:
    headers = service.headers("acme", role="admin")
    connect(service, headers, fake, token=TOKEN)
    fake.dead_tokens.add(TOKEN)

    result = data(service, DISCONNECT, headers=headers)["disconnectAurinko"]

    assert result["connection"]["status"] == "DISCONNECTED"
    assert rows(service)[0]["token_sealed"] is None


def test_no_response_ever_carries_the_token(service: Any, fake: FakeAurinko) -> None:
    headers = service.headers("acme", role="admin")
    connect(service, headers, fake, token=TOKEN)

    for query in (GET_CONNECTION, DISCONNECT, GET_CONNECTION):
        body = gql(service, query, headers=headers)
        assert TOKEN not in str(body) and "gAAAA" not in str(body)  # neither the token nor its seal


def test_secrets_rotate_reseals_the_token_and_the_connection_keeps_working(
    make_service: Callable[..., Any], fake: FakeAurinko
) -> None:
    from adapters.db.secrets import rotate_sealed_columns
    from adapters.secrets.fernet import generate_key

    service = make_service(**aurinko_settings(fake))
    headers = service.headers("acme", role="admin")
    connect(service, headers, fake, token=TOKEN)
    new_key = generate_key()

    report = rotate_sealed_columns(service.container.engine(), FernetSecretBox([new_key, TEST_SECRET_KEY]))

    assert report.resealed["aurinko_connections.token_sealed"] == 1 and report.unreadable == {}
    [row] = rows(service)
    context = f"aurinko:{row['tenant_id']}:{row['id']}"
    assert FernetSecretBox([new_key]).open(row["token_sealed"], context=context) == TOKEN
    rotated = make_service(**aurinko_settings(fake), secret_keys=(new_key,))
    assert data(rotated, DISCONNECT, headers=rotated.headers("acme", role="admin"))["disconnectAurinko"]["error"] is None
    assert fake.server.received("DELETE", r"/v1/account/token")[0].header("Authorization") == f"Bearer {TOKEN}"
