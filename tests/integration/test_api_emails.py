"""Emails through the HTTP API, with the real adapters: the database (SQLite and PostgreSQL), the
job worker, and the default sender (the local outbox: ``.eml`` files under the data dir).

PDFs come from ``FakePdfRenderer`` (deterministic bytes; WeasyPrint is tested by the pdf suite).
Each refused request must name the field and leave nothing behind: no message, no job, no file.
"""

from __future__ import annotations

import email
import email.policy
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers

from tests.fakes.pdf import FakePdfRenderer
from tests.integration.api import add_file, count_rows, data
from tests.smtpserver import SmtpServer

ERROR = "error { code message field }"
MESSAGE = """id direction kind status messageId to cc bcc subject html text attachmentFileIds entityType entityId
  provider providerMessageId lastError retries attempts { number outcome provider response startedAt finishedAt }"""
SEND = f"mutation($input: SendEmailInput!) {{ sendEmail(input: $input) {{ emailMessage {{ {MESSAGE} }} {ERROR} }} }}"
SEND_PDF = f"""mutation($entityType: String!, $entityId: ID!, $to: [String!], $message: String, $locale: String) {{
  sendPdfEmail(entityType: $entityType, entityId: $entityId, to: $to, message: $message, locale: $locale) {{
    emailMessage {{ {MESSAGE} }} {ERROR} }} }}"""
RESEND = f"""mutation($invoiceId: ID!, $email: String) {{
  resendInvoiceEmail(invoiceId: $invoiceId, email: $email) {{ emailMessage {{ {MESSAGE} }} {ERROR} }} }}"""
STATEMENT = f"""mutation($clientId: ID!, $from: Date!, $to: Date!, $recipients: [String!]) {{
  sendStatementEmail(clientId: $clientId, from: $from, to: $to, recipients: $recipients) {{
    emailMessage {{ {MESSAGE} }} {ERROR} }} }}"""
RETRY = f"mutation($id: ID!) {{ retryEmail(id: $id) {{ emailMessage {{ id status retries }} {ERROR} }} }}"
MESSAGES = f"""query($filter: EmailMessageFilterInput, $first: Int, $after: String) {{
  emailMessages(filter: $filter, first: $first, after: $after) {{
    edges {{ cursor node {{ id status subject }} }} pageInfo {{ endCursor hasNextPage }} {ERROR} }} }}"""
CREATE_CLIENT_EMAIL = f"""mutation($clientId: ID!, $email: String!, $kind: String) {{
  createClientEmail(clientId: $clientId, email: $email, kind: $kind) {{
    clientEmail {{ id clientId email kind createdAt }} {ERROR} }} }}"""
DELETE_CLIENT_EMAIL = f"mutation($id: ID!) {{ deleteClientEmail(id: $id) {{ deletedId {ERROR} }} }}"
CLIENT = "query($id: ID!) { getClientById(id: $id) { client { id emails { id email kind } } error { code } } }"
SET_TEMPLATE = f"""mutation($kind: String!, $locale: String!, $subject: String!, $html: String, $text: String) {{
  setEmailTemplate(kind: $kind, locale: $locale, subject: $subject, html: $html, text: $text) {{
    emailTemplate {{ kind locale subject html text custom updatedAt }} {ERROR} }} }}"""
TEMPLATES = f"query {{ emailTemplates {{ templates {{ kind locale custom subject }} {ERROR} }} }}"
CREATE_CLIENT = "mutation($input: ClientInput!) { createClient(input: $input) { client { id } error { code } } }"
CREATE_INVOICE = """mutation($input: CreateInvoiceInput!) {
  createInvoice(input: $input) { invoice { id number } error { code message } } }"""
LINES = [{"description": "Cemento", "quantity": "2", "unitPrice": "10.00", "taxRate": 7}]
NOWHERE = "3f1d7e8a-0000-4000-8000-000000000000"


