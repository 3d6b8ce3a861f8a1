"""Connecting QuickBooks Online end to end through the API, against the local QuickBooks (Intuit's
discovery document and token endpoint through intuit-oauth): the authorization URL, the signed
single-use state, the code exchange, the tokens sealed at rest, the mappings, disconnect (revoke),
one company per tenant, and no token or secret where it should not be."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select

from adapters.db.integrations.quickbooks.tables import qbo_connections
from adapters.secrets.fernet import FernetSecretBox
from tests.conftest import TEST_SECRET_KEY
from tests.fakes.clock import FakeClock
from tests.integration.api import data
from tests.integration.quickbooks_api import (
    AUTH_URL,
    DISCONNECT,
    EXCHANGE,
    GET_CONNECTION,
    SET_MAPPINGS,
    authorization_state,
    connect,
    quickbooks_settings,
    set_mappings,
)
from tests.providers.quickbooks import CLIENT_ID, CLIENT_SECRET, REALM, FakeQuickbooks
from tests.providers.server import ProviderServer, provider_server  # noqa: F401  (fixture)


@pytest.fixture
def fake(provider_server: ProviderServer) -> FakeQuickbooks:
    return FakeQuickbooks(provider_server)


@pytest.fixture
def service(make_service: Callable[..., Any], fake: FakeQuickbooks) -> Any:
    return make_service(**quickbooks_settings(fake))


def rows(service: Any) -> list[dict[str, Any]]:
    with service.container.engine().connect() as connection:
        return [dict(r._mapping) for r in connection.execute(select(qbo_connections))]


def test_the_authorization_url_names_the_app_scope_redirect_and_a_signed_state(service: Any, fake: FakeQuickbooks) -> None:
    result = data(service, AUTH_URL, headers=service.headers("acme", role="admin"))["getQboAuthorizationUrl"]

    url = urlparse(result["authorization"]["url"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{fake.server.url}/connect/oauth2"
    assert query["client_id"] == CLIENT_ID and query["response_type"] == "code"
    assert query["scope"] == "com.intuit.quickbooks.accounting"
    assert query["redirect_uri"] == "http://localhost/integrations/quickbooks/callback"
    assert query["state"].count(".") == 1 and CLIENT_SECRET not in result["authorization"]["url"]


def test_connecting_exchanges_the_code_and_keeps_both_tokens_sealed(
    service: Any, fake: FakeQuickbooks, capfd: pytest.CaptureFixture[str]
) -> None:
    headers = service.headers("acme", role="owner")

    connection = connect(service, headers, fake)

    assert connection["status"] == "CONNECTED" and connection["realmId"] == REALM
    assert connection["companyName"] == "Contabilidad Istmo S.A."
    assert connection["refreshHardExpiresAt"] is not None, "the hard expiry is asked for and kept"
    assert (connection["pendingCount"], connection["failedCount"], connection["syncedCount"]) == (0, 0, 0)
    [exchange] = fake.server.received("POST", r"/oauth2/v1/tokens/bearer")
    assert exchange.header("Authorization") == "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert exchange.header("x-include-refresh-token-hard-expires-in") == "true"
    [row] = rows(service)
    [access] = fake.access
    [refresh] = fake.refresh
    assert access not in row["access_sealed"] and refresh not in row["refresh_sealed"]
    box = FernetSecretBox([TEST_SECRET_KEY])
    context = f"quickbooks:{row['tenant_id']}:{row['id']}"
    assert box.open(row["access_sealed"], context=f"{context}:access") == access
    assert box.open(row["refresh_sealed"], context=f"{context}:refresh") == refresh
    assert data(service, GET_CONNECTION, headers=headers)["getQuickbooksConnection"]["connection"] == connection
    logged = capfd.readouterr()
    for secret in (access, refresh, CLIENT_SECRET):
        assert secret not in logged.out + logged.err


def test_a_used_state_is_refused_and_no_code_is_exchanged_again(service: Any, fake: FakeQuickbooks) -> None:
    headers = service.headers("acme", role="admin")
    state = authorization_state(service, headers)
    first = data(service, EXCHANGE, {"code": fake.issue_code(), "state": state, "realm": REALM}, headers=headers)
    assert first["exchangeQboAuthorizationCode"]["error"] is None

    again = data(service, EXCHANGE, {"code": fake.issue_code(), "state": state, "realm": REALM}, headers=headers)

    assert again["exchangeQboAuthorizationCode"]["error"] == {
        "code": "INVALID_OAUTH_STATE", "message": "state was used already: start the connection again", "field": "state",
    }
    assert len(fake.server.received("POST", r"/oauth2/v1/tokens/bearer")) == 1


@pytest.mark.parametrize("tamper", ["forged", "other-tenant", "other-user", "expired", "aurinko"])
def test_a_bad_state_is_refused_before_intuit_is_called(
    make_service: Callable[..., Any], fake: FakeQuickbooks, tamper: str
) -> None:
    service = make_service(**quickbooks_settings(fake))
    clock = FakeClock()
    service.container.clock.override(clock)
    headers = service.headers("acme", role="admin", subject="user-1")
    state = authorization_state(service, headers)
    if tamper == "forged":
        body, signature = state.split(".")
        state = f"{body}.{'0' * len(signature)}"
    elif tamper == "other-tenant":
        headers = service.headers("globex", role="admin", subject="user-1")
    elif tamper == "other-user":
        headers = service.headers("acme", role="admin", subject="user-2")
    elif tamper == "expired":
        clock.advance(timedelta(minutes=10))
    else:  # a state issued for Aurinko is not one for QuickBooks
        from application.integrations.aurinko.oauth_state import OAuthStateCodec

        state, _ = OAuthStateCodec(b"k" * 32).issue(tenant_id="t", user_id="user-1", service_type="Google",
                                                     scopes=("Mail.Read",), now=clock.now())

    result = data(service, EXCHANGE, {"code": fake.issue_code(), "state": state, "realm": REALM}, headers=headers)

    assert result["exchangeQboAuthorizationCode"]["error"]["code"] == "INVALID_OAUTH_STATE"
    assert result["exchangeQboAuthorizationCode"]["error"]["field"] == "state"
    assert fake.server.received("POST", r"/oauth2/v1/tokens/bearer") == []
    assert rows(service) == []


def test_a_state_expires_after_exactly_ten_minutes(make_service: Callable[..., Any], fake: FakeQuickbooks) -> None:
    service = make_service(**quickbooks_settings(fake))
    clock = FakeClock()
    service.container.clock.override(clock)
    headers = service.headers("acme", role="admin")
    state = authorization_state(service, headers)
    clock.advance(timedelta(minutes=10) - timedelta(seconds=1))

    result = data(service, EXCHANGE, {"code": fake.issue_code(), "state": state, "realm": REALM}, headers=headers)

    assert result["exchangeQboAuthorizationCode"]["error"] is None


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"code": "", "realm": REALM}, "code"),
        ({"code": "abc def", "realm": REALM}, "code"),
        ({"code": "abc\u0000", "realm": REALM}, "code"),
        ({"code": "x" * 2049, "realm": REALM}, "code"),
        ({"code": "ok", "realm": "9130.35"}, "realmId"),
        ({"code": "ok", "realm": "\u0669\u0661\u0662"}, "realmId"),  # Arabic-Indic digits are not a realm id
        ({"code": "ok", "realm": "1" * 33}, "realmId"),
    ],
)
def test_bad_input_is_refused_naming_the_field(service: Any, variables: dict[str, str], field: str) -> None:
    headers = service.headers("acme", role="admin")
    state = authorization_state(service, headers)

    result = data(service, EXCHANGE, {**variables, "state": state}, headers=headers)["exchangeQboAuthorizationCode"]

    assert result["connection"] is None and result["error"]["code"] == "INVALID_INPUT" and result["error"]["field"] == field
    assert rows(service) == []


def test_a_code_intuit_does_not_know_is_refused_and_nothing_is_stored(service: Any, fake: FakeQuickbooks) -> None:
    headers = service.headers("acme", role="admin")
    state = authorization_state(service, headers)

    result = data(service, EXCHANGE, {"code": "never-issued", "state": state, "realm": REALM}, headers=headers)

    assert result["exchangeQboAuthorizationCode"]["error"]["code"] == "QUICKBOOKS_REFUSED"
    assert "invalid_grant" in result["exchangeQboAuthorizationCode"]["error"]["message"]
    assert rows(service) == []


def test_one_company_cannot_be_connected_by_two_tenants(service: Any, fake: FakeQuickbooks) -> None:
    connect(service, service.headers("acme", role="admin"), fake)
    globex = service.headers("globex", role="admin")
    state = authorization_state(service, globex)

    result = data(service, EXCHANGE, {"code": fake.issue_code(), "state": state, "realm": REALM}, headers=globex)

    assert result["exchangeQboAuthorizationCode"]["error"]["code"] == "QUICKBOOKS_REALM_TAKEN"
    assert data(service, GET_CONNECTION, headers=globex)["getQuickbooksConnection"]["connection"] is None


def test_members_cannot_connect_or_see_the_connection(service: Any) -> None:
    member = service.headers("acme", role="member")

    assert data(service, AUTH_URL, headers=member)["getQboAuthorizationUrl"]["error"]["code"] == "PERMISSION_DENIED"
    assert data(service, GET_CONNECTION, headers=member)["getQuickbooksConnection"]["error"]["code"] == "PERMISSION_DENIED"


def test_an_instance_without_client_credentials_says_so(make_service: Callable[..., Any]) -> None:
    service = make_service()

    result = data(service, AUTH_URL, headers=service.headers("acme", role="admin"))["getQboAuthorizationUrl"]

    assert result["error"]["code"] == "QUICKBOOKS_NOT_CONFIGURED"


def test_mappings_need_every_itbms_rate_and_quickbooks_ids(service: Any, fake: FakeQuickbooks) -> None:
    headers = service.headers("acme", role="admin")
    connect(service, headers, fake)

    missing = data(service, SET_MAPPINGS, {"item": "1", "codes": [{"rate": 7, "taxCodeId": "TAX7"}]}, headers=headers)
    bad_rate = data(service, SET_MAPPINGS, {"item": "1", "codes": [{"rate": 8, "taxCodeId": "X"}]}, headers=headers)
    every = [{"rate": r, "taxCodeId": f"TAX{r}"} for r in (0, 7, 10, 15)]
    bad_id = data(service, SET_MAPPINGS, {"item": "1 OR 1=1", "codes": every}, headers=headers)
    twice = data(service, SET_MAPPINGS, {"item": "1", "codes": [*every, {"rate": 7, "taxCodeId": "X"}]}, headers=headers)

    assert missing["setQuickbooksMappings"]["error"]["field"] == "taxCodes"
    assert "0 %, 10 %, 15 %" in missing["setQuickbooksMappings"]["error"]["message"]
    assert bad_rate["setQuickbooksMappings"]["error"]["field"] == "taxCodes"
    assert bad_id["setQuickbooksMappings"]["error"]["field"] == "itemId"
    assert twice["setQuickbooksMappings"]["error"]["field"] == "taxCodes"
    connection = set_mappings(service, headers)
    assert connection["mappings"] == {
        "itemId": "1", "incomeAccountId": "79",
        "taxCodes": [{"rate": 0, "taxCodeId": "TAX0"}, {"rate": 7, "taxCodeId": "TAX7"},
                     {"rate": 10, "taxCodeId": "TAX10"}, {"rate": 15, "taxCodeId": "TAX15"}],
    }


def test_disconnecting_revokes_the_refresh_token_and_deletes_both(service: Any, fake: FakeQuickbooks) -> None:
    headers = service.headers("acme", role="admin")
    connect(service, headers, fake)
    [refresh] = fake.refresh

    result = data(service, DISCONNECT, headers=headers)["disconnectQuickbooks"]

    assert result["error"] is None and result["connection"]["status"] == "DISCONNECTED"
    assert fake.revoked == [refresh]
    [row] = rows(service)
    assert row["access_sealed"] is None and row["refresh_sealed"] is None
    again = data(service, DISCONNECT, headers=headers)["disconnectQuickbooks"]
    assert again["error"]["code"] == "QUICKBOOKS_NOT_CONNECTED"


def test_a_code_of_exactly_2048_characters_and_a_realm_of_32_digits_pass_validation(service: Any, fake: FakeQuickbooks) -> None:
    headers = service.headers("acme", role="admin")
    state = authorization_state(service, headers)

    result = data(service, EXCHANGE, {"code": "c" * 2048, "state": state, "realm": "1" * 32}, headers=headers)

    error = result["exchangeQboAuthorizationCode"]["error"]
    assert error["code"] == "QUICKBOOKS_REFUSED", "validated, then sent to Intuit, which does not know it"
    assert len(fake.server.received("POST", r"/oauth2/v1/tokens/bearer")) == 1
