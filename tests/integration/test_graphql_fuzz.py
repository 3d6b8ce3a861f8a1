"""Schema-driven fuzzing of /graphql (issue 19): hypothesis-graphql builds queries and mutations
from the real schema, valid ones and ones with one schema violation, with arbitrary scalars,
and sends them as a tenant to the app in production mode. No answer is a 5xx, none carries an
INTERNAL error, a traceback or a secret. The providers' base URLs point at a closed local port,
so the mutations that call one meet a refusal, never the internet."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

import pytest
from dependency_injector import providers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, nodes, queries

from adapters.pdf.weasyprint import WeasyPrintPdfRenderer
from entrypoints.config import Variables
from entrypoints.graphql.schema import build_schema
from tests.conftest import TEST_SECRET_KEY

CLOSED = "http://127.0.0.1:9"  # the discard port: nothing listens, a connection is refused at once
JWT_SECRET = "fuzz-jwt-secret-that-is-long-enough-for-hs256"
SIGNING_SECRET = "fuzz-signing-secret-that-is-long-enough"
LEAKS = ("Traceback", 'File "/', JWT_SECRET, SIGNING_SECRET, TEST_SECRET_KEY, "Internal server error")
EXAMPLES = 30


def _scalar(valid: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    return st.one_of(valid, st.text(max_size=30)).map(nodes.String)


SCALARS = {
    "DateTime": _scalar(st.datetimes(timezones=st.just(UTC)).map(lambda moment: moment.isoformat())),
    "Date": _scalar(st.dates().map(lambda day: day.isoformat())),
    "Decimal": _scalar(st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str)),
    "Upload": st.text(max_size=10).map(nodes.String),  # a JSON request cannot carry a file: always refused
}


def _operations(kind: Any) -> st.SearchStrategy[str]:
    schema = build_schema()
    return st.one_of(
        kind(schema, custom_scalars=SCALARS, mode=Mode.POSITIVE),
        kind(schema, custom_scalars=SCALARS, mode=Mode.NEGATIVE),
    )


@pytest.fixture
def production(make_service: Any, weasyprint_renderer: WeasyPrintPdfRenderer) -> Any:
    service = make_service(
        env="production", jwt_secret=JWT_SECRET, signing_secret=SIGNING_SECRET,
        pac_base_url=CLOSED, aurinko_base_url=CLOSED, whatsapp_graph_url=CLOSED,
        aurinko_client_id="fuzz-client", aurinko_client_secret="fuzz-client-secret",
        variables=Variables({"ISTMO_RATE_LIMIT_TENANT": "off"}),
    )
    service.container.pdf.pdf_renderer.override(providers.Object(weasyprint_renderer))
    return service


def _check(service: Any, headers: dict[str, str], operation: str) -> None:
    response = service.client.post("/graphql", json={"query": operation}, headers=headers)
    text = response.get_data(as_text=True)
    assert response.status_code in (200, 400), (response.status_code, operation, text[:2000])
    payload = json.loads(text)
    codes = [(error.get("extensions") or {}).get("code") for error in payload.get("errors") or []]
    assert "INTERNAL" not in codes, (operation, text[:2000])
    for leak in LEAKS:
        assert leak not in text, (leak, operation, text[:2000])


def test_generated_queries_never_fail_inside(production: Any) -> None:
    headers = production.headers("acme")

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
    @given(operation=_operations(queries))
    def fuzz(operation: str) -> None:
        _check(production, headers, operation)

    fuzz()


def test_generated_mutations_never_fail_inside(production: Any) -> None:
    headers = production.headers("acme")

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
    @given(operation=_operations(mutations))
    def fuzz(operation: str) -> None:
        _check(production, headers, operation)

    fuzz()


@pytest.mark.parametrize("env", ["dev", "production"])
def test_a_scalar_literal_refused_is_a_client_error_logged_without_traceback(
    make_service: Any, env: str, caplog: pytest.LogCaptureFixture,
) -> None:
    """Found by the fuzzer: a Date literal that does not parse was 'Internal server error' in
    production, and logged at ERROR with a traceback in both modes."""
    service = make_service(env=env, jwt_secret=JWT_SECRET, signing_secret=SIGNING_SECRET)
    caplog.set_level("INFO", logger="entrypoints.http.graphql")
    response = service.client.post("/graphql", json={"query": '{ invoices(filter: {dueAfter: "31/12/2026"}) { pageInfo { hasNextPage } } }'},
                                   headers=service.headers("acme"))
    assert response.status_code == 400
    errors = response.get_json()["errors"]  # production's cost rule also names the argument
    assert "Expected value of type 'Date', found \"31/12/2026\"; Date must be YYYY-MM-DD" in [e["message"] for e in errors]
    assert all((error.get("extensions") or {}).get("code") != "INTERNAL" for error in errors), errors
    records = [record for record in caplog.records if record.name == "entrypoints.http.graphql"]
    assert records and {(record.levelname, record.exc_info) for record in records} == {("INFO", None)}
    assert any("Date must be YYYY-MM-DD" in record.getMessage() for record in records)