@pytest.fixture
def api(make_service: Any) -> Any:
    service = make_service(egress_allow=("127.0.0.1",))  # the tenant SMTP servers of these tests are local
    service.container.pdf.pdf_renderer.override(providers.Object(FakePdfRenderer()))
    return service


@pytest.fixture
def acme(api: Any) -> dict[str, str]:
    return api.headers("acme")


def _tenant_id(api: Any, slug: str) -> str:
    return api.tenant(slug)


def _outbox(api: Any, slug: str) -> list[Path]:
    folder = Path(api.container.settings().data_dir) / "outbox" / _tenant_id(api, slug)
    return sorted(folder.glob("*.eml")) if folder.exists() else []


def _client(api: Any, headers: dict[str, str]) -> str:
    result = data(api, CREATE_CLIENT, {"input": {"name": "Cumbres, S.A.", "taxpayerType": "JURIDICO", "ruc": "8-1-2", "dv": "12"}}, headers=headers)
    return result["createClient"]["client"]["id"]


def _invoice(api: Any, headers: dict[str, str], **who: Any) -> dict[str, Any]:
    result = data(api, CREATE_INVOICE, {"input": {"lines": LINES, **who}}, headers=headers)
    assert result["createInvoice"]["error"] is None, result
    return result["createInvoice"]["invoice"]


def _work(api: Any) -> int:
    return api.container.worker().run_once()


def _nothing_queued(api: Any) -> None:
    assert count_rows(api, "email_messages") == 0
    assert count_rows(api, "jobs") == 0


def test_client_emails_are_listed_on_the_client_and_refused_when_bad(api: Any, acme: dict[str, str]) -> None:
    client_id = _client(api, acme)
    created = data(api, CREATE_CLIENT_EMAIL, {"clientId": client_id, "email": "compras@cumbres.com.pa"}, headers=acme)
    email_id = created["createClientEmail"]["clientEmail"]["id"]
    data(api, CREATE_CLIENT_EMAIL, {"clientId": client_id, "email": "conta@cumbres.com.pa", "kind": "CC"}, headers=acme)
    listed = data(api, CLIENT, {"id": client_id}, headers=acme)["getClientById"]["client"]["emails"]
    assert [(e["email"], e["kind"]) for e in listed] == [("compras@cumbres.com.pa", "TO"), ("conta@cumbres.com.pa", "CC")]

    bad = data(api, CREATE_CLIENT_EMAIL, {"clientId": client_id, "email": "compras@"}, headers=acme)["createClientEmail"]
    assert bad["clientEmail"] is None and (bad["error"]["code"], bad["error"]["field"]) == ("INVALID_EMAIL", "email")
    unknown = data(api, CREATE_CLIENT_EMAIL, {"clientId": NOWHERE, "email": "a@b.com"}, headers=acme)["createClientEmail"]
    assert (unknown["error"]["code"], unknown["error"]["field"]) == ("NOT_FOUND", "clientId")
    assert count_rows(api, "client_emails") == 2

    deleted = data(api, DELETE_CLIENT_EMAIL, {"id": email_id}, headers=acme)["deleteClientEmail"]
    assert deleted == {"deletedId": email_id, "error": None}
    assert count_rows(api, "client_emails") == 1


