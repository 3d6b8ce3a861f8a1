"""One contract for the intake, banking and purchases stores: the fake unit of work and the
SQLAlchemy one (SQLite, PostgreSQL) must agree, so the unit tests on the fakes mean what they say."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from adapters.db.uow import SqlAlchemyUnitOfWork
from application.banking.views import TransactionFilter
from application.shared.cursors import Cursor
from application.shared.ports import DuplicateEntry
from domain.banking.profiles import parse_profile
from domain.banking.statements import BankAccount, BankStatement, BankTransaction
from domain.files.model import File, FileStatus
from domain.intake.model import (
    DocumentIntake,
    IntakeOutcome,
    IntakeStatus,
    RecordRef,
    RowProblem,
    ending,
    finished,
)
from domain.purchases.invoices import InvoiceLine, InvoiceSource, InvoiceStatus, Supplier, SupplierInvoice
from domain.shared.model import new_id
from domain.tenancy.model import Tenant
from tests.fakes.clock import FakeClock
from tests.fakes.uow import FakeStore, fake_uow_factory
from tests.intake_documents import CSV_PROFILE

T0 = datetime(2026, 12, 1, 10, 0, 0, 123456, tzinfo=UTC)
REFUSED = (DuplicateEntry, IntegrityError)
"""A unique key refused: on commit by the fakes, on the INSERT itself by the Core statements."""


@dataclass
class Backend:
    uow: Callable[[str | None], Any]

    def tenant(self, slug: str) -> str:
        with self.uow(None) as uow:
            tenant = Tenant.create(slug=slug, name=slug.title(), now=T0)
            uow.tenants.add(tenant)
            uow.commit()
        return tenant.id

    def file(self, tenant_id: str) -> str:
        file = File(id=new_id(), tenant_id=tenant_id, name="f.xml", sha256=new_id().replace("-", "") * 2,
                    mime="application/xml", size=10, status=FileStatus.READY, created_by="u", created_at=T0,
                    expires_at=None)
        with self.uow(tenant_id) as uow:
            uow.files.add(file)
            uow.commit()
        return file.id


def intake(tenant_id: str, file_id: str, at: datetime = T0) -> DocumentIntake:
    return DocumentIntake(id=new_id(), tenant_id=tenant_id, file_id=file_id, kind=None, created_at=at, updated_at=at)


class StoreContract:
    @pytest.fixture
    def backend(self) -> Backend:
        raise NotImplementedError

    def test_an_intake_reads_back_whole_and_only_for_its_tenant(self, backend: Backend) -> None:
        acme, globex = backend.tenant("acme"), backend.tenant("globex")
        file_id = backend.file(acme)
        first = intake(acme, file_id)
        with backend.uow(acme) as uow:
            uow.document_intakes.add(first)
            uow.commit()
        outcome = IntakeOutcome(status=IntakeStatus.NEEDS_REVIEW, strategy="csv", reasons=("ñ reason",),
                                problems=(RowProblem(3, "bad"),), records=(RecordRef("BANK_STATEMENT", new_id()),))
        done = finished(first, outcome, now=T0 + timedelta(seconds=1))
        with backend.uow(acme) as uow:
            assert uow.document_intakes.finish(first.id, 1, ending(outcome, now=T0)) is False  # not its run
            assert uow.document_intakes.finish(first.id, 0, ending(outcome, now=T0 + timedelta(seconds=1))) is True
            uow.commit()
        with backend.uow(acme) as uow:
            assert uow.document_intakes.finish(first.id, 0, ending(outcome, now=T0)) is False  # ended already
            uow.commit()
        second = intake(acme, file_id, T0 + timedelta(seconds=2))
        other = intake(acme, backend.file(acme))
        with backend.uow(acme) as uow:
            uow.document_intakes.add(second)
            uow.document_intakes.add(other)
            uow.commit()
        with backend.uow(acme) as uow:
            assert uow.document_intakes.get(first.id) == done
            assert uow.document_intakes.get_with_earlier(second.id) == (second, done)
            assert uow.document_intakes.get_with_earlier(first.id) == (done, None)
            assert uow.document_intakes.get_with_earlier(other.id) == (other, None)
            assert uow.document_intakes.get_with_earlier(new_id()) == (None, None)
        with backend.uow(globex) as uow:
            assert uow.document_intakes.get(first.id) is None
            assert uow.document_intakes.get_with_earlier(second.id) == (None, None)
            assert uow.document_intakes.finish(second.id, 0, ending(outcome, now=T0)) is False
            uow.commit()
            assert uow.document_intake_views.find(status=None, first=10, after=None) == []

    def test_an_intake_without_records_is_no_earlier_import(self, backend: Backend) -> None:
        acme = backend.tenant("acme")
        file_id = backend.file(acme)
        first, second = intake(acme, file_id), intake(acme, file_id, T0 + timedelta(seconds=1))
        account_only = IntakeOutcome(status=IntakeStatus.NEEDS_REVIEW, reasons=("r",),
                                     records=(RecordRef("BANK_ACCOUNT", new_id()),))
        with backend.uow(acme) as uow:
            uow.document_intakes.add(first)
            uow.document_intakes.add(second)
            uow.commit()
        with backend.uow(acme) as uow:
            assert uow.document_intakes.finish(first.id, 0, ending(account_only, now=T0)) is True
            uow.commit()
        with backend.uow(acme) as uow:
            assert uow.document_intakes.get_with_earlier(second.id) == (second, None)

    def test_intakes_page_newest_first_by_status(self, backend: Backend) -> None:
        acme = backend.tenant("acme")
        file_id = backend.file(acme)
        made = [intake(acme, file_id, T0 + timedelta(seconds=n)) for n in range(3)]
        with backend.uow(acme) as uow:
            for item in made:
                uow.document_intakes.add(item)
            uow.commit()
        with backend.uow(acme) as uow:
            views = uow.document_intake_views.find(status=IntakeStatus.PENDING, first=2, after=None)
            assert [v.id for v in views] == [made[2].id, made[1].id]
            from application.intake.views import DocumentIntakeCursor

            rest = uow.document_intake_views.find(status=None, first=5, after=DocumentIntakeCursor.of(views[-1]))
            assert [v.id for v in rest] == [made[0].id]
            assert uow.document_intake_views.find(status=IntakeStatus.PARSED, first=5, after=None) == []

    def test_banking_keys_statements_and_profiles(self, backend: Backend) -> None:
        acme, globex = backend.tenant("acme"), backend.tenant("globex")
        account = BankAccount(id=new_id(), tenant_id=acme, bank="B", number_masked="****1234", key="k" * 64,
                              currency="USD", created_at=T0)
        statement = BankStatement(id=new_id(), tenant_id=acme, account_id=account.id, file_id=new_id(),
                                  intake_id=new_id(), format="csv", period_start=date(2026, 11, 1),
                                  period_end=date(2026, 11, 30), opening_balance=Decimal("1.00"),
                                  closing_balance=None, transactions_added=2, transactions_known=0, created_at=T0)
        lines = [
            BankTransaction(id=new_id(), tenant_id=acme, account_id=account.id, statement_id=statement.id,
                            dedupe_key=f"h:{n}", booked_on=date(2026, 11, n + 1), value_on=None,
                            amount=Decimal("-12.34"), description=f"Pago 100% tienda_{n}", reference=None,
                            counterparty=None, bank_id=None, created_at=T0)
            for n in range(2)
        ]
        profile = parse_profile(**CSV_PROFILE)
        with backend.uow(acme) as uow:
            uow.banking.add_account(account)
            uow.banking.add_statement(statement, lines)
            first_id = uow.banking.save_profile(new_id(), profile, T0)
            uow.commit()
        with backend.uow(acme) as uow:
            assert uow.banking.account_by_key("k" * 64, "USD") == account
            assert uow.banking.account_by_key("k" * 64, "PAB") is None
            assert uow.banking.statement_of_intake(statement.intake_id) == statement
            assert uow.banking.known_keys(account.id, ["h:0", "h:9"]) == {"h:0"}
            assert uow.banking.save_profile(new_id(), replace(profile, bank="Otro"), T0) == first_id
            uow.commit()
        with backend.uow(acme) as uow:
            assert [p.bank for _, p in uow.banking.profiles()] == ["Otro"]
            found = uow.banking_views.transactions(TransactionFilter(account_id=account.id, search="100%"), first=1,
                                                   after=None)
            assert [t.booked_on for t in found] == [date(2026, 11, 2)]
            after = Cursor(found[0].booked_on.isoformat(), found[0].id)
            assert [t.booked_on for t in uow.banking_views.transactions(
                TransactionFilter(account_id=account.id, search="_"), first=5, after=after)] == [date(2026, 11, 1)]
            assert uow.banking_views.transactions(TransactionFilter(account_id=account.id, search="tienda%"), first=5,
                                                  after=None) == []
        with backend.uow(globex) as uow:
            assert uow.banking.account_by_key("k" * 64, "USD") is None
            assert uow.banking_views.accounts() == [] and uow.banking.profiles() == []
        with pytest.raises(REFUSED), backend.uow(acme) as uow:  # the same dedupe key in the account
            uow.banking.add_statement(replace(statement, id=new_id(), intake_id=new_id()), [replace(lines[0], id=new_id())])
            uow.commit()
        with backend.uow(acme) as uow:
            assert uow.banking_views.statements(None, first=5, after=None)[0].id == statement.id
            assert len(uow.banking_views.statements(None, first=5, after=None)) == 1

    def test_purchases_cufe_and_ruc(self, backend: Backend) -> None:
        acme, globex = backend.tenant("acme"), backend.tenant("globex")
        supplier = Supplier(id=new_id(), tenant_id=acme, name="S", ruc="1-2-3", dv="4", created_at=T0)
        line = InvoiceLine(description="x", quantity=Decimal("1.5"), unit_price=Decimal("2.123456"),
                           amount=Decimal("3.18"), itbms_rate=Decimal(7), itbms=Decimal("0.22"))
        invoice = SupplierInvoice(
            id=new_id(), tenant_id=acme, supplier_id=supplier.id, intake_id=new_id(), file_id=new_id(),
            source=InvoiceSource.XML, document_type="INVOICE", number="1", cufe="FE" + "1" * 64,
            issue_date=date(2026, 11, 1), currency="USD", lines=(line,), subtotal=Decimal("3.18"),
            itbms_total=Decimal("0.22"), total=Decimal("3.40"), itbms_by_rate={"7": Decimal("0.22")},
            status=InvoiceStatus.DRAFT, checked=("totals",), problems=("p",), supplier_name="S",
            supplier_ruc="1-2-3", supplier_dv="4", created_at=T0, updated_at=T0,
        )
        with backend.uow(acme) as uow:
            uow.purchases.add_supplier(supplier)
            uow.purchases.add_invoice(invoice)
            uow.commit()
        with backend.uow(acme) as uow:
            assert uow.purchases.earlier_invoices(invoice.intake_id, invoice.cufe) == (invoice, invoice)
            assert uow.purchases.earlier_invoices(new_id(), invoice.cufe) == (None, invoice)
            assert uow.purchases.earlier_invoices(invoice.intake_id, None) == (invoice, None)
            assert uow.purchases.earlier_invoices(invoice.intake_id, "FE" + "2" * 64) == (invoice, None)
            assert uow.purchases.earlier_invoices(new_id(), None) == (None, None)
            assert uow.purchases.supplier_by_ruc("1-2-3") == supplier
            assert uow.purchases.add_supplier(replace(supplier, id=new_id(), name="Other")) == supplier  # its RUC's
            confirmed = replace(invoice, status=InvoiceStatus.CONFIRMED, confirmed_at=T0, confirmed_by="u")
            uow.purchases.save_invoice(confirmed)
            uow.commit()
        with backend.uow(acme) as uow:
            assert uow.purchase_views.invoice(invoice.id).status is InvoiceStatus.CONFIRMED
            assert [v.id for v in uow.purchase_views.invoices(status=InvoiceStatus.DRAFT, first=5, after=None)] == []
        with backend.uow(globex) as uow:
            assert uow.purchases.earlier_invoices(invoice.intake_id, invoice.cufe) == (None, None)
            assert uow.purchase_views.suppliers(first=5, after=None) == []
        with pytest.raises(REFUSED), backend.uow(acme) as uow:  # the same CUFE in the tenant
            uow.purchases.add_invoice(replace(invoice, id=new_id(), intake_id=new_id()))
            uow.commit()
        with backend.uow(acme) as uow:
            assert len(uow.purchase_views.invoices(status=None, first=5, after=None)) == 1


class TestFakeStores(StoreContract):
    @pytest.fixture
    def backend(self) -> Backend:
        return Backend(fake_uow_factory(FakeStore(), FakeClock(T0)))


class TestSqlAlchemyStores(StoreContract):
    @pytest.fixture
    def backend(self, engine: Engine) -> Backend:
        clock = FakeClock(T0)
        sessions = sessionmaker(bind=engine, expire_on_commit=False)
        return Backend(lambda tenant_id: SqlAlchemyUnitOfWork(tenant_id, session_factory=sessions, clock=clock))
