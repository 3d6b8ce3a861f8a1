"""Production mode and operations: no explorer or introspection, query limits, masked errors,
health probes and request ids."""

from __future__ import annotations

import re
import socket
from dataclasses import replace
from typing import Any

import pytest
from dependency_injector import providers

from tests.integration.api import gql

UUID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def production(make_service: Any) -> Any:
    return make_service(env="production")


def errors_of(payload: dict[str, Any]) -> list[str]:
    return [error["message"] for error in payload.get("errors", [])]


# --- explorer and introspection -----------------------------------------------------------


def test_production_serves_no_explorer(production: Any) -> None:
    response = production.client.get("/graphql")
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "METHOD_NOT_ALLOWED"
    assert b"graphiql" not in response.data.lower()


def test_dev_serves_the_graphiql_explorer(service: Any) -> None:
    response = service.client.get("/graphql")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert b"graphiql" in response.data.lower()


@pytest.mark.parametrize(
    "query", ["{ __schema { types { name } } }", '{ __type(name: "File") { fields { name } } }']
)
def test_production_refuses_introspection(production: Any, query: str) -> None:
    payload = gql(production, query, headers=production.headers("acme"), expect_status=400)
    assert payload.get("data") is None
    assert any("introspection" in message.lower() for message in errors_of(payload)), payload


def test_dev_allows_introspection(service: Any) -> None:
    payload = gql(service, '{ __type(name: "File") { name } }', headers=service.headers("acme"))
    assert payload["data"]["__type"] == {"name": "File"}


# --- limits -------------------------------------------------------------------------------


DEEP = "query Deep { findFiles { edges { node { entities { entityType } } } } }"  # 5 levels


@pytest.mark.parametrize("limit", [3, 4])
def test_production_refuses_a_query_deeper_than_the_limit(make_service: Any, limit: int) -> None:
    service = make_service(env="production", graphql_max_depth=limit)
    payload = gql(service, DEEP, headers=service.headers("acme"), expect_status=400)
    assert payload.get("data") is None
    [message] = errors_of(payload)
    # the rule stops counting once past the limit, so it reports limit + 1 levels, not the full 5
    assert message == f"Deep is deeper than the limit of {limit} levels", message


def test_the_depth_limit_counts_fragments(make_service: Any) -> None:
    service = make_service(env="production", graphql_max_depth=3)
    query = (
        "query { findFiles { ...Page } } "
        "fragment Page on FileConnection { edges { node { entities { entityId } } } }"
    )
    payload = gql(service, query, headers=service.headers("acme"), expect_status=400)
    assert any(message.endswith("deeper than the limit of 3 levels") for message in errors_of(payload)), payload


def test_a_query_within_the_depth_limit_runs(make_service: Any) -> None:
    service = make_service(env="production", graphql_max_depth=5)
    payload = gql(service, DEEP, headers=service.headers("acme"))
    assert payload["data"]["findFiles"]["edges"] == []


def test_production_refuses_a_query_with_too_many_tokens(make_service: Any) -> None:
    service = make_service(env="production", graphql_max_tokens=30)
    query = "{ " + " ".join(f"a{i}: entityTypes" for i in range(20)) + " }"  # 62 tokens
    payload = gql(service, query, headers=service.headers("acme"), expect_status=400)
    assert payload.get("data") is None
    assert any("more than 30 tokens" in message for message in errors_of(payload)), payload


def test_production_refuses_a_query_costlier_than_the_limit(make_service: Any) -> None:
    service = make_service(env="production", graphql_max_cost=10)
    query = "{ " + " ".join(f"f{i}: findFiles {{ edges {{ cursor }} }}" for i in range(8)) + " }"
    payload = gql(service, query, headers=service.headers("acme"), expect_status=400)
    assert payload.get("data") is None
    assert any("exceeds the maximum cost of 10" in message for message in errors_of(payload)), payload
    cheap = gql(service, "{ me { tenantId } }", headers=service.headers("acme"))
    assert cheap["data"]["me"]["tenantId"]


# --- masked errors ------------------------------------------------------------------------


class ExplodingBus:
    def handle(self, message: Any) -> Any:
        raise RuntimeError("secret detail")


def test_an_unexpected_error_is_masked_in_production(production: Any) -> None:
    from entrypoints.app import create_app

    headers = production.headers("acme")  # the tenant is created with the real bus
    production.container.bus.override(providers.Object(ExplodingBus()))
    app = create_app(container=production.container)

    response = app.test_client().post(
        "/graphql",
        json={"query": f'{{ getFileById(id: "{UUID}") {{ file {{ id }} }} }}'},
        headers={**headers, "X-Request-ID": "req-masked-1"},
    )

    body = response.get_data(as_text=True)
    assert "secret detail" not in body and "Traceback" not in body and "RuntimeError" not in body
    payload = response.get_json()
    assert payload["data"] is None
    [error] = payload["errors"]
    assert error["message"] == "Internal server error"
    assert error["path"] == ["getFileById"]
    assert error["extensions"] == {"code": "INTERNAL", "requestId": "req-masked-1"}
    assert response.headers["X-Request-ID"] == "req-masked-1"