def test_send_email_is_written_to_the_tenants_outbox_by_the_worker(api: Any, acme: dict[str, str]) -> None:
    attachment = add_file(api, acme, b"%PDF-1.7\ncontrato\n%%EOF\n", filename="contrato.pdf")
    sent = data(
        api, SEND,
        {"input": {"to": ["ana@cliente.com.pa"], "cc": ["jefe@cliente.com.pa"], "bcc": ["archivo@acme.pa"],
                   "subject": "Contrato firmado", "text": "Adjunto el contrato.", "html": "<p>Adjunto el contrato.</p>",
                   "attachmentFileIds": [attachment["id"]], "entityType": "CONTRACT", "entityId": "k-1"}},
        headers=acme,
    )["sendEmail"]
    assert sent["error"] is None
    message = sent["emailMessage"]
    assert message["status"] == "QUEUED" and message["attempts"] == []
    assert count_rows(api, "jobs") == 1
    _work(api)

    [eml] = _outbox(api, "acme")
    parsed = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert parsed["Message-ID"] == message["messageId"]
    assert (parsed["To"], parsed["Cc"], parsed["Bcc"]) == ("ana@cliente.com.pa", "jefe@cliente.com.pa", "archivo@acme.pa")
    assert parsed["Subject"] == "Contrato firmado"
    assert parsed.get_body(("plain",)).get_content().strip() == "Adjunto el contrato."
    [part] = list(parsed.iter_attachments())
    assert part.get_filename() == "contrato.pdf" and part.get_content() == b"%PDF-1.7\ncontrato\n%%EOF\n"

    page = data(api, MESSAGES, {"filter": {"status": ["SENT"]}}, headers=acme)["emailMessages"]
    [edge] = page["edges"]
    assert edge["node"]["id"] == message["id"]
    done = data(api, f"query($id: ID!) {{ getEmailMessageById(id: $id) {{ emailMessage {{ {MESSAGE} }} {ERROR} }} }}",
                {"id": message["id"]}, headers=acme)["getEmailMessageById"]["emailMessage"]
    assert done["provider"] == "outbox" and done["providerMessageId"] == eml.name
    assert [a["outcome"] for a in done["attempts"]] == ["SENT"]

    again = data(api, RETRY, {"id": message["id"]}, headers=acme)["retryEmail"]
    assert (again["error"]["code"], again["error"]["field"]) == ("NOT_RETRYABLE", "id")


def test_send_pdf_email_attaches_the_invoice_pdf_to_its_ad_hoc_emails(api: Any, acme: dict[str, str]) -> None:
    invoice = _invoice(api, acme, clientName="Consumidor final", adHocEmails=["juan@correo.pa"])
    sent = data(api, SEND_PDF, {"entityType": "INVOICE", "entityId": invoice["id"], "message": "Gracias"}, headers=acme)
    message = sent["sendPdfEmail"]["emailMessage"]
    assert message["to"] == ["juan@correo.pa"] and message["subject"] == f"Factura {invoice['number']} de Acme"
    assert (message["entityType"], message["entityId"]) == ("INVOICE", invoice["id"])
    resent = data(api, RESEND, {"invoiceId": invoice["id"], "email": "otra@correo.pa"}, headers=acme)
    assert resent["resendInvoiceEmail"]["emailMessage"]["attachmentFileIds"] == message["attachmentFileIds"]
    _work(api)
    emls = _outbox(api, "acme")
    assert len(emls) == 2
    for eml in emls:
        parsed = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        [part] = list(parsed.iter_attachments())
        assert part.get_content_type() == "application/pdf" and part.get_content().startswith(b"%PDF-")


def test_a_statement_email_needs_recipients(api: Any, acme: dict[str, str]) -> None:
    client_id = _client(api, acme)
    period = {"clientId": client_id, "from": "2026-11-01", "to": "2026-11-30"}
    refused = data(api, STATEMENT, period, headers=acme)["sendStatementEmail"]
    assert (refused["error"]["code"], refused["error"]["field"]) == ("NO_RECIPIENTS", "to")
    _nothing_queued(api)
    sent = data(api, STATEMENT, {**period, "recipients": ["conta@cumbres.com.pa"]}, headers=acme)["sendStatementEmail"]
    assert sent["error"] is None and sent["emailMessage"]["entityType"] == "STATEMENT"


@pytest.mark.parametrize(
    ("input", "code", "field"),
    [
        ({"to": ["no-es-correo"], "subject": "x", "text": "y"}, "INVALID_EMAIL", "to[0]"),
        ({"to": [], "subject": "x", "text": "y"}, "NO_RECIPIENTS", "to"),
        ({"to": ["a@b.com"], "subject": "x", "text": "y", "attachmentFileIds": [NOWHERE]}, "NOT_FOUND", "attachmentFileIds[0]"),
        ({"to": ["a@b.com"], "subject": "x\r\nBcc: z@z.com", "text": "y"}, "INVALID_INPUT", "subject"),
    ],
)
def test_bad_sends_queue_nothing(api: Any, acme: dict[str, str], input: dict[str, Any], code: str, field: str) -> None:
    result = data(api, SEND, {"input": input}, headers=acme)["sendEmail"]
    assert result["emailMessage"] is None
    assert (result["error"]["code"], result["error"]["field"]) == (code, field), result["error"]
    _nothing_queued(api)


