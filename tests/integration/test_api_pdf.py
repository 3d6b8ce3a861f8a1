"""PDF templates and rendering through the HTTP API, with the real renderer (WeasyPrint).

Each test runs on SQLite and on PostgreSQL (the ``database_url`` parameter of ``make_service``),
with one warm renderer shared by the session (``weasyprint_renderer``) in place of the
container's own. Rendered PDFs are read back from storage and their text extracted with pypdf.
A bad input must produce a clear error naming the field and leave nothing half-written: the row,
blob and staging counts say so.
"""

from __future__ import annotations

import io
import struct
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dependency_injector import providers
from pypdf import PdfReader

from adapters.pdf.weasyprint import RendererSettings, WeasyPrintPdfRenderer
from tests.fakes.clock import FakeClock
from tests.integration.api import add_file, blobs, count_rows, data, staged

START = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
ERROR = "error { code message field }"
FILE = "file { id name mime size sha256 status expiresAt entities { entityType entityId } }"
TEMPLATE = """id documentType name isDefault logoFileId primaryColor secondaryColor headerText footerDisclaimer
  paperSize locale customCss customBodyTemplate version createdAt updatedAt"""

CREATE_TEMPLATE = f"""mutation($documentType: String!, $input: PdfTemplateInput!) {{
  createPdfTemplate(documentType: $documentType, input: $input) {{ pdfTemplate {{ {TEMPLATE} }} {ERROR} }} }}"""
UPDATE_TEMPLATE = f"""mutation($id: ID!, $version: Int!, $input: PdfTemplateInput!) {{
  updatePdfTemplate(id: $id, version: $version, input: $input) {{ pdfTemplate {{ {TEMPLATE} }} {ERROR} }} }}"""
DELETE_TEMPLATE = f"mutation($id: ID!) {{ deletePdfTemplate(id: $id) {{ deletedId {ERROR} }} }}"
TEMPLATES = f"query($documentType: String) {{ pdfTemplates(documentType: $documentType) {{ pdfTemplates {{ {TEMPLATE} }} {ERROR} }} }}"
GET_TEMPLATE = f"query($id: ID!) {{ getPdfTemplateById(id: $id) {{ pdfTemplate {{ {TEMPLATE} }} {ERROR} }} }}"
RENDER_INVOICE = f"""mutation($invoiceId: ID!, $templateId: ID) {{
  renderInvoicePdf(invoiceId: $invoiceId, templateId: $templateId) {{ {FILE} {ERROR} }} }}"""
RENDER_QUOTE = f"""mutation($quoteId: ID!, $templateId: ID) {{
  renderQuotePdf(quoteId: $quoteId, templateId: $templateId) {{ {FILE} {ERROR} }} }}"""
RENDER_STATEMENT = f"""mutation($clientId: ID!, $from: Date!, $to: Date!, $templateId: ID) {{
  renderStatementPdf(clientId: $clientId, from: $from, to: $to, templateId: $templateId) {{ {FILE} {ERROR} }} }}"""
PREVIEW = f"""mutation($documentType: String!, $templateId: ID, $template: PdfTemplateInput) {{
  previewPdfTemplate(documentType: $documentType, templateId: $templateId, template: $template) {{ {FILE} {ERROR} }} }}"""
CREATE_CLIENT = "mutation($input: ClientInput!) { createClient(input: $input) { client { id name } error { code } } }"
CREATE_INVOICE = """mutation($input: CreateInvoiceInput!) {
  createInvoice(input: $input) { invoice { id number total taxTotal subtotal } error { code message } } }"""
CREATE_QUOTE = "mutation($input: CreateQuoteInput!) { createQuote(input: $input) { quote { id number total } error { code } } }"

HEADER = "Ferretería Acme — documentos electrónicos"
FOOTER = "Precios con ITBMS incluido. Gracias por su compra."