def test_an_unexpected_error_in_a_batched_field_is_masked_too(production: Any) -> None:
    from entrypoints.app import create_app

    headers = production.headers("acme")
    production.container.bus.override(providers.Object(ExplodingBus()))
    app = create_app(container=production.container)

    response = app.test_client().post(
        "/graphql",
        json={"query": '{ findFilesByEntity(entityType: "INVOICE", entityId: "i-1") { files { id } } }'},
        headers=headers,
    )

    body = response.get_data(as_text=True)
    assert "secret detail" not in body and "Traceback" not in body
    [error] = response.get_json()["errors"]
    assert error["message"] == "Internal server error"
    assert error["extensions"]["requestId"] == response.headers["X-Request-ID"]


# --- health -------------------------------------------------------------------------------


def test_healthz(service: Any) -> None:
    response = service.client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_readyz_when_database_and_storage_are_reachable(service: Any) -> None:
    response = service.client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "checks": {"database": "ok", "storage": "ok"}}


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("kind", ["directory", "closed-port"])
def test_readyz_is_503_naming_the_database_when_it_is_unreachable(
    make_service: Any, tmp_path: Any, kind: str
) -> None:
    from entrypoints.app import create_app
    from entrypoints.container import build_container

    base = make_service().container.settings()
    if kind == "directory":
        (tmp_path / "a-directory").mkdir()
        url = f"sqlite:///{tmp_path / 'a-directory'}"
    else:
        url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/istmo?connect_timeout=2"
    container = build_container(replace(base, database_url=url))
    try:
        response = create_app(container=container).test_client().get("/readyz")
    finally:
        container.shutdown_resources()

    assert response.status_code == 503
    body = response.get_json()
    assert body == {"status": "unavailable", "checks": {"database": "unreachable", "storage": "ok"}}
    assert "psycopg" not in response.get_data(as_text=True) and "sqlite3" not in response.get_data(
        as_text=True
    )


def test_readyz_is_503_naming_the_storage_when_it_is_unusable(make_service: Any, tmp_path: Any) -> None:
    (tmp_path / "not-a-dir").write_text("a file where the files directory should be")
    service = make_service(files_dir=tmp_path / "not-a-dir")
    response = service.client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"] == {"database": "ok", "storage": "unreachable"}


# --- request ids --------------------------------------------------------------------------


def test_a_valid_request_id_is_echoed(service: Any) -> None:
    response = service.client.get("/healthz", headers={"X-Request-ID": "abc.DEF_123-x"})
    assert response.headers["X-Request-ID"] == "abc.DEF_123-x"


@pytest.mark.parametrize("offered", [None, "", "has spaces", "x" * 65, "semi;colon", "new\u00f1"])
def test_a_missing_or_invalid_request_id_is_replaced_by_a_generated_one(
    service: Any, offered: str | None
) -> None:
    headers = {} if offered is None else {"X-Request-ID": offered}
    first = service.client.get("/healthz", headers=headers).headers["X-Request-ID"]
    second = service.client.get("/healthz", headers=headers).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first) and re.fullmatch(r"[0-9a-f]{32}", second)
    assert first != second


def test_errors_carry_the_request_id_too(service: Any) -> None:
    response = service.client.post(
        "/graphql", json={"query": "{ me { tenantId } }"}, headers={"X-Request-ID": "r-401"}
    )
    assert response.status_code == 401 and response.headers["X-Request-ID"] == "r-401"
    missing = service.client.get("/no-such-route", headers={"X-Request-ID": "r-404"})
    assert missing.status_code == 404 and missing.headers["X-Request-ID"] == "r-404"
    assert missing.get_json()["error"]["code"] == "NOT_FOUND"


# --- operations with variables, messages that give nothing away, refused field arguments ----------


def test_production_runs_an_operation_with_variables(production: Any) -> None:
    headers = production.headers("acme")
    payload = gql(production, "query($i: ID!) { getInvoiceById(id: $i) { error { code } } }", {"i": UUID},
                  headers=headers)
    assert payload == {"data": {"getInvoiceById": {"error": {"code": "NOT_FOUND"}}}}, payload
    paged = gql(production, "query($n: Int) { findFiles(first: $n) { edges { cursor } } }", {"n": 5}, headers=headers)
    assert paged == {"data": {"findFiles": {"edges": []}}}, paged


def test_production_uploads_a_file_through_a_variable(production: Any) -> None:
    from tests.integration.api import add_file

    file = add_file(production, production.headers("acme"), b"%PDF-1.4 factura", filename="factura.pdf")
    assert file["name"] == "factura.pdf"


