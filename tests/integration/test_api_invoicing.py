"""The invoicing domain through the HTTP API: every operation, and every bad input the issue lists.

Each test runs on SQLite and on PostgreSQL (the ``database_url`` parameter of ``make_service``),
with a clock the test controls (12:00 UTC is 07:00 in Panama, the same day). A bad input must
produce a clear error naming the field, and leave nothing half-written: the row counts say so.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dependency_injector import providers
from sqlalchemy import event

from tests.fakes.clock import FakeClock
from tests.integration.api import count_rows, data, gql

START = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
TODAY = "2026-11-24"
TABLES = (
    "clients", "client_contacts", "invoices", "invoice_lines", "invoice_payments", "quotes", "quote_lines",
    "document_counters",
)

CLIENT = "id name ruc dv taxpayerType address contacts { name email phone role } createdAt updatedAt"
LINE = "position description quantity unitPrice discount taxRate amount base"
INVOICE = f"""id number clientId clientName clientRuc clientDv adHocEmails issueDate dueDate currency
  lines {{ {LINE} }} taxes {{ rate base tax }} subtotal discountTotal taxTotal total paid balance status
  payments {{ id amount date method reference createdAt }} voidedAt legalStatus cufe pacDocumentId qrUrl
  authorizationProtocol authorizedAt legalMessage createdBy createdAt client {{ id name }}"""
QUOTE = f"""id number clientId clientName issueDate validUntil currency lines {{ {LINE} }} taxes {{ rate base tax }}
  subtotal discountTotal taxTotal total status createdBy createdAt client {{ id name }}"""
ERROR = "error { code message field }"

CREATE_CLIENT = f"mutation($input: ClientInput!) {{ createClient(input: $input) {{ client {{ {CLIENT} }} {ERROR} }} }}"
UPDATE_CLIENT = (
    f"mutation($id: ID!, $input: ClientInput!) {{ updateClient(id: $id, input: $input) {{ client {{ {CLIENT} }} {ERROR} }} }}"
)
GET_CLIENT = f"query($id: ID!) {{ getClientById(id: $id) {{ client {{ {CLIENT} }} {ERROR} }} }}"
CLIENTS = f"""query($search: String, $first: Int, $after: String) {{
  clients(search: $search, first: $first, after: $after) {{
    edges {{ cursor node {{ id name ruc }} }} pageInfo {{ endCursor hasNextPage }} {ERROR} }} }}"""
CREATE_INVOICE = f"mutation($input: CreateInvoiceInput!) {{ createInvoice(input: $input) {{ invoice {{ {INVOICE} }} {ERROR} }} }}"
PAY = f"""mutation($input: RegisterInvoicePaymentInput!) {{ registerInvoicePayment(input: $input) {{
  invoice {{ id paid balance status }} payment {{ id amount date method reference }} {ERROR} }} }}"""
VOID = f"mutation($id: ID!) {{ voidInvoice(id: $id) {{ invoice {{ id status voidedAt balance }} {ERROR} }} }}"
GET_INVOICE = f"query($id: ID!) {{ getInvoiceById(id: $id) {{ invoice {{ {INVOICE} }} {ERROR} }} }}"
INVOICES = f"""query($filter: InvoiceFilterInput, $sort: InvoiceSortInput, $first: Int, $after: String) {{
  invoices(filter: $filter, sort: $sort, first: $first, after: $after) {{
    edges {{ cursor node {{ id number balance status dueDate issueDate }} }} pageInfo {{ endCursor hasNextPage }} {ERROR} }} }}"""
CREATE_QUOTE = f"mutation($input: CreateQuoteInput!) {{ createQuote(input: $input) {{ quote {{ {QUOTE} }} {ERROR} }} }}"
GET_QUOTE = f"query($id: ID!) {{ getQuoteById(id: $id) {{ quote {{ {QUOTE} }} {ERROR} }} }}"
QUOTES = f"""query($filter: QuoteFilterInput, $first: Int, $after: String) {{
  quotes(filter: $filter, first: $first, after: $after) {{
    edges {{ cursor node {{ id number status }} }} pageInfo {{ endCursor hasNextPage }} {ERROR} }} }}"""
STATEMENT = f"""query($clientId: ID!, $from: Date!, $to: Date!, $currency: String, $asOf: Date) {{
  clientStatement(clientId: $clientId, from: $from, to: $to, currency: $currency, asOf: $asOf) {{
    statement {{ client {{ id name }} from to currency openingBalance totalDebits totalCredits closingBalance
      entries {{ date kind invoiceId invoiceNumber dueDate paymentId method reference debit credit balance }}
      ageing {{ current days1To30 days31To60 days61To90 over90 total }} }}
    {ERROR} }} }}"""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def api(make_service: Any, clock: FakeClock) -> Any:
    service = make_service()
    service.container.clock.override(providers.Object(clock))
    return service


@pytest.fixture
def acme(api: Any) -> dict[str, str]:
    return api.headers("acme")


@pytest.fixture
def globex(api: Any) -> dict[str, str]:
    return api.headers("globex")


def run(api: Any, headers: dict[str, str], query: str, operation: str, **variables: Any) -> dict[str, Any]:
    return data(api, query, variables, headers=headers)[operation]


def ok(api: Any, headers: dict[str, str], query: str, operation: str, **variables: Any) -> dict[str, Any]:
    result = run(api, headers, query, operation, **variables)
    assert result["error"] is None, result
    return result


def refused(api: Any, headers: dict[str, str], query: str, operation: str, code: str, field: str | None, **variables: Any) -> dict[str, Any]:
    result = run(api, headers, query, operation, **variables)
    assert result["error"] is not None, result
    assert (result["error"]["code"], result["error"]["field"]) == (code, field), result["error"]
    assert result["error"]["message"]
    return result["error"]


def counts(api: Any) -> dict[str, int]:
    return {table: count_rows(api, table) for table in TABLES}


@contextmanager
def nothing_written(api: Any) -> Iterator[None]:
    before = counts(api)
    yield
    assert counts(api) == before, "a refused request left rows behind"


def client_input(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Distribuidora del Istmo, S.A.",
        "taxpayerType": "JURIDICO",
        "ruc": "155596713-2-2015",
        "dv": "59",
        "address": "Calle 50, Ciudad de Panamá",
        "contacts": [{"name": "Ana Pérez", "email": "ana@istmo.com.pa", "phone": "+507 6123-4567", "role": "Pagos"}],
        **overrides,
    }


def line(**overrides: Any) -> dict[str, Any]:
    return {"description": "Servicio", "quantity": "1", "unitPrice": "100", "taxRate": 7, **overrides}


def create_client(api: Any, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    return ok(api, headers, CREATE_CLIENT, "createClient", input=client_input(**overrides))["client"]


def create_invoice(api: Any, headers: dict[str, str], **input: Any) -> dict[str, Any]:
    fields = {"clientName": "Consumidor final", "lines": [line()], **input}
    return ok(api, headers, CREATE_INVOICE, "createInvoice", input=fields)["invoice"]


def pay(api: Any, headers: dict[str, str], invoice_id: str, amount: str, **input: Any) -> dict[str, Any]:
    fields = {"invoiceId": invoice_id, "amount": amount, "method": "CASH", **input}
    return ok(api, headers, PAY, "registerInvoicePayment", input=fields)


# --- clients ----------------------------------------------------------------------------------


def test_create_get_and_update_a_client(api: Any, acme: dict, clock: FakeClock) -> None:
    client = create_client(api, acme, ruc=" 155596713-2-2015 ", contacts=[
        {"name": "Ana Pérez", "email": "Ana@Istmo.com.pa", "phone": "+507 6123-4567", "role": "Pagos"},
        {"name": "Luis"},
    ])
    assert {k: client[k] for k in ("name", "ruc", "dv", "taxpayerType", "address")} == {
        "name": "Distribuidora del Istmo, S.A.",
        "ruc": "155596713-2-2015",
        "dv": "59",
        "taxpayerType": "JURIDICO",
        "address": "Calle 50, Ciudad de Panamá",
    }
    assert client["contacts"] == [
        {"name": "Ana Pérez", "email": "ana@istmo.com.pa", "phone": "+507 6123-4567", "role": "Pagos"},
        {"name": "Luis", "email": None, "phone": None, "role": None},
    ]
    assert client["createdAt"] == "2026-11-24T12:00:00Z"
    assert ok(api, acme, GET_CLIENT, "getClientById", id=client["id"])["client"] == client

    clock.advance(timedelta(hours=1))
    updated = ok(api, acme, UPDATE_CLIENT, "updateClient", id=client["id"], input={
        "name": "Juan Pérez", "taxpayerType": "CONSUMIDOR_FINAL", "contacts": [{"name": "Marta", "email": "marta@x.pa"}],
    })["client"]
    assert (updated["id"], updated["name"], updated["ruc"], updated["dv"], updated["address"]) == (
        client["id"], "Juan Pérez", None, None, None,
    )
    assert updated["contacts"] == [{"name": "Marta", "email": "marta@x.pa", "phone": None, "role": None}]
    assert updated["updatedAt"] == "2026-11-24T13:00:00Z"
    assert (count_rows(api, "clients"), count_rows(api, "client_contacts")) == (1, 1)


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"ruc": "155596713_2"}, "INVALID_RUC", "ruc"),
        ({"ruc": "1" * 31}, "INVALID_RUC", "ruc"),
        ({"ruc": None}, "INVALID_RUC", "ruc"),
        ({"dv": "123"}, "INVALID_DV", "dv"),
        ({"dv": "X"}, "INVALID_DV", "dv"),
        ({"dv": None}, "INVALID_DV", "dv"),
        ({"contacts": [{"name": "Ana", "email": "ana@"}]}, "INVALID_EMAIL", "contacts[0].email"),
        ({"contacts": [{"name": "Ana"}, {"name": "Luis", "email": "luis en istmo.pa"}]}, "INVALID_EMAIL", "contacts[1].email"),
        ({"contacts": [{"name": "Ana", "phone": "llamar"}]}, "INVALID_PHONE", "contacts[0].phone"),
        ({"name": " "}, "INVALID_INPUT", "name"),
    ],
)
def test_create_client_refuses_bad_input_and_writes_nothing(
    api: Any, acme: dict, overrides: dict[str, Any], code: str, field: str
) -> None:
    with nothing_written(api):
        refused(api, acme, CREATE_CLIENT, "createClient", code, field, input=client_input(**overrides))
    assert counts(api)["clients"] == 0


def test_update_client_refuses_bad_input_and_keeps_the_record(api: Any, acme: dict) -> None:
    client = create_client(api, acme)
    with nothing_written(api):
        refused(api, acme, UPDATE_CLIENT, "updateClient", "INVALID_DV", "dv", id=client["id"], input=client_input(dv="100"))
        refused(api, acme, UPDATE_CLIENT, "updateClient", "INVALID_EMAIL", "contacts[0].email", id=client["id"],
                input=client_input(contacts=[{"name": "X", "email": "x@y"}]))
    assert ok(api, acme, GET_CLIENT, "getClientById", id=client["id"])["client"] == client


def test_unknown_and_other_tenants_clients_read_as_not_found(api: Any, acme: dict, globex: dict) -> None:
    theirs = create_client(api, globex)
    for client_id in (theirs["id"], str(uuid.uuid4())):
        refused(api, acme, GET_CLIENT, "getClientById", "NOT_FOUND", "id", id=client_id)
        with nothing_written(api):
            refused(api, acme, UPDATE_CLIENT, "updateClient", "NOT_FOUND", "id", id=client_id, input=client_input(name="Hijack"))
    refused(api, acme, GET_CLIENT, "getClientById", "INVALID_INPUT", "id", id="not-an-id")
    assert ok(api, globex, GET_CLIENT, "getClientById", id=theirs["id"])["client"]["name"] == theirs["name"]


def test_clients_search_and_pages(api: Any, acme: dict, globex: dict, clock: FakeClock) -> None:
    for name, ruc in [("Ferretería Ñame", "8-111-1"), ("AÑO NUEVO S.A.", "155-1-2"), ("Otro", "PE-10-100")]:
        create_client(api, acme, name=name, ruc=ruc)
        clock.advance(timedelta(seconds=1))
    create_client(api, globex, name="Año de Globex")

    def names(**variables: Any) -> list[str]:
        return [e["node"]["name"] for e in ok(api, acme, CLIENTS, "clients", **variables)["edges"]]

    assert names() == ["Otro", "AÑO NUEVO S.A.", "Ferretería Ñame"]
    assert names(search="año") == ["AÑO NUEVO S.A."]
    assert names(search="pe-10") == ["Otro"]
    first = ok(api, acme, CLIENTS, "clients", first=2)
    assert [e["node"]["name"] for e in first["edges"]] == ["Otro", "AÑO NUEVO S.A."]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = ok(api, acme, CLIENTS, "clients", first=2, after=first["pageInfo"]["endCursor"])
    assert [e["node"]["name"] for e in rest["edges"]] == ["Ferretería Ñame"]
    assert rest["pageInfo"] == {"endCursor": rest["edges"][-1]["cursor"], "hasNextPage": False}
    refused(api, acme, CLIENTS, "clients", "INVALID_INPUT", "after", after="garbage")
    refused(api, acme, CLIENTS, "clients", "INVALID_INPUT", "first", first=0)


# --- invoices -----------------------------------------------------------------------------------


def test_create_invoice_for_a_client_with_exact_decimal_totals(api: Any, acme: dict) -> None:
    client = create_client(api, acme)
    invoice = create_invoice(
        api,
        acme,
        clientName=None,
        clientId=client["id"],
        dueDate="2026-12-24",
        currency="PAB",
        pacDocumentId="alanube-77",
        lines=[
            line(description="Consultoría", quantity="3", unitPrice="33.3333", discount="0.01", taxRate=7),
            line(description="Cable", quantity=2, unitPrice="10.005", taxRate=7),
            line(description="Exento", quantity="1", unitPrice=0.125, taxRate=0),
            line(description="Cigarros", quantity="1", unitPrice="0.1", taxRate=15),
        ],
    )
    assert invoice["number"] == "F-000001"
    assert (invoice["clientId"], invoice["clientName"], invoice["clientRuc"], invoice["clientDv"]) == (
        client["id"], client["name"], "155596713-2-2015", "59",
    )
    assert invoice["client"] == {"id": client["id"], "name": client["name"]}
    assert [(l["quantity"], l["unitPrice"], l["discount"], l["amount"], l["base"]) for l in invoice["lines"]] == [
        ("3.0000", "33.3333", "0.01", "100.00", "99.99"),
        ("2.0000", "10.0050", "0.00", "20.01", "20.01"),
        ("1.0000", "0.1250", "0.00", "0.13", "0.13"),
        ("1.0000", "0.1000", "0.00", "0.10", "0.10"),
    ]
    assert invoice["taxes"] == [
        {"rate": 0, "base": "0.13", "tax": "0.00"},
        {"rate": 7, "base": "120.00", "tax": "8.40"},
        {"rate": 15, "base": "0.10", "tax": "0.02"},
    ]
    assert [invoice[k] for k in ("subtotal", "discountTotal", "taxTotal", "total", "paid", "balance")] == [
        "120.24", "0.01", "8.42", "128.65", "0.00", "128.65",
    ]
    assert [invoice[k] for k in ("issueDate", "dueDate", "currency", "status", "legalStatus", "pacDocumentId")] == [
        TODAY, "2026-12-24", "PAB", "UNPAID", "NONE", "alanube-77",
    ]
    assert (invoice["adHocEmails"], invoice["payments"], invoice["voidedAt"], invoice["cufe"]) == ([], [], None, None)
    assert ok(api, acme, GET_INVOICE, "getInvoiceById", id=invoice["id"])["invoice"] == invoice
    rows = counts(api)
    assert (rows["invoices"], rows["invoice_lines"], rows["invoice_payments"], rows["document_counters"]) == (1, 4, 0, 1)


def test_create_invoice_for_an_ad_hoc_client_numbers_it_from_the_counter(api: Any, acme: dict, globex: dict) -> None:
    first = create_invoice(api, acme, clientRuc="8-123-456", clientDv="1", adHocEmails=["Pagos@Cliente.pa", "pagos@cliente.pa"])
    assert (first["client"], first["clientId"], first["clientRuc"], first["adHocEmails"]) == (
        None, None, "8-123-456", ["pagos@cliente.pa"],
    )
    assert (first["issueDate"], first["dueDate"], first["currency"], first["total"]) == (TODAY, TODAY, "USD", "107.00")
    assert create_invoice(api, acme, number="F-000002")["number"] == "F-000002"
    assert create_invoice(api, acme)["number"] == "F-000003"
    assert create_invoice(api, globex)["number"] == "F-000001"
    with nothing_written(api):
        refused(api, acme, CREATE_INVOICE, "createInvoice", "DUPLICATE_NUMBER", "number",
                input={"number": "F-000003", "clientName": "X", "lines": [line()]})


def _bad_invoices(client_id: str, theirs: str) -> list[tuple[dict[str, Any], str, str]]:
    return [
        ({"lines": []}, "NO_LINES", "lines"),
        ({"lines": [line(quantity="-1")]}, "INVALID_AMOUNT", "lines[0].quantity"),
        ({"lines": [line(), line(quantity="0")]}, "INVALID_AMOUNT", "lines[1].quantity"),
        ({"lines": [line(quantity="1.00001")]}, "INVALID_AMOUNT", "lines[0].quantity"),
        ({"lines": [line(unitPrice="-3")]}, "INVALID_AMOUNT", "lines[0].unitPrice"),
        ({"lines": [line(discount="100.01")]}, "INVALID_AMOUNT", "lines[0].discount"),
        ({"lines": [line(taxRate=8)]}, "INVALID_TAX_RATE", "lines[0].taxRate"),
        ({"lines": [line(), line(taxRate=12)]}, "INVALID_TAX_RATE", "lines[1].taxRate"),
        ({"issueDate": "2026-11-24", "dueDate": "2026-11-23"}, "INVALID_DATE_RANGE", "dueDate"),
        ({"adHocEmails": ["ok@cliente.pa", "no-es-correo"]}, "INVALID_EMAIL", "adHocEmails[1]"),
        ({"clientRuc": "8 123 456"}, "INVALID_RUC", "clientRuc"),
        ({"clientRuc": "8-123-456", "clientDv": "ABC"}, "INVALID_DV", "clientDv"),
        ({"clientName": None}, "INVALID_INPUT", "clientName"),
        ({"clientName": None, "clientId": str(uuid.uuid4())}, "NOT_FOUND", "clientId"),
        ({"clientName": None, "clientId": theirs}, "NOT_FOUND", "clientId"),
        ({"clientName": "Otro", "clientId": client_id}, "INVALID_INPUT", "clientName"),
        ({"number": "F 1"}, "INVALID_INPUT", "number"),
    ]


def test_create_invoice_refuses_each_bad_input_naming_the_field_and_writes_nothing(
    api: Any, acme: dict, globex: dict
) -> None:
    client = create_client(api, acme)
    theirs = create_client(api, globex)
    for overrides, code, field in _bad_invoices(client["id"], theirs["id"]):
        with nothing_written(api):
            refused(api, acme, CREATE_INVOICE, "createInvoice", code, field,
                    input={"clientName": "Cliente", "lines": [line()], **overrides})
    assert counts(api)["invoices"] == counts(api)["document_counters"] == 0
    assert create_invoice(api, acme)["number"] == "F-000001"


def test_values_outside_a_list_are_business_errors_naming_the_field(api: Any, acme: dict) -> None:
    invoice = create_invoice(api, acme)
    with nothing_written(api):
        refused(api, acme, CREATE_CLIENT, "createClient", "INVALID_INPUT", "taxpayerType",
                input=client_input(taxpayerType="EMPRESA"))
        refused(api, acme, CREATE_INVOICE, "createInvoice", "INVALID_INPUT", "currency",
                input={"clientName": "X", "currency": "EUR", "lines": [line()]})
        refused(api, acme, PAY, "registerInvoicePayment", "INVALID_INPUT", "method",
                input={"invoiceId": invoice["id"], "amount": "1", "method": "BITCOIN"})
        refused(api, acme, INVOICES, "invoices", "INVALID_INPUT", "filter.status", filter={"status": ["LATE"]})
        refused(api, acme, INVOICES, "invoices", "INVALID_INPUT", "sort.field", sort={"field": "NAME"})
        refused(api, acme, STATEMENT, "clientStatement", "INVALID_INPUT", "currency", clientId=str(uuid.uuid4()),
                currency="EUR", **{"from": "2026-10-01", "to": "2026-10-31"})


def test_a_malformed_decimal_or_date_is_a_graphql_error_naming_the_input(api: Any, acme: dict) -> None:
    with nothing_written(api):
        payload = gql(api, CREATE_INVOICE, {"input": {"clientName": "X", "lines": [line(quantity="tres")]}},
                      headers=acme, expect_status=400)
        assert "lines[0].quantity" in payload["errors"][0]["message"]
        payload = gql(api, CREATE_INVOICE, {"input": {"clientName": "X", "dueDate": "24/11/2026", "lines": [line()]}},
                      headers=acme, expect_status=400)
        assert "dueDate" in payload["errors"][0]["message"] and "YYYY-MM-DD" in payload["errors"][0]["message"]


def test_payments_change_balance_and_status_until_paid(api: Any, acme: dict, clock: FakeClock) -> None:
    invoice = create_invoice(api, acme, dueDate="2026-12-01")
    first = pay(api, acme, invoice["id"], "7.5", method="YAPPY", reference="YP-1", date="2026-11-24")
    clock.advance(timedelta(seconds=1))
    assert first["invoice"] == {"id": invoice["id"], "paid": "7.50", "balance": "99.50", "status": "PARTIALLY_PAID"}
    assert {k: first["payment"][k] for k in ("amount", "date", "method", "reference")} == {
        "amount": "7.50", "date": TODAY, "method": "YAPPY", "reference": "YP-1",
    }
    second = pay(api, acme, invoice["id"], "99.50", method="ACH")
    assert second["invoice"]["balance"] == "0.00" and second["invoice"]["status"] == "PAID"
    stored = ok(api, acme, GET_INVOICE, "getInvoiceById", id=invoice["id"])["invoice"]
    assert [(p["amount"], p["method"]) for p in stored["payments"]] == [("7.50", "YAPPY"), ("99.50", "ACH")]
    assert count_rows(api, "invoice_payments") == 2


def test_a_payment_larger_than_the_balance_is_refused_and_writes_nothing(api: Any, acme: dict) -> None:
    invoice = create_invoice(api, acme)
    pay(api, acme, invoice["id"], "100")
    with nothing_written(api):
        error = refused(api, acme, PAY, "registerInvoicePayment", "PAYMENT_EXCEEDS_BALANCE", "amount",
                        input={"invoiceId": invoice["id"], "amount": "7.01", "method": "CASH"})
        assert "7.00" in error["message"]
        refused(api, acme, PAY, "registerInvoicePayment", "INVALID_AMOUNT", "amount",
                input={"invoiceId": invoice["id"], "amount": "-1", "method": "CASH"})
        refused(api, acme, PAY, "registerInvoicePayment", "INVALID_AMOUNT", "amount",
                input={"invoiceId": invoice["id"], "amount": "0.001", "method": "CASH"})
        refused(api, acme, PAY, "registerInvoicePayment", "INVALID_DATE_RANGE", "date",
                input={"invoiceId": invoice["id"], "amount": "1", "method": "CASH", "date": "2026-11-23"})
    stored = ok(api, acme, GET_INVOICE, "getInvoiceById", id=invoice["id"])["invoice"]
    assert (stored["paid"], stored["balance"], len(stored["payments"])) == ("100.00", "7.00", 1)


def test_payments_on_unknown_or_other_tenants_invoices_are_not_found(api: Any, acme: dict, globex: dict) -> None:
    theirs = create_invoice(api, globex)
    with nothing_written(api):
        for invoice_id in (theirs["id"], str(uuid.uuid4())):
            refused(api, acme, PAY, "registerInvoicePayment", "NOT_FOUND", "invoiceId",
                    input={"invoiceId": invoice_id, "amount": "1", "method": "CASH"})
            refused(api, acme, GET_INVOICE, "getInvoiceById", "NOT_FOUND", "id", id=invoice_id)
            refused(api, acme, VOID, "voidInvoice", "NOT_FOUND", "id", id=invoice_id)
    assert ok(api, globex, GET_INVOICE, "getInvoiceById", id=theirs["id"])["invoice"]["status"] == "UNPAID"


def test_void_an_invoice_then_no_payment_is_taken(api: Any, acme: dict, clock: FakeClock) -> None:
    invoice = create_invoice(api, acme)
    clock.advance(timedelta(minutes=5))
    voided = ok(api, acme, VOID, "voidInvoice", id=invoice["id"])["invoice"]
    assert voided == {"id": invoice["id"], "status": "VOID", "voidedAt": "2026-11-24T12:05:00Z", "balance": "107.00"}
    assert ok(api, acme, VOID, "voidInvoice", id=invoice["id"])["invoice"] == voided
    with nothing_written(api):
        refused(api, acme, PAY, "registerInvoicePayment", "INVOICE_VOID", "invoiceId",
                input={"invoiceId": invoice["id"], "amount": "1", "method": "CASH"})


def test_a_paid_invoice_cannot_be_voided(api: Any, acme: dict) -> None:
    invoice = create_invoice(api, acme)
    pay(api, acme, invoice["id"], "107")
    with nothing_written(api):
        error = refused(api, acme, VOID, "voidInvoice", "INVOICE_HAS_PAYMENTS", "id", id=invoice["id"])
    assert "payments" in error["message"]
    assert ok(api, acme, GET_INVOICE, "getInvoiceById", id=invoice["id"])["invoice"]["status"] == "PAID"


def test_invoices_filter_sort_and_page(api: Any, acme: dict, globex: dict, clock: FakeClock) -> None:
    client = create_client(api, acme)
    a = create_invoice(api, acme, issueDate="2026-10-01", dueDate="2026-10-31", lines=[line(unitPrice="10")])
    b = create_invoice(api, acme, clientName=None, clientId=client["id"], issueDate="2026-11-01", dueDate="2026-12-01", lines=[line(unitPrice="30")])
    c = create_invoice(api, acme, clientName=None, clientId=client["id"], issueDate="2026-11-20", dueDate="2026-11-24", lines=[line(unitPrice="20")])
    d = create_invoice(api, acme, issueDate="2026-11-24", lines=[line(unitPrice="5")])
    pay(api, acme, b["id"], "10")
    pay(api, acme, d["id"], d["total"])
    create_invoice(api, globex)

    def numbers(**variables: Any) -> list[str]:
        return [e["node"]["number"] for e in ok(api, acme, INVOICES, "invoices", **variables)["edges"]]

    assert numbers() == [d["number"], c["number"], b["number"], a["number"]]
    assert numbers(sort={"field": "DATE", "direction": "ASC"}) == [a["number"], b["number"], c["number"], d["number"]]
    assert numbers(sort={"field": "BALANCE"}) == [b["number"], c["number"], a["number"], d["number"]]
    assert numbers(sort={"field": "BALANCE", "direction": "ASC"}) == [d["number"], a["number"], c["number"], b["number"]]
    by_due = numbers(sort={"field": "DUE_DATE", "direction": "ASC"})
    assert by_due[0] == a["number"] and by_due[-1] == b["number"] and sorted(by_due[1:3]) == sorted([c["number"], d["number"]])
    assert numbers(sort={"field": "DUE_DATE"})[0] == b["number"]
    assert numbers(filter={"clientId": client["id"]}) == [c["number"], b["number"]]
    assert numbers(filter={"status": ["PAST_DUE"]}) == [a["number"]]
    assert numbers(filter={"status": ["UNPAID", "PARTIALLY_PAID"]}) == [c["number"], b["number"]]
    assert numbers(filter={"dueBefore": "2026-11-24"}) == [a["number"]]
    assert numbers(filter={"dueAfter": "2026-11-24"}) == [b["number"]]
    clock.current = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert numbers(filter={"status": ["PAST_DUE"]}) == [c["number"], a["number"]]

    page = ok(api, acme, INVOICES, "invoices", first=3, sort={"field": "BALANCE", "direction": "DESC"})
    assert page["pageInfo"]["hasNextPage"] is True
    rest = ok(api, acme, INVOICES, "invoices", first=3, after=page["pageInfo"]["endCursor"], sort={"field": "BALANCE"})
    assert [e["node"]["number"] for e in rest["edges"]] == [d["number"]]
    refused(api, acme, INVOICES, "invoices", "INVALID_INPUT", "after", after=page["pageInfo"]["endCursor"])
    refused(api, acme, INVOICES, "invoices", "INVALID_INPUT", "filter.clientId", filter={"clientId": "nope"})


# --- quotes -------------------------------------------------------------------------------------


def test_create_get_and_list_quotes(api: Any, acme: dict, globex: dict, clock: FakeClock) -> None:
    client = create_client(api, acme)
    quote = ok(api, acme, CREATE_QUOTE, "createQuote", input={
        "clientId": client["id"], "lines": [line(quantity="2", unitPrice="50", taxRate=10)],
    })["quote"]
    assert [quote[k] for k in ("number", "status", "issueDate", "validUntil", "subtotal", "taxTotal", "total")] == [
        "COT-000001", "DRAFT", TODAY, "2026-12-24", "100.00", "10.00", "110.00",
    ]
    assert quote["client"] == {"id": client["id"], "name": client["name"]}
    assert ok(api, acme, GET_QUOTE, "getQuoteById", id=quote["id"])["quote"] == quote
    ad_hoc = ok(api, acme, CREATE_QUOTE, "createQuote", input={"clientName": "Walk-in", "lines": [line()], "validUntil": TODAY})["quote"]
    assert (ad_hoc["number"], ad_hoc["client"]) == ("COT-000002", None)
    clock.advance(timedelta(days=1))
    listed = ok(api, acme, QUOTES, "quotes")["edges"]
    assert sorted((e["node"]["number"], e["node"]["status"]) for e in listed) == [("COT-000001", "DRAFT"), ("COT-000002", "EXPIRED")]
    assert [e["node"]["number"] for e in ok(api, acme, QUOTES, "quotes", filter={"clientId": client["id"]})["edges"]] == ["COT-000001"]
    refused(api, globex, GET_QUOTE, "getQuoteById", "NOT_FOUND", "id", id=quote["id"])
    with nothing_written(api):
        refused(api, acme, CREATE_QUOTE, "createQuote", "INVALID_DATE_RANGE", "validUntil",
                input={"clientName": "X", "lines": [line()], "issueDate": TODAY, "validUntil": "2026-11-01"})
        refused(api, acme, CREATE_QUOTE, "createQuote", "NO_LINES", "lines", input={"clientName": "X", "lines": []})
        refused(api, acme, CREATE_QUOTE, "createQuote", "INVALID_TAX_RATE", "lines[0].taxRate",
                input={"clientName": "X", "lines": [line(taxRate=5)]})


# --- statements ---------------------------------------------------------------------------------


def test_client_statement(api: Any, acme: dict, globex: dict) -> None:
    client = create_client(api, acme)

    def invoice(issued: str, due: str, price: str) -> dict[str, Any]:
        return create_invoice(api, acme, clientName=None, clientId=client["id"], issueDate=issued, dueDate=due,
                              lines=[line(unitPrice=price, taxRate=0)])

    old = invoice("2026-08-01", "2026-08-31", "500")
    pay(api, acme, old["id"], "200", date="2026-09-15")
    october = invoice("2026-10-10", "2026-11-09", "300")
    pay(api, acme, october["id"], "50", date="2026-10-12", reference="TRF-1", method="BANK_TRANSFER")
    void = invoice("2026-10-11", "2026-10-11", "999")
    ok(api, acme, VOID, "voidInvoice", id=void["id"])

    statement = ok(api, acme, STATEMENT, "clientStatement", clientId=client["id"], asOf="2026-10-31",
                   **{"from": "2026-10-01", "to": "2026-10-31"})["statement"]  # aged at the period's end
    assert statement["client"] == {"id": client["id"], "name": client["name"]}
    assert [statement[k] for k in ("from", "to", "currency", "openingBalance", "totalDebits", "totalCredits", "closingBalance")] == [
        "2026-10-01", "2026-10-31", "USD", "300.00", "300.00", "50.00", "550.00",
    ]
    assert statement["entries"] == [
        {"date": "2026-10-10", "kind": "INVOICE", "invoiceId": october["id"], "invoiceNumber": october["number"],
         "dueDate": "2026-11-09", "paymentId": None, "method": None, "reference": None,
         "debit": "300.00", "credit": "0.00", "balance": "600.00"},
        {"date": "2026-10-12", "kind": "PAYMENT", "invoiceId": october["id"], "invoiceNumber": october["number"],
         "dueDate": None, "paymentId": statement["entries"][1]["paymentId"], "method": "BANK_TRANSFER",
         "reference": "TRF-1", "debit": "0.00", "credit": "50.00", "balance": "550.00"},
    ]
    assert statement["ageing"] == {
        "current": "250.00", "days1To30": "0.00", "days31To60": "0.00", "days61To90": "300.00", "over90": "0.00",
        "total": "550.00",
    }
    refused(api, acme, STATEMENT, "clientStatement", "INVALID_DATE_RANGE", "to", clientId=client["id"],
            **{"from": "2026-10-31", "to": "2026-10-01"})
    refused(api, globex, STATEMENT, "clientStatement", "NOT_FOUND", "clientId", clientId=client["id"],
            **{"from": "2026-10-01", "to": "2026-10-31"})
    pab = ok(api, acme, STATEMENT, "clientStatement", clientId=client["id"], currency="PAB",
             **{"from": "2026-10-01", "to": "2026-10-31"})["statement"]
    assert (pab["currency"], pab["closingBalance"], pab["entries"]) == ("PAB", "0.00", [])


# --- batching -----------------------------------------------------------------------------------


@contextmanager
def counting_statements(engine: Any) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


LIST_EVERYTHING = f"""{{ invoices(first: 100) {{ edges {{ node {{
  number lines {{ amount }} payments {{ amount }} taxes {{ tax }}
  client {{ name contacts {{ email }} }} }} }} {ERROR} }}
  quotes(first: 100) {{ edges {{ node {{ number lines {{ base }} client {{ name contacts {{ email }} }} }} }} {ERROR} }} }}"""


def test_lists_load_in_a_constant_number_of_statements(api: Any, acme: dict) -> None:
    def statements_for_list() -> tuple[int, dict[str, Any]]:
        with counting_statements(api.container.engine()) as statements:
            payload = data(api, LIST_EVERYTHING, headers=acme)
        return len(statements), payload

    clients = [create_client(api, acme, name=f"Cliente {i}") for i in range(3)]
    for i in range(3):
        invoice = create_invoice(api, acme, clientName=None, clientId=clients[i % 3]["id"])
        pay(api, acme, invoice["id"], "1")
        ok(api, acme, CREATE_QUOTE, "createQuote", input={"clientId": clients[i % 3]["id"], "lines": [line()]})
    few, _ = statements_for_list()

    more = [create_client(api, acme, name=f"Otro {i}") for i in range(12)]
    for i in range(30):
        invoice = create_invoice(api, acme, clientName=None, clientId=more[i % 12]["id"], lines=[line(), line()])
        pay(api, acme, invoice["id"], "1")
        ok(api, acme, CREATE_QUOTE, "createQuote", input={"clientId": more[i % 12]["id"], "lines": [line()]})
    many, payload = statements_for_list()

    assert len(payload["invoices"]["edges"]) == 33 and len(payload["quotes"]["edges"]) == 33
    assert all(edge["node"]["client"]["contacts"] for edge in payload["invoices"]["edges"])
    print(f"\nSQL statements to list invoices and quotes with clients: {few} for 3 of each, {many} for 33")
    assert many == few, (few, many)
    # authentication, invoices + their lines + payments, quotes + lines, clients + contacts (one batch)
    assert many <= 8, many