def png(width: int = 60, height: int = 20) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    raw = b"".join(b"\x00" + b"\x10\x60\xa0" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def api(make_service: Any, clock: FakeClock, weasyprint_renderer: WeasyPrintPdfRenderer) -> Any:
    service = make_service()
    service.container.clock.override(providers.Object(clock))
    service.container.pdf.pdf_renderer.override(providers.Object(weasyprint_renderer))
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


def refused(
    api: Any, headers: dict[str, str], query: str, operation: str, code: str, field: str | None, **variables: Any
) -> dict[str, Any]:
    """The operation is refused with ``code`` naming ``field``, and leaves nothing behind."""
    before = counts(api)
    result = run(api, headers, query, operation, **variables)
    assert result["error"] is not None, result
    assert (result["error"]["code"], result["error"]["field"]) == (code, field), result["error"]
    assert result["error"]["message"]
    assert counts(api) == before, "a refused request left something behind"
    assert staged(api) == []
    return result["error"]


def counts(api: Any) -> dict[str, int]:
    tables = ("pdf_templates", "files", "file_entities", "invoices", "quotes", "clients")
    return {**{table: count_rows(api, table) for table in tables}, "blobs": len(blobs(api))}


def pdf_of(api: Any, slug: str, file: dict[str, Any]) -> bytes:
    storage = api.container.storage()
    return b"".join(storage.read(f"{api.tenant(slug)}/{file['sha256']}"))


def text_of(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def create_template(api: Any, headers: dict[str, str], document_type: str = "INVOICE", **input: Any) -> dict[str, Any]:
    fields = {"name": "Facturas", **input}
    return ok(api, headers, CREATE_TEMPLATE, "createPdfTemplate", documentType=document_type, input=fields)["pdfTemplate"]


def create_client(api: Any, headers: dict[str, str]) -> dict[str, Any]:
    fields = {
        "name": "Constructora Las Cumbres, S.A.", "taxpayerType": "JURIDICO", "ruc": "8-123-4567", "dv": "12",
        "address": "Calle 50, Obarrio",
    }
    return run(api, headers, CREATE_CLIENT, "createClient", input=fields)["client"]


def create_invoice(api: Any, headers: dict[str, str], client: dict[str, Any]) -> dict[str, Any]:
    lines = [
        {"description": "Cemento gris 42.5 kg", "quantity": "10", "unitPrice": "8.50", "taxRate": 7},
        {"description": "Arena lavada, m³", "quantity": "3", "unitPrice": "1000.00", "taxRate": 0},
    ]
    result = run(api, headers, CREATE_INVOICE, "createInvoice", input={"clientId": client["id"], "lines": lines})
    assert result["error"] is None, result
    return result["invoice"]


@contextmanager
def rows_added(api: Any, **expected: int) -> Iterator[None]:
    before = counts(api)
    yield
    after = counts(api)
    assert {k: after[k] - before[k] for k in after} == {k: expected.get(k, 0) for k in after}


# --- rendering ------------------------------------------------------------------------------------


def test_an_invoice_renders_in_the_tenants_default_template_into_a_file_linked_to_it(
    api: Any, acme: dict[str, str]
) -> None:
    logo = add_file(api, acme, png(), filename="logo.png")
    create_template(api, acme, isDefault=True, logoFileId=logo["id"], headerText=HEADER, footerDisclaimer=FOOTER)
    client = create_client(api, acme)
    invoice = create_invoice(api, acme, client)

    with rows_added(api, files=1, file_entities=1, blobs=1):
        file = ok(api, acme, RENDER_INVOICE, "renderInvoicePdf", invoiceId=invoice["id"])["file"]

    assert (file["name"], file["mime"], file["status"], file["expiresAt"]) == (
        f"Factura {invoice['number']}.pdf", "application/pdf", "READY", None,
    )
    assert file["entities"] == [{"entityType": "INVOICE", "entityId": invoice["id"]}]
    pdf = pdf_of(api, "acme", file)
    text = text_of(pdf)
    assert "FACTURA" in text and invoice["number"] in text
    assert "Constructora Las Cumbres, S.A." in text and "Acme" in text
    assert "$3,085.00" in text  # subtotal: 85.00 + 3,000.00
    assert "$5.95" in text  # ITBMS 7 % on 85.00
    assert f"${float(invoice['total']):,.2f}" == "$3,090.95" and "$3,090.95" in text
    assert HEADER in text and FOOTER in text
    assert "DOCUMENTO NO FISCAL" in text and "Página 1 de 1" in text
    assert [image.image.size for image in PdfReader(io.BytesIO(pdf)).pages[0].images] == [(60, 20)]


def test_rendering_twice_returns_the_same_file_with_one_row_and_one_blob(api: Any, acme: dict[str, str]) -> None:
    invoice = create_invoice(api, acme, create_client(api, acme))
    first = ok(api, acme, RENDER_INVOICE, "renderInvoicePdf", invoiceId=invoice["id"])["file"]
    with rows_added(api):
        again = ok(api, acme, RENDER_INVOICE, "renderInvoicePdf", invoiceId=invoice["id"])["file"]
    assert again == first
    assert (count_rows(api, "files"), count_rows(api, "file_entities"), len(blobs(api))) == (1, 1, 1)
    assert staged(api) == []


def test_a_named_template_wins_and_a_quote_renders_linked_to_the_quote(api: Any, acme: dict[str, str]) -> None:
    create_template(api, acme, "QUOTE", isDefault=True, headerText="La de siempre")
    chosen = create_template(api, acme, "QUOTE", name="Inglés", headerText="Special offer", locale="en")
    quote = run(api, acme, CREATE_QUOTE, "createQuote", input={
        "clientName": "Ana Pérez", "lines": [{"description": "Diseño de logo", "quantity": "1", "unitPrice": "250", "taxRate": 7}],
    })["quote"]
    file = ok(api, acme, RENDER_QUOTE, "renderQuotePdf", quoteId=quote["id"], templateId=chosen["id"])["file"]
    assert file["name"] == f"Cotización {quote['number']}.pdf"
    assert file["entities"] == [{"entityType": "QUOTE", "entityId": quote["id"]}]
    text = text_of(pdf_of(api, "acme", file))
    assert "QUOTE" in text and "Special offer" in text and "La de siempre" not in text
    assert "Ana Pérez" in text and "$267.50" in text


def test_a_statement_renders_linked_to_the_clients_statement(api: Any, acme: dict[str, str]) -> None:
    client = create_client(api, acme)
    invoice = create_invoice(api, acme, client)
    file = ok(api, acme, RENDER_STATEMENT, "renderStatementPdf", clientId=client["id"], **{"from": "2026-11-01", "to": "2026-11-30"})["file"]
    assert file["name"] == "Estado de cuenta Constructora Las Cumbres, S.A. 2026-11-01_2026-11-30.pdf"
    assert file["entities"] == [{"entityType": "STATEMENT", "entityId": client["id"]}]
    text = text_of(pdf_of(api, "acme", file))
    assert "ESTADO DE CUENTA" in text and "Constructora Las Cumbres, S.A." in text
    assert invoice["number"] in text and "3,090.95" in text


def test_a_preview_is_a_temporary_file_of_sample_data(api: Any, acme: dict[str, str]) -> None:
    with rows_added(api, files=1, blobs=1):
        file = ok(api, acme, PREVIEW, "previewPdfTemplate", documentType="INVOICE", template={
            "headerText": "¿Así se ve?", "primaryColor": "#0B5394", "paperSize": "LETTER",
        })["file"]
    assert (file["status"], file["expiresAt"], file["entities"]) == ("TEMPORARY", "2026-11-25T12:00:00Z", [])
    assert file["name"] == "Vista previa Factura.pdf"
    text = text_of(pdf_of(api, "acme", file))
    assert "¿Así se ve?" in text and "Constructora Las Cumbres, S.A." in text  # the sample client

    saved = create_template(api, acme, "STATEMENT", name="Estados", footerDisclaimer="Pie guardado")
    file = ok(api, acme, PREVIEW, "previewPdfTemplate", documentType="STATEMENT", templateId=saved["id"])["file"]
    assert (file["status"], file["name"]) == ("TEMPORARY", "Vista previa Estados.pdf")
    assert "Pie guardado" in text_of(pdf_of(api, "acme", file))


def test_a_template_that_fails_at_render_time_is_a_result_error(api: Any, acme: dict[str, str]) -> None:
    template = create_template(api, acme, customBodyTemplate="<p>{{ doc.__class__ }}</p>")
    invoice = create_invoice(api, acme, create_client(api, acme))
    error = refused(api, acme, RENDER_INVOICE, "renderInvoicePdf", "RENDER_FAILED", None,
                    invoiceId=invoice["id"], templateId=template["id"])
    assert "unsafe" in error["message"]


def test_a_render_past_its_time_limit_is_a_result_error(make_service: Any) -> None:
    api = make_service()
    with WeasyPrintPdfRenderer(RendererSettings(processes=1, timeout=0.5)) as impatient:
        api.container.pdf.pdf_renderer.override(providers.Object(impatient))
        acme = api.headers("acme")
        loop = "{% for i in range(99999) %}{% for j in range(99999) %}{{ i }}{% endfor %}{% endfor %}"
        refused(api, acme, PREVIEW, "previewPdfTemplate", "RENDER_TIMEOUT", None,
                documentType="INVOICE", template={"customBodyTemplate": loop})


# --- templates ------------------------------------------------------------------------------------


def test_create_update_list_and_delete_templates(api: Any, acme: dict[str, str], clock: FakeClock) -> None:
    first = create_template(api, acme, isDefault=True, primaryColor="#0b5394")
    assert {k: first[k] for k in ("documentType", "isDefault", "primaryColor", "secondaryColor", "paperSize", "locale", "version")} == {
        "documentType": "INVOICE", "isDefault": True, "primaryColor": "#0B5394", "secondaryColor": "#5B7FA6",
        "paperSize": "A4", "locale": "es-PA", "version": 1,
    }
    second = create_template(api, acme, name="Nueva", isDefault=True)
    listed = ok(api, acme, TEMPLATES, "pdfTemplates", documentType="INVOICE")["pdfTemplates"]
    assert [(t["name"], t["isDefault"], t["version"]) for t in listed] == [("Nueva", True, 1), ("Facturas", False, 2)]

    clock.advance(timedelta(hours=1))
    updated = ok(api, acme, UPDATE_TEMPLATE, "updatePdfTemplate", id=second["id"], version=1, input={
        "name": "Renombrada", "isDefault": True, "footerDisclaimer": "Nuevo pie", "locale": "en", "paperSize": "LETTER",
    })["pdfTemplate"]
    assert (updated["name"], updated["version"], updated["locale"], updated["paperSize"], updated["updatedAt"]) == (
        "Renombrada", 2, "en", "LETTER", "2026-11-24T13:00:00Z",
    )
    assert ok(api, acme, GET_TEMPLATE, "getPdfTemplateById", id=second["id"])["pdfTemplate"] == updated

    assert ok(api, acme, DELETE_TEMPLATE, "deletePdfTemplate", id=second["id"])["deletedId"] == second["id"]
    remaining = ok(api, acme, TEMPLATES, "pdfTemplates")["pdfTemplates"]
    assert [(t["id"], t["isDefault"]) for t in remaining] == [(first["id"], False)]  # the built-in layout is the default now


# --- bad input ------------------------------------------------------------------------------------


def test_unknown_and_other_tenants_ids_read_as_not_found(api: Any, acme: dict[str, str], globex: dict[str, str]) -> None:
    their_invoice = create_invoice(api, globex, create_client(api, globex))
    their_client = create_client(api, globex)
    their_template = create_template(api, globex)
    invoice = create_invoice(api, acme, create_client(api, acme))
    period = {"from": "2026-11-01", "to": "2026-11-30"}
    for invoice_id in (their_invoice["id"], str(uuid.uuid4())):
        refused(api, acme, RENDER_INVOICE, "renderInvoicePdf", "NOT_FOUND", "invoiceId", invoiceId=invoice_id)
    for client_id in (their_client["id"], str(uuid.uuid4())):
        refused(api, acme, RENDER_STATEMENT, "renderStatementPdf", "NOT_FOUND", "clientId", clientId=client_id, **period)
    for template_id in (their_template["id"], str(uuid.uuid4())):
        refused(api, acme, RENDER_INVOICE, "renderInvoicePdf", "NOT_FOUND", "templateId",
                invoiceId=invoice["id"], templateId=template_id)
        refused(api, acme, GET_TEMPLATE, "getPdfTemplateById", "NOT_FOUND", "id", id=template_id)
        refused(api, acme, UPDATE_TEMPLATE, "updatePdfTemplate", "NOT_FOUND", "id", id=template_id, version=1,
                input={"name": "Secuestrada"})
        refused(api, acme, DELETE_TEMPLATE, "deletePdfTemplate", "NOT_FOUND", "id", id=template_id)
        refused(api, acme, PREVIEW, "previewPdfTemplate", "NOT_FOUND", "templateId", documentType="INVOICE", templateId=template_id)
    refused(api, acme, RENDER_INVOICE, "renderInvoicePdf", "INVALID_INPUT", "invoiceId", invoiceId="F-000001")
    assert ok(api, globex, GET_TEMPLATE, "getPdfTemplateById", id=their_template["id"])["pdfTemplate"]["version"] == 1


def test_a_logo_that_is_not_an_image_or_is_another_tenants_is_refused(
    api: Any, acme: dict[str, str], globex: dict[str, str]
) -> None:
    text = add_file(api, acme, b"esto no es una imagen\n", filename="logo.png")
    theirs = add_file(api, globex, png(), filename="logo.png")
    error = refused(api, acme, CREATE_TEMPLATE, "createPdfTemplate", "INVALID_LOGO", "logoFileId",
                    documentType="INVOICE", input={"name": "Con logo", "logoFileId": text["id"]})
    assert "text/plain" in error["message"]
    refused(api, acme, CREATE_TEMPLATE, "createPdfTemplate", "NOT_FOUND", "logoFileId",
            documentType="INVOICE", input={"name": "Con logo ajeno", "logoFileId": theirs["id"]})
    template = create_template(api, acme)
    refused(api, acme, UPDATE_TEMPLATE, "updatePdfTemplate", "NOT_FOUND", "logoFileId",
            id=template["id"], version=1, input={"name": "Con logo ajeno", "logoFileId": theirs["id"]})
    refused(api, acme, PREVIEW, "previewPdfTemplate", "INVALID_LOGO", "logoFileId",
            documentType="INVOICE", template={"logoFileId": text["id"]})


@pytest.mark.parametrize(
    ("input", "code", "field"),
    [
        ({"primaryColor": "#12345G"}, "INVALID_COLOR", "primaryColor"),
        ({"primaryColor": "blue"}, "INVALID_COLOR", "primaryColor"),
        ({"secondaryColor": "#FFF"}, "INVALID_COLOR", "secondaryColor"),
        ({"paperSize": "A3"}, "INVALID_INPUT", "paperSize"),
        ({"locale": "es"}, "INVALID_INPUT", "locale"),
        ({"name": ""}, "INVALID_INPUT", "name"),
        ({"customCss": "h1 { color: red }\n\n}"}, "TEMPLATE_INVALID", "customCss"),
    ],
)
def test_bad_template_fields_are_refused_naming_the_field(
    api: Any, acme: dict[str, str], input: dict[str, Any], code: str, field: str
) -> None:
    refused(api, acme, CREATE_TEMPLATE, "createPdfTemplate", code, field,
            documentType="INVOICE", input={"name": "Mala", **input})


def test_a_template_that_does_not_compile_is_refused_with_its_line(api: Any, acme: dict[str, str]) -> None:
    body = "<h1>{{ doc.number }}</h1>\n<p>{{ doc.client.name }}</p>\n{% for line in doc.lines %}\n<p>{{ line.description }}</p>"
    error = refused(api, acme, CREATE_TEMPLATE, "createPdfTemplate", "TEMPLATE_INVALID", "customBodyTemplate",
                    documentType="INVOICE", input={"name": "Rota", "customBodyTemplate": body})
    assert "line 4" in error["message"]
    template = create_template(api, acme)
    error = refused(api, acme, UPDATE_TEMPLATE, "updatePdfTemplate", "TEMPLATE_INVALID", "customBodyTemplate",
                    id=template["id"], version=1, input={"name": "Rota", "customBodyTemplate": "ok\n{{ doc.number }"})
    assert "line 2" in error["message"]


def test_a_stale_version_is_refused(api: Any, acme: dict[str, str]) -> None:
    template = create_template(api, acme, headerText="v1")
    ok(api, acme, UPDATE_TEMPLATE, "updatePdfTemplate", id=template["id"], version=1, input={"name": "Facturas", "headerText": "v2"})
    error = refused(api, acme, UPDATE_TEMPLATE, "updatePdfTemplate", "VERSION_CONFLICT", "version",
                    id=template["id"], version=1, input={"name": "Facturas", "headerText": "pisada"})
    assert "version 2" in error["message"]
    assert ok(api, acme, GET_TEMPLATE, "getPdfTemplateById", id=template["id"])["pdfTemplate"]["headerText"] == "v2"


def test_a_template_of_another_document_type_is_refused(api: Any, acme: dict[str, str]) -> None:
    quote_template = create_template(api, acme, "QUOTE")
    client = create_client(api, acme)
    invoice = create_invoice(api, acme, client)
    error = refused(api, acme, RENDER_INVOICE, "renderInvoicePdf", "WRONG_DOCUMENT_TYPE", "templateId",
                    invoiceId=invoice["id"], templateId=quote_template["id"])
    assert "QUOTE" in error["message"]
    refused(api, acme, RENDER_STATEMENT, "renderStatementPdf", "WRONG_DOCUMENT_TYPE", "templateId",
            clientId=client["id"], templateId=quote_template["id"], **{"from": "2026-11-01", "to": "2026-11-30"})
    refused(api, acme, PREVIEW, "previewPdfTemplate", "WRONG_DOCUMENT_TYPE", "templateId",
            documentType="INVOICE", templateId=quote_template["id"])
    refused(api, acme, CREATE_TEMPLATE, "createPdfTemplate", "INVALID_INPUT", "documentType",
            documentType="RECIBO", input={"name": "Recibos"})
