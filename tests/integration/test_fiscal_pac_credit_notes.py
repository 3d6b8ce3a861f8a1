"""Issue 18: the PAC's notices are matched to credit notes as to invoices (POST /webhooks/pac/...,
through the inbox, with Alanube played by the local provider server), on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from adapters.db.invoicing.tables import credit_notes
from application.invoicing.credit_notes import CreateCreditNote
from tests.conftest import Service
from tests.integration.test_webhooks_pac import (  # noqa: F401 - fixtures
    Alanube,
    alanube,
    configure,
    invoice,
    invoice_row,
    notify,
    pac,
)
from tests.integration.webhooks_helpers import events, run_jobs
from tests.providers.server import provider_server  # noqa: F401 - fixture


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

    notify(pac, {"id": "nc-1", "legalStatus": "DGI_REJECTED", "message": "CUFE de referencia inválido"})
    run_jobs(pac)
    row = note_row(pac, note.id)
    assert (row["legal_status"], row["legal_message"]) == ("DGI_REJECTED", "CUFE de referencia inválido")
    notify(pac, {"id": "nc-1", "legalStatus": "DGI_AUTHORIZED"})  # a terminal state is never left
    run_jobs(pac)
    assert note_row(pac, note.id)["legal_status"] == "DGI_REJECTED"


def test_a_notice_for_nobodys_document_is_unmatched(pac: Service, alanube: Alanube) -> None:
    configure(pac)
    notify(pac, {"id": "nc-404", "legalStatus": "PAC_AUTHORIZED"})
    run_jobs(pac)
    [event] = events(pac)
    assert event["status"] == "UNMATCHED"
    assert "no invoice or credit note" in (event["last_error"] or event.get("outcome") or "")