def test_an_attachment_or_invoice_of_another_tenant_is_not_found(api: Any, acme: dict[str, str]) -> None:
    globex = api.headers("globex")
    theirs = add_file(api, globex, b"secreto de globex", filename="secreto.txt")
    their_invoice = _invoice(api, globex, clientName="X", adHocEmails=["x@globex.com"])
    refused = data(api, SEND, {"input": {"to": ["a@b.com"], "subject": "x", "text": "y", "attachmentFileIds": [theirs["id"]]}}, headers=acme)
    assert refused["sendEmail"]["error"]["code"] == "NOT_FOUND"
    refused = data(api, SEND_PDF, {"entityType": "INVOICE", "entityId": their_invoice["id"]}, headers=acme)
    assert (refused["sendPdfEmail"]["error"]["code"], refused["sendPdfEmail"]["error"]["field"]) == ("NOT_FOUND", "entityId")
    _nothing_queued(api)


def test_templates_are_set_listed_and_used(api: Any, acme: dict[str, str]) -> None:
    saved = data(api, SET_TEMPLATE, {"kind": "INVOICE", "locale": "en", "subject": "Bill {{ invoice.number }}", "text": "Due {{ invoice.due_date }}"}, headers=acme)
    assert saved["setEmailTemplate"]["emailTemplate"]["custom"] is True
    bad = data(api, SET_TEMPLATE, {"kind": "INVOICE", "locale": "es", "subject": "x", "html": "{% for %}"}, headers=acme)
    assert (bad["setEmailTemplate"]["error"]["code"], bad["setEmailTemplate"]["error"]["field"]) == ("TEMPLATE_INVALID", "html")
    listed = data(api, TEMPLATES, headers=acme)["emailTemplates"]["templates"]
    assert [(t["kind"], t["locale"]) for t in listed if t["custom"]] == [("INVOICE", "en")]
    assert len(listed) == 10
    invoice = _invoice(api, acme, clientName="C", adHocEmails=["c@c.com"])
    sent = data(api, SEND_PDF, {"entityType": "INVOICE", "entityId": invoice["id"], "locale": "en"}, headers=acme)
    assert sent["sendPdfEmail"]["emailMessage"]["subject"] == f"Bill {invoice['number']}"
    assert count_rows(api, "email_templates") == 1


def test_the_message_log_pages_and_is_the_tenants_own(api: Any, acme: dict[str, str]) -> None:
    for index in range(3):
        data(api, SEND, {"input": {"to": ["a@b.com"], "subject": f"n{index}", "text": "y"}}, headers=acme)
    first = data(api, MESSAGES, {"first": 2}, headers=acme)["emailMessages"]
    assert len(first["edges"]) == 2 and first["pageInfo"]["hasNextPage"]
    rest = data(api, MESSAGES, {"first": 2, "after": first["pageInfo"]["endCursor"]}, headers=acme)["emailMessages"]
    assert len(rest["edges"]) == 1 and not rest["pageInfo"]["hasNextPage"]
    subjects = {e["node"]["subject"] for e in first["edges"] + rest["edges"]}
    assert subjects == {"n0", "n1", "n2"}
    globex = api.headers("globex")
    assert data(api, MESSAGES, headers=globex)["emailMessages"]["edges"] == []
    bad = data(api, MESSAGES, {"filter": {"status": ["PERDIDO"]}}, headers=acme)["emailMessages"]
    assert bad["error"]["field"] == "filter.status[0]"


