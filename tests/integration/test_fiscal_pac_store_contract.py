"""What the PAC's poller and sync read of credit notes, one contract for the fake and SQLAlchemy
(SQLite and PostgreSQL): the credit notes still waiting on the PAC at a cutoff (exactly at it
included, a microsecond after it not), oldest first, at most ``limit``, the tenant's own; and the
credit note a PAC document id names, locked or not."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from adapters.db.uow import SqlAlchemyUnitOfWork
from domain.invoicing.credit_notes import CreditNote
from domain.invoicing.fiscal_documents import LegalStatus
from tests.fakes.clock import FakeClock
from tests.fakes.uow import FakeStore, fake_uow_factory
from tests.integration.test_invoicing_store_contract import DAY, T0, Backend, new_invoice

CUTOFF = T0 + timedelta(hours=1)
TICK = timedelta(microseconds=1)


def credit(backend: Backend, tenant_id: str, invoice_number: str, *, document_id: str | None, at: datetime) -> str:
    """A full credit note of a new invoice, created ``at``, known to the PAC as ``document_id``."""
    invoice = new_invoice(tenant_id, invoice_number)
    backend.keep(tenant_id, invoice)
    with backend.uow(tenant_id) as uow:
        locked = uow.invoices.get_for_update(invoice.id)
        note = CreditNote.issue(
            invoice=locked, number=f"NC-{invoice_number}", reason="Anulación", lines=None, full=True,
            issue_date=DAY, pac_document_id=document_id, created_by=None, now=at,
        )
        uow.credit_notes.add(note)
        uow.commit()
    return note.id


class PacCreditNoteContract:
    @pytest.fixture
    def backend(self) -> Backend:
        raise NotImplementedError

    def test_waiting_credit_notes_are_those_at_or_before_the_cutoff_oldest_first(self, backend: Backend) -> None:
        acme, globex = backend.tenant("acme"), backend.tenant("globex")
        at_cutoff = credit(backend, acme, "1", document_id="nc-at", at=CUTOFF)
        oldest = credit(backend, acme, "2", document_id="nc-old", at=T0)
        credit(backend, acme, "3", document_id="nc-late", at=CUTOFF + TICK)  # not waiting long enough
        credit(backend, acme, "4", document_id=None, at=T0)  # never sent to the PAC
        done = credit(backend, acme, "5", document_id="nc-done", at=T0)
        authorised = credit(backend, acme, "6", document_id="nc-auth", at=T0)
        credit(backend, globex, "7", document_id="nc-globex", at=T0)  # another tenant's
        with backend.uow(acme) as uow:
            for note_id, status in ((done, LegalStatus.DGI_AUTHORIZED), (authorised, LegalStatus.PAC_AUTHORIZED)):
                note = uow.credit_notes.get(note_id)
                assert note is not None
                note.apply_legal_status(status, authorized_at=CUTOFF + TICK if note_id == authorised else None)
            uow.commit()

        with backend.uow(acme) as uow:
            waiting = uow.credit_notes.awaiting_pac(cutoff=CUTOFF, limit=10)
            assert waiting == [(oldest, "nc-old"), (at_cutoff, "nc-at")]  # PAC-authorised after the cutoff: not yet
            assert uow.credit_notes.awaiting_pac(cutoff=CUTOFF, limit=1) == [(oldest, "nc-old")]
            assert (authorised, "nc-auth") in uow.credit_notes.awaiting_pac(cutoff=CUTOFF + TICK, limit=10)

    def test_a_pac_document_id_finds_the_tenants_credit_note_locked_or_not(self, backend: Backend) -> None:
        acme, globex = backend.tenant("acme"), backend.tenant("globex")
        note_id = credit(backend, acme, "1", document_id="nc-1", at=T0)
        with backend.uow(acme) as uow:
            for locked in (False, True):
                found = uow.credit_notes.by_pac_document_id("nc-1", for_update=locked)
                assert found is not None and found.id == note_id
            assert uow.credit_notes.by_pac_document_id("nc-2", for_update=True) is None
        with backend.uow(globex) as uow:
            assert uow.credit_notes.by_pac_document_id("nc-1", for_update=True) is None


class TestFakePacCreditNotes(PacCreditNoteContract):
    @pytest.fixture
    def backend(self) -> Backend:
        clock = FakeClock(T0)
        return Backend("fake", clock, fake_uow_factory(FakeStore(), clock))


class TestSqlAlchemyPacCreditNotes(PacCreditNoteContract):
    @pytest.fixture
    def backend(self, engine: Engine) -> Iterator[Backend]:
        clock = FakeClock(T0)
        sessions = sessionmaker(bind=engine, expire_on_commit=False)
        yield Backend(
            engine.dialect.name, clock,
            lambda tenant_id: SqlAlchemyUnitOfWork(tenant_id, session_factory=sessions, clock=clock),
        )
