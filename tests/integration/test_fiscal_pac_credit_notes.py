"""Issue 18: the PAC's notices are matched to credit notes as to invoices (POST /webhooks/pac/...,
through the inbox, with Alanube played by the local provider server), the poller asks about the
credit notes still waiting as about invoices, and an authorised credit note's PDF and XML are kept,
on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from adapters.db.invoicing.tables import credit_notes
from adapters.db.jobs.tables import jobs
from application.invoicing.credit_notes import CreateCreditNote
from application.invoicing.pac import QueueStalePacDocuments
from tests.conftest import Service
from tests.integration.test_webhooks_pac import (  # noqa: F401 - fixtures
    PDF,
    XML,
    Alanube,
    alanube,
    configure,
    invoice,
    invoice_row,
    kept_files,
    notify,
    pac,
    pdf_files,
)
from tests.integration.webhooks_helpers import events, run_jobs
from tests.providers.server import Reply, provider_server  # noqa: F401 - fixture


def note_row(service: Service, credit_note_id: str) -> dict[str, Any]:
    with service.container.engine().connect() as connection:
        return dict(connection.execute(select(credit_notes).where(credit_notes.c.id == credit_note_id)).mappings().one())


def test_a_credit_notes_notice_moves_its_legal_status_and_keeps_what_the_pac_says(
    pac: Service, alanube: Alanube
) -> None:
    acme = configure(pac)
    invoice_id = invoice(pac, acme, "doc-1")
    note = pac.container.bus().handle(
        CreateCreditNote(actor=acme, invoice_id=invoice_id, full=True, reason="Anulación", pac_document_id="nc-1")
    )
    assert invoice_row(pac, invoice_id)["balance"] == 0
    alanube.authorise("nc-1")
    notify(pac, {"id": "nc-1", "legalStatus": "PAC_AUTHORIZED", "cufe": "NC-CUFE-1"})
    run_jobs(pac)
    [event] = events(pac)
    assert event["status"] == "PROCESSED", event["last_error"]
    row = note_row(pac, note.id)
    assert (row["legal_status"], row["cufe"], row["authorization_protocol"]) == ("PAC_AUTHORIZED", "FE-nc-1", "P-nc-1")
    assert row["qr_url"].startswith("https://dgi-fep.mef.gob.pa/")
    assert invoice_row(pac, invoice_id)["legal_status"] == "NONE"  # the invoice is not the credit note
    assert [r.path for r in alanube.fetches()] == ["/pan/v1/credit-notes/nc-1"]  # Alanube's path for credit notes
    assert kept(pac, note.id) == {
        ("application/pdf", "Nota de crédito NC-000001 (PAC).pdf", hashlib.sha256(PDF).hexdigest()),
        ("application/xml", "Nota de crédito NC-000001 (PAC).xml", hashlib.sha256(XML).hexdigest()),
    }
    assert pdf_files(pac, invoice_id) == []  # kept with the credit note, not its invoice

    notify(pac, {"id": "nc-1", "legalStatus": "DGI_REJECTED", "message": "CUFE de referencia inválido"})
    run_jobs(pac)
    row = note_row(pac, note.id)
    assert (row["legal_status"], row["legal_message"]) == ("DGI_REJECTED", "CUFE de referencia inválido")
    notify(pac, {"id": "nc-1", "legalStatus": "DGI_AUTHORIZED"})  # a terminal state is never left
    run_jobs(pac)
    assert note_row(pac, note.id)["legal_status"] == "DGI_REJECTED"


def kept(service: Service, credit_note_id: str) -> set[tuple[str, str, str]]:
    return {
        (row["mime"], row["name"], row["sha256"])
        for mime in ("application/pdf", "application/xml")
        for row in kept_files(service, credit_note_id, mime, entity_type="CREDIT_NOTE")
    }


def test_the_poller_asks_the_pac_about_credit_notes_still_waiting(pac: Service, alanube: Alanube) -> None:
    acme = configure(pac)
    bus = pac.container.bus()
    notes = {
        name: bus.handle(CreateCreditNote(
            actor=acme, invoice_id=invoice(pac, acme, f"doc-{name}"), full=True, reason="Anulación",
            pac_document_id=f"nc-{name}",
        )).id
        for name in ("waiting", "fresh", "done")
    }
    old = datetime.now(UTC) - timedelta(hours=1)
    with pac.container.engine().begin() as connection:
        connection.execute(update(credit_notes).where(credit_notes.c.id.in_([notes["waiting"], notes["done"]]))
                           .values(created_at=old))
        connection.execute(update(credit_notes).where(credit_notes.c.id == notes["done"])
                           .values(legal_status="DGI_AUTHORIZED"))
    alanube.authorise("nc-waiting", "DGI_AUTHORIZED")

    assert bus.handle(QueueStalePacDocuments(actor=None, slot="s1")) == 1  # the invoices are fresh
    assert bus.handle(QueueStalePacDocuments(actor=None, slot="s1")) == 1  # same slot: one job
    with pac.container.engine().connect() as connection:
        sync_jobs = connection.execute(select(jobs).where(jobs.c.kind == "pac.sync")).mappings().all()
    assert [job["payload"] for job in sync_jobs] == [{"document_id": "nc-waiting"}]
    run_jobs(pac)

    row = note_row(pac, notes["waiting"])
    assert (row["legal_status"], row["cufe"]) == ("DGI_AUTHORIZED", "FE-nc-waiting")
    assert {mime for mime, _, _ in kept(pac, notes["waiting"])} == {"application/pdf", "application/xml"}
    assert note_row(pac, notes["fresh"])["legal_status"] == "NONE"  # not waiting long enough yet
    assert kept(pac, notes["fresh"]) == set() and kept(pac, notes["done"]) == set()
    # the scheduled pac.poll of this slot may have asked again: only ever about nc-waiting
    assert {r.path for r in alanube.fetches()} == {"/pan/v1/credit-notes/nc-waiting"}


def test_a_notice_for_nobodys_document_is_unmatched(pac: Service, alanube: Alanube) -> None:
    configure(pac)
    notify(pac, {"id": "nc-404", "legalStatus": "PAC_AUTHORIZED"})
    run_jobs(pac)
    [event] = events(pac)
    assert event["status"] == "UNMATCHED"
    assert "no invoice or credit note" in (event["last_error"] or event.get("outcome") or "")


def test_an_answer_without_xml_keeps_the_pdf_and_an_html_page_is_not_taken_for_xml(
    pac: Service, alanube: Alanube
) -> None:
    acme = configure(pac)
    bare, html = invoice(pac, acme, "doc-bare"), invoice(pac, acme, "doc-html")
    alanube.authorise("doc-bare")
    alanube.documents["doc-bare"]["xml"] = None
    alanube.authorise("doc-html")
    alanube.documents["doc-html"]["xml"] = f"{alanube.server.url}/login.html"
    alanube.server.route("GET", r"/login\.html", lambda request: Reply(200, b"<!DOCTYPE html><html>Iniciar sesi\xc3\xb3n</html>", {}))
    notify(pac, {"id": "doc-bare", "legalStatus": "PAC_AUTHORIZED"})
    notify(pac, {"id": "doc-html", "legalStatus": "PAC_AUTHORIZED"})
    run_jobs(pac)

    outcome = {row["provider_event_id"].split(":")[1]: row for row in events(pac)}
    assert outcome["doc-bare"]["status"] == "PROCESSED"
    assert [f["mime"] for f in kept_files(pac, bare, "application/pdf")] == ["application/pdf"]
    assert kept_files(pac, bare, "application/xml") == []
    assert outcome["doc-html"]["status"] in ("FAILED", "DEAD")
    assert "what the PAC's XML link gave is not XML" in outcome["doc-html"]["last_error"]
    assert kept_files(pac, html, "application/xml") == [] and kept_files(pac, html, "text/html") == []
    assert invoice_row(pac, html)["legal_status"] == "PAC_AUTHORIZED"  # the status is kept all the same