@pytest.mark.parametrize("mode", ["production", "dev"])
def test_an_unknown_field_is_named_and_production_suggests_nothing(make_service: Any, mode: str) -> None:
    service = make_service(env=mode)
    payload = gql(service, "{ me { tenantIdd } }", headers=service.headers("acme"), expect_status=400)
    [message] = errors_of(payload)
    assert message.startswith("Cannot query field 'tenantIdd' on type 'Me'."), message
    assert ("Did you mean" in message) is (mode == "dev"), message


@pytest.mark.parametrize("expires_in, refused", [(0, True), (-1, True), (1, False), (604800, False), (604801, True)])
def test_a_refused_signed_url_lifetime_is_a_clear_error_not_an_internal_one(
    production: Any, expires_in: int, refused: bool
) -> None:
    from tests.integration.api import add_file

    headers = production.headers("acme")
    file = add_file(production, headers, b"contenido", filename="nota.txt")
    query = "query($id: ID!, $s: Int) { getFileById(id: $id) { file { signedUrl(expiresIn: $s) } } }"
    payload = gql(production, query, {"id": file["id"], "s": expires_in}, headers=headers, expect_status=None)
    if not refused:
        assert payload["data"]["getFileById"]["file"]["signedUrl"], payload
        return
    [error] = payload["errors"]
    assert error["message"] == "expiresIn must be between 1 and 604800 seconds", error
    assert error["extensions"] == {"code": "INVALID_INPUT", "field": "expiresIn"}, error


def test_a_fragment_bomb_is_walked_once_per_fragment_and_refused(make_service: Any) -> None:
    # F0 spreads F1 twice, F1 spreads F2 twice, ...: 2^60 paths, 62 levels of selections
    service = make_service(env="production", graphql_max_depth=12, graphql_max_tokens=100_000)
    levels = 60
    fragments = " ".join(f"fragment F{i} on Me {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels))
    query = f"query Bomb {{ me {{ ...F0 }} }} {fragments} fragment F{levels} on Me {{ tenantId }}"
    payload = gql(service, query, headers=service.headers("acme"), expect_status=400)
    # the depth rule walks each fragment once (it walked every path: this request never ended);
    # the bomb is 2 levels deep, and its cost (2^60 fields) is what refuses it
    [message] = errors_of(payload)
    assert message == f"The query exceeds the maximum cost of 5000. Actual cost is {2**levels + 1}", message


def test_fragments_count_once_toward_the_depth_however_often_spread(make_service: Any) -> None:
    service = make_service(env="production", graphql_max_depth=4)
    deep = "fragment Deep on FileConnection { edges { node { entities { entityId } } } }"
    twice = "query Twice { a: findFiles { ...Deep } b: findFiles { ...Deep ...Deep } }"
    payload = gql(service, f"{twice} {deep}", headers=service.headers("acme"), expect_status=400)
    assert errors_of(payload) == ["Twice is deeper than the limit of 4 levels"], payload
    fits = make_service(env="production", graphql_max_depth=5)
    assert gql(fits, f"{twice} {deep}", headers=fits.headers("acme"))["data"]["a"]["edges"] == []


RENDER_ALIAS = 'r{i}: renderInvoicePdf(invoiceId: "{id}") {{ error {{ code }} }}'


@pytest.mark.parametrize("renders, refused", [(9, False), (10, True), (300, True)])
def test_a_render_costs_what_it_costs_so_aliases_cannot_multiply_it(
    make_service: Any, renders: int, refused: bool
) -> None:
    service = make_service(env="production", graphql_max_mutations=500)
    body = " ".join(RENDER_ALIAS.format(i=i, id=UUID) for i in range(renders))
    payload = gql(service, f"mutation {{ {body} }}", headers=service.headers("acme"), expect_status=None)
    cost_errors = [m for m in errors_of(payload) if "exceeds the maximum cost of 5000" in m]
    assert bool(cost_errors) is refused, payload
    if not refused:  # run, each answered in its own result
        assert payload["data"]["r0"] == {"error": {"code": "NOT_FOUND"}}, payload


@pytest.mark.parametrize("mutations, refused", [(20, False), (21, True)])
def test_a_request_runs_at_most_20_mutations_aliases_and_fragments_counted(
    make_service: Any, mutations: int, refused: bool
) -> None:
    service = make_service(env="production")
    half = mutations // 2
    spread = " ".join(f'd{i}: deleteFile(id: "{UUID}") {{ error {{ code }} }}' for i in range(half))
    direct = " ".join(f'e{i}: deleteFile(id: "{UUID}") {{ error {{ code }} }}' for i in range(mutations - half))
    query = f"mutation Many {{ ...Some {direct} }} fragment Some on Mutation {{ {spread} }}"
    payload = gql(service, query, headers=service.headers("acme"), expect_status=None)
    limit = [m for m in errors_of(payload) if m.startswith("a request may run at most 20 mutations")]
    assert limit == ([f"a request may run at most 20 mutations; this one asks for {mutations}"] if refused else []), payload
