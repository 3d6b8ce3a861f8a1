"""Document intake over GraphQL, as a client uses it: addFile(ingest: true), the worker, then the
intake, the bank's lines and the supplier invoices read back; business refusals as result errors."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.intake_documents import COMPANY_RUC, camt053, dgi_xml, lines, total
from tests.integration.api import data, upload

ADD_AND_INGEST = """
mutation($f: Upload!, $kind: String) {
  addFile(file: $f, ingest: true, kind: $kind) {
    file { id name }
    intake { id status }
    error { code message field }
  }
}
"""

INTAKE = """
query($id: ID!) {
  getDocumentIntakeById(id: $id) {
    intake { id status strategy reasons problems { row message } records { type id } runs }
    error { code message field }
  }
}
"""


def run_jobs(service: Any) -> None:
    worker = service.container.worker(schedules=())
    while worker.run_once():
        pass


def ingest(service: Any, headers: dict[str, str], content: bytes, kind: str | None = None) -> dict[str, Any]:
    response = upload(service, ADD_AND_INGEST, content, filename="doc.xml", variables={"kind": kind}, headers=headers)
    body = response.get_json()
    assert response.status_code == 200 and not body.get("errors"), body
    result = body["data"]["addFile"]
    if result["error"]:
        return result
    assert result["intake"]["status"] == "PENDING"
    run_jobs(service)
    return data(service, INTAKE, {"id": result["intake"]["id"]}, headers=headers)["getDocumentIntakeById"]


def test_a_statement_uploaded_with_ingest_becomes_transactions_read_by_graphql(service: Any) -> None:
    headers = service.headers("acme")
    items = lines(5)
    result = ingest(service, headers, camt053(items, opening=Decimal("100.00"), closing=Decimal("100.00") + total(items)))
    intake = result["intake"]
    assert (intake["status"], intake["strategy"], intake["reasons"]) == ("PARSED", "camt.053", [])
    account_id = next(r["id"] for r in intake["records"] if r["type"] == "BANK_ACCOUNT")
    page = data(service, """
      query($a: ID!) { bankTransactions(accountId: $a, first: 2, search: "movimiento") {
        edges { node { amount bookedOn description bankId } } pageInfo { hasNextPage endCursor } error { code } } }
    """, {"a": account_id}, headers=headers)["bankTransactions"]
    assert len(page["edges"]) == 2 and page["pageInfo"]["hasNextPage"]
    accounts = data(service, "{ bankAccounts { items { numberMasked currency } } }", headers=headers)["bankAccounts"]
    assert accounts["items"] == [{"numberMasked": "****1234", "currency": "USD"}]
    listed = data(service, '{ documentIntakes(status: "PARSED") { edges { node { id } } } }', headers=headers)
    assert [e["node"]["id"] for e in listed["documentIntakes"]["edges"]] == [intake["id"]]


def test_a_supplier_invoice_is_confirmed_with_corrections_over_graphql(service: Any) -> None:
    headers = service.headers("acme")
    profile = {"legalName": "Ana Castillo", "taxpayerType": "NATURAL", "ruc": COMPANY_RUC, "dv": "12",
               "address": "Calle 50, Bella Vista"}
    saved = data(service, "mutation($p: TenantProfileInput!) { updateTenantProfile(input: $p) { profile { ruc dv } error { code } } }",
                 {"p": profile}, headers=headers)["updateTenantProfile"]
    assert saved == {"profile": {"ruc": COMPANY_RUC, "dv": "12"}, "error": None}
    intake = ingest(service, headers, dgi_xml(total_override="160.00"), kind="SUPPLIER_INVOICE")["intake"]
    assert intake["status"] == "NEEDS_REVIEW"
    invoice_id = intake["records"][0]["id"]
    confirm = """
      mutation($id: ID!, $c: SupplierInvoiceCorrections) { confirmSupplierInvoice(id: $id, corrections: $c) {
        invoice { status total checked itbmsByRate { rate amount } } error { code message field } } }
    """
    refused = data(service, confirm, {"id": invoice_id, "c": {"total": "158.00"}}, headers=headers)["confirmSupplierInvoice"]
    assert refused["invoice"] is None and refused["error"]["code"] == "INVALID_INPUT"
    assert refused["error"]["field"] == "corrections"
    done = data(service, confirm, {"id": invoice_id, "c": {"total": "157.00"}}, headers=headers)["confirmSupplierInvoice"]
    assert done["invoice"]["status"] == "CONFIRMED" and done["invoice"]["total"] == "157.00"
    assert {"rate": "7", "amount": "7.00"} in done["invoice"]["itbmsByRate"]


def test_refusals_are_result_errors_and_nothing_is_stored(service: Any) -> None:
    headers = service.headers("acme")
    wrong_kind = ingest(service, headers, b"whatever", kind="RECEIPT")
    assert wrong_kind["error"]["field"] == "kind" and wrong_kind["file"] is None
    files = data(service, "{ findFiles { edges { node { id } } } }", headers=headers)
    assert files["findFiles"]["edges"] == []
    missing = data(service, 'mutation { ingestFile(fileId: "00000000-0000-4000-8000-000000000000") { intake { id } error { code field } } }',
                   headers=headers)["ingestFile"]
    assert missing == {"intake": None, "error": {"code": "FILE_NOT_FOUND", "field": "fileId"}}
    profile = data(service, """mutation { saveBankImportProfile(input: {name: "B", bank: "B", accountNumber: "1234",
        currency: "USD", dateColumn: "Fecha", descriptionColumn: "Detalle"}) { profile { id } error { code field } } }""",
                   headers=headers)["saveBankImportProfile"]
    assert profile == {"profile": None, "error": {"code": "INVALID_INPUT", "field": "amountColumn"}}