SETTINGS = f"query {{ emailSettings {{ emailSettings {{ smtp fromAddress updatedAt }} {ERROR} }} }}"
SET_SETTINGS = f"""mutation($smtpUrl: String, $fromAddress: String) {{
  setEmailSettings(smtpUrl: $smtpUrl, fromAddress: $fromAddress) {{ emailSettings {{ smtp fromAddress }} {ERROR} }} }}"""


def test_a_tenant_with_its_own_smtp_server_sends_through_it_and_others_use_the_outbox(
    api: Any, acme: dict[str, str]
) -> None:
    password = "tenant-smtp-p4ssword"
    globex = api.headers("globex")
    with SmtpServer(credentials=("acme", password)) as smtp:
        url = smtp.url(user="acme", password=password, starttls="false")
        saved = data(api, SET_SETTINGS, {"smtpUrl": url, "fromAddress": "facturas@acme.com.pa"}, headers=acme)
        assert saved["setEmailSettings"]["error"] is None
        assert saved["setEmailSettings"]["emailSettings"]["smtp"] == f"smtp://acme@127.0.0.1:{smtp.port}?starttls=false"
        shown = data(api, SETTINGS, headers=acme)["emailSettings"]["emailSettings"]
        assert password not in str(shown) and shown["fromAddress"] == "facturas@acme.com.pa"
        with api.container.engine().connect() as connection:
            from sqlalchemy import text

            sealed = connection.execute(text("SELECT smtp_url_sealed FROM email_settings")).scalar_one()
        assert password not in sealed

        data(api, SEND, {"input": {"to": ["ana@cliente.com.pa"], "subject": "Por SMTP", "text": "x"}}, headers=acme)
        data(api, SEND, {"input": {"to": ["ana@cliente.com.pa"], "subject": "Al outbox", "text": "x"}}, headers=globex)
        _work(api)
    [got] = smtp.received
    assert got.message["Subject"] == "Por SMTP" and got.mail_from == "facturas@acme.com.pa"
    assert _outbox(api, "acme") == [] and len(_outbox(api, "globex")) == 1

    member = api.headers("acme", role="member", subject="user-2")
    refused = data(api, SET_SETTINGS, {"smtpUrl": None}, headers=member)["setEmailSettings"]
    assert refused["error"]["code"] == "PERMISSION_DENIED"


SEND_INVOICE = f"""mutation($id: ID!, $channel: String) {{
  sendInvoice(invoiceId: $id, channel: $channel) {{ channel emailMessage {{ id status to entityType entityId }} {ERROR} }} }}"""


def test_send_invoice_by_email_is_send_pdf_email(api: Any, acme: dict[str, str]) -> None:
    invoice = _invoice(api, acme, clientName="Consumidor final", adHocEmails=["juan@correo.pa"])
    sent = data(api, SEND_INVOICE, {"id": invoice["id"], "channel": "EMAIL"}, headers=acme)["sendInvoice"]
    assert sent["error"] is None and sent["channel"] == "EMAIL"
    assert sent["emailMessage"]["to"] == ["juan@correo.pa"]
    assert (sent["emailMessage"]["entityType"], sent["emailMessage"]["entityId"]) == ("INVOICE", invoice["id"])
    assert count_rows(api, "email_messages") == 1


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "[::1]", "169.254.169.254", "10.0.0.7", "2130706433", "metadata.google.internal"]
)
def test_a_tenant_smtp_url_to_an_internal_host_is_refused_and_nothing_is_saved(make_service: Any, host: str) -> None:
    service = make_service()  # no ISTMO_EGRESS_ALLOW
    headers = service.headers("acme")
    url = f"smtp://u:p4ss@{host}:2525"
    refused = data(service, SET_SETTINGS, {"smtpUrl": url}, headers=headers)["setEmailSettings"]
    assert refused["emailSettings"] is None and refused["error"]["code"] == "INVALID_INPUT"
    assert refused["error"]["field"] == "smtpUrl" and "may not be reached" in refused["error"]["message"]
    assert "p4ss" not in str(refused)
    assert count_rows(service, "email_settings") == 0
