"""One contract for the invoicing repositories and readers of the unit of work.

It runs against the in-memory fakes (``tests/fakes/invoicing.py``) and against the SQLAlchemy adapters
on SQLite and PostgreSQL, so the fakes the unit tests rely on cannot drift from the real thing.
Views are compared by ``repr``: a Decimal that comes back as ``107.0`` instead of ``107.00``, or a
plain string instead of an enum, is a difference.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import sessionmaker

from adapters.db.uow import SqlAlchemyUnitOfWork
from application.invoicing.handlers import client_view, invoice_view, quote_view
from application.invoicing.views import (
    ClientCursor,
    InvoiceCursor,
    InvoiceFilter,
    InvoiceSort,
    InvoiceSortField,
    InvoiceSummaryView,
    QuoteCursor,
    QuoteFilter,
    SortDirection,
)
from application.shared.ports import DuplicateEntry, UnitOfWork
from domain.invoicing.credit_notes import CreditNote
from domain.invoicing.clients import BillTo, Client, ClientCreated, ClientDetails, ContactInput
from domain.invoicing.invoices import (
    Invoice,
    InvoiceCreated,
    InvoicePaymentRegistered,
    InvoiceStatus,
    LegalStatus,
)
from domain.invoicing.lines import LineInput
from domain.invoicing.quotes import Quote, QuoteStatus
from domain.invoicing.values import Currency
from domain.tenancy.model import Tenant
from tests.fakes.clock import FakeClock
from tests.fakes.uow import FakeStore, fake_uow_factory

T0 = datetime(2026, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)
DAY = date(2026, 3, 4)


def D(text: str) -> Decimal:  # noqa: N802
    return Decimal(text)


@dataclass
class Backend:
    name: str
    clock: FakeClock
    uow: Callable[[str | None], UnitOfWork]

    def tenant(self, slug: str) -> str:
        with self.uow(None) as uow:
            tenant = Tenant.create(slug=slug, name=slug.title(), now=T0)
            uow.tenants.add(tenant)
            uow.commit()
        return tenant.id

    def keep(self, tenant_id: str, *aggregates: Any) -> list[Any]:
        with self.uow(tenant_id) as uow:
            for aggregate in aggregates:
                if isinstance(aggregate, Client):
                    uow.clients.add(aggregate)
                elif isinstance(aggregate, Invoice):
                    uow.invoices.add(aggregate)
                else:
                    uow.quotes.add(aggregate)
            uow.commit()
        return list(aggregates)


def new_client(tenant_id: str, name: str = "Distribuidora, S.A.", *, ruc: str | None = "155596713-2-2015",
               at: datetime = T0, contacts: tuple[ContactInput, ...] = ()) -> Client:
    details = ClientDetails.parse(
        name=name, ruc=ruc, dv="59" if ruc else None,
        taxpayer_type="JURIDICO" if ruc else "CONSUMIDOR_FINAL", address="Calle 50",
    )
    return Client.create(tenant_id=tenant_id, details=details, contacts=contacts, now=at)


def new_invoice(
    tenant_id: str,
    number: str,
    *,
    client: Client | None = None,
    issued: date = DAY,
    due: date | None = None,
    prices: tuple[str, ...] = ("100",),
    currency: Currency = Currency.USD,
    emails: tuple[str, ...] = (),
) -> Invoice:
    return Invoice.create(
        tenant_id=tenant_id,
        number=number,
        bill_to=BillTo.of_client(client) if client else BillTo.ad_hoc(name="Ad hoc", emails=emails),
        issue_date=issued,
        due_date=due or issued,
        currency=currency,
        lines=[LineInput(description=f"line {i}", quantity="1", unit_price=p, tax_rate=7) for i, p in enumerate(prices)],
        created_by="ana@acme.pa",
        now=T0,
    )


def new_quote(tenant_id: str, number: str, *, client: Client | None = None, issued: date = DAY) -> Quote:
    return Quote.create(
        tenant_id=tenant_id,
        number=number,
        bill_to=BillTo.of_client(client) if client else BillTo.ad_hoc(name="Ad hoc"),
        issue_date=issued,
        valid_until=issued + timedelta(days=15),
        currency=Currency.PAB,
        lines=[LineInput(description="Diseño", quantity="2.5", unit_price="40.0001", tax_rate=10, discount="0.01")],
        created_by=None,
        now=T0,
    )


def ids(views: Any) -> list[str]:
    return [view.id for view in views]


class InvoicingStoreContract:
    @pytest.fixture
    def backend(self) -> Backend:
        raise NotImplementedError

    @pytest.fixture
    def acme(self, backend: Backend) -> str:
        return backend.tenant("acme")

    @pytest.fixture
    def globex(self, backend: Backend) -> str:
        return backend.tenant("globex")

    # --- clients --------------------------------------------------------------------------------

    def test_a_committed_client_reads_back_exactly(self, backend: Backend, acme: str) -> None:
        client = new_client(
            acme,
            contacts=(
                ContactInput(name="Ana", email="ana@x.pa", phone="+507 6000-0000", role="Pagos"),
                ContactInput(name="Luis"),
                ContactInput(name="Marta", email="marta@x.pa"),
            ),
        )
        backend.keep(acme, client)
        with backend.uow(acme) as uow:
            assert repr(uow.client_views.get(client.id)) == repr(client_view(client))
            loaded = uow.clients.get(client.id)
            assert [c.name for c in loaded.contacts] == ["Ana", "Luis", "Marta"]
            assert loaded.created_at == T0

    def test_updating_a_client_replaces_its_contacts(self, backend: Backend, acme: str) -> None:
        client = backend.keep(acme, new_client(acme, contacts=(ContactInput(name="Ana"), ContactInput(name="Luis"))))[0]
        details = ClientDetails.parse(name="Nuevo", ruc=None, dv=None, taxpayer_type="CONSUMIDOR_FINAL", address=None)
        with backend.uow(acme) as uow:
            uow.clients.get(client.id).update(
                details=details, contacts=[ContactInput(name="Marta"), ContactInput(name="Ana")], now=T0 + timedelta(hours=1)
            )
            uow.commit()
        with backend.uow(acme) as uow:
            view = uow.client_views.get(client.id)
            assert (view.name, view.ruc, view.dv, view.address) == ("Nuevo", None, None, None)
            assert [c.name for c in view.contacts] == ["Marta", "Ana"]
            assert view.updated_at == T0 + timedelta(hours=1)
            uow.clients.get(client.id).update(details=details, contacts=[], now=T0)
            uow.commit()
        with backend.uow(acme) as uow:
            assert uow.client_views.get(client.id).contacts == ()

    def test_clients_are_the_tenants_own(self, backend: Backend, acme: str, globex: str) -> None:
        mine = backend.keep(acme, new_client(acme, "Mío"))[0]
        theirs = backend.keep(globex, new_client(globex, "Suyo"))[0]
        with backend.uow(acme) as uow:
            assert uow.clients.get(theirs.id) is None
            assert uow.client_views.get(theirs.id) is None
            assert ids(uow.client_views.get_many([theirs.id, mine.id, str(uuid.uuid4())])) == [mine.id]
            assert uow.client_views.get_many([]) == []
            assert ids(uow.client_views.find(None, first=10, after=None)) == [mine.id]
            with pytest.raises(PermissionError):
                uow.clients.add(new_client(globex))

    @pytest.mark.parametrize(
        ("search", "expected"),
        [
            ("año", ["AÑO NUEVO"]),
            ("FERRE", ["Ferretería 100%"]),
            ("100%", ["Ferretería 100%"]),
            ("%", ["Ferretería 100%"]),
            ("_", ["a_b"]),
            ("pe-9", ["a_b"]),
            ("8-NT", ["AÑO NUEVO"]),
            ("zzz", []),
        ],
    )
    def test_find_clients_searches_name_and_ruc_case_insensitively_and_literally(
        self, backend: Backend, acme: str, globex: str, search: str, expected: list[str]
    ) -> None:
        backend.keep(
            acme,
            new_client(acme, "AÑO NUEVO", ruc="8-NT-1-2", at=T0 + timedelta(seconds=3)),
            new_client(acme, "Ferretería 100%", ruc="1000", at=T0 + timedelta(seconds=2)),
            new_client(acme, "a_b", ruc="PE-9-1", at=T0 + timedelta(seconds=1)),
            new_client(acme, "axb", ruc=None, at=T0),
        )
        backend.keep(globex, new_client(globex, "año de otro"))
        with backend.uow(acme) as uow:
            assert [c.name for c in uow.client_views.find(search, first=10, after=None)] == expected

    def test_find_clients_pages_newest_first_breaking_ties_by_id(self, backend: Backend, acme: str) -> None:
        clients = [new_client(acme, f"c{i}", at=T0 + timedelta(seconds=i // 2)) for i in range(7)]
        backend.keep(acme, *clients)
        expected = [c.id for c in sorted(clients, key=lambda c: (c.created_at, c.id), reverse=True)]
        pages, after = [], None
        with backend.uow(acme) as uow:
            while page := uow.client_views.find(None, first=3, after=after):
                pages.append(ids(page))
                after = ClientCursor.of(page[-1])
        assert [i for page in pages for i in page] == expected
        assert [len(page) for page in pages] == [3, 3, 1]

    # --- invoices: writing ----------------------------------------------------------------------

    def test_a_committed_invoice_reads_back_exactly(self, backend: Backend, acme: str) -> None:
        client = backend.keep(acme, new_client(acme))[0]
        invoice = Invoice.create(
            tenant_id=acme,
            number="F-000001",
            bill_to=BillTo.of_client(client),
            issue_date=DAY,
            due_date=DAY + timedelta(days=30),
            currency=Currency.PAB,
            lines=[
                LineInput(description="máximo", quantity="999.9", unit_price="9999999999.9999", tax_rate=0),
                LineInput(description="mínimo\nsegunda línea", quantity="0.0001", unit_price="0.0001", tax_rate=15),
                LineInput(description="descuento", quantity="3", unit_price="33.3333", discount="0.01", tax_rate=7),
            ],
            pac_document_id="alanube-1",
            created_by="ana@acme.pa",
            now=T0,
        )
        invoice.register_payment(amount="9999000000000.00", paid_on=DAY, method="ACH", reference="ACH-1", now=T0)
        invoice.register_payment(amount="0.01", paid_on=DAY + timedelta(days=1), method="CASH", now=T0)
        invoice.apply_legal_status(LegalStatus.DGI_AUTHORIZED, cufe="FE01", qr_url="https://dgi/qr", authorized_at=T0)
        backend.keep(acme, invoice)
        today = DAY + timedelta(days=2)
        with backend.uow(acme) as uow:
            view = uow.invoice_views.get(invoice.id, today=today)
            assert repr(view) == repr(invoice_view(invoice, today))
            assert format(view.total, "f") == "9999000000106.89"
            assert format(view.balance, "f") == "106.88"
            assert [format(line.quantity, "f") for line in view.lines] == ["999.9000", "0.0001", "3.0000"]
            assert [format(line.unit_price, "f") for line in view.lines] == ["9999999999.9999", "0.0001", "33.3333"]
            loaded = uow.invoices.get(invoice.id)
            assert (loaded.total, loaded.paid, loaded.ad_hoc_emails) == (invoice.total, invoice.paid, ())
            assert [p.reference for p in loaded.payments] == ["ACH-1", None]

    def test_ad_hoc_emails_read_back_as_a_tuple(self, backend: Backend, acme: str) -> None:
        invoice = new_invoice(acme, "A-1", emails=("uno@x.pa", "dos@y.com.pa"))
        backend.keep(acme, invoice)
        with backend.uow(acme) as uow:
            assert uow.invoices.get(invoice.id).ad_hoc_emails == ("uno@x.pa", "dos@y.com.pa")
            assert uow.invoice_views.get(invoice.id, today=DAY).ad_hoc_emails == ("uno@x.pa", "dos@y.com.pa")

    def test_payments_and_void_are_saved_with_the_invoice(self, backend: Backend, acme: str) -> None:
        paid, voided = backend.keep(acme, new_invoice(acme, "F-1"), new_invoice(acme, "F-2"))
        with backend.uow(acme) as uow:
            uow.invoices.get_for_update(paid.id).register_payment(amount="7", paid_on=DAY, method="CASH", now=T0)
            uow.invoices.get_for_update(voided.id).void(now=T0)
            uow.commit()
        with backend.uow(acme) as uow:
            assert (uow.invoices.get(paid.id).paid, uow.invoices.get(paid.id).balance) == (D("7.00"), D("100.00"))
            assert uow.invoices.get(voided.id).voided_at == T0

    def test_a_removed_payment_is_gone_and_owed_again_and_views_read_many_at_once(
        self, backend: Backend, acme: str, globex: str
    ) -> None:
        paid, other = backend.keep(acme, new_invoice(acme, "F-1"), new_invoice(acme, "F-2"))
        [theirs] = backend.keep(globex, new_invoice(globex, "F-1"))
        with backend.uow(acme) as uow:
            payment = uow.invoices.get_for_update(paid.id).register_payment(amount="7", paid_on=DAY, method="CASH", now=T0)
            uow.commit()
        with backend.uow(acme) as uow:
            uow.invoices.get_for_update(paid.id).remove_payment(payment.id)
            uow.commit()
        with backend.uow(acme) as uow:
            assert (uow.invoices.get(paid.id).paid, uow.invoices.get(paid.id).balance) == (D("0.00"), D("107.00"))
            views = uow.invoice_views.get_many([paid.id, other.id, theirs.id], today=DAY)
            assert sorted(v.id for v in views) == sorted([paid.id, other.id]) and all(not v.payments for v in views)
            assert uow.invoice_views.get_many([], today=DAY) == []

    def test_get_for_update_reads_what_another_unit_of_work_committed_meanwhile(
        self, backend: Backend, acme: str
    ) -> None:
        invoice = backend.keep(acme, new_invoice(acme, "F-1"))[0]
        first = backend.uow(acme)
        with first:
            assert first.invoices.get(invoice.id).balance == D("107.00")
            with backend.uow(acme) as second:
                second.invoices.get_for_update(invoice.id).register_payment(
                    amount="100", paid_on=DAY, method="CASH", now=T0
                )
                second.commit()
            again = first.invoices.get_for_update(invoice.id)
            assert (again.paid, again.balance, len(again.payments)) == (D("100.00"), D("7.00"), 1)

    def test_leaving_the_block_without_commit_discards_the_work(self, backend: Backend, acme: str) -> None:
        kept = backend.keep(acme, new_invoice(acme, "F-1"))[0]
        with backend.uow(acme) as uow:
            uow.invoices.add(new_invoice(acme, "F-2"))
            uow.clients.add(new_client(acme))
            uow.invoices.get_for_update(kept.id).register_payment(amount="1", paid_on=DAY, method="CASH", now=T0)
            assert uow.invoices.next_sequence() == 1
        with backend.uow(acme) as uow:
            assert ids(uow.invoice_views.find(InvoiceFilter(), InvoiceSort(), today=DAY, first=10, after=None)) == [kept.id]
            assert uow.client_views.find(None, first=10, after=None) == []
            assert uow.invoices.get(kept.id).payments == []
            assert uow.invoices.next_sequence() == 1, "an uncommitted number is given again"

    def test_numbers_are_unique_per_tenant(self, backend: Backend, acme: str, globex: str) -> None:
        backend.keep(acme, new_invoice(acme, "F-000001"), new_quote(acme, "F-000001"))
        backend.keep(globex, new_invoice(globex, "F-000001"))
        with backend.uow(acme) as uow:
            assert uow.invoices.number_taken("F-000001") is True
            assert uow.invoices.number_taken("F-000002") is False
            assert uow.quotes.number_taken("F-000001") is True
        with pytest.raises(DuplicateEntry):
            backend.keep(acme, new_invoice(acme, "F-000001"))
        with pytest.raises(DuplicateEntry):
            backend.keep(acme, new_quote(acme, "F-000001"))
        with backend.uow(acme) as uow:
            assert len(uow.invoice_views.find(InvoiceFilter(), InvoiceSort(), today=DAY, first=10, after=None)) == 1

    def test_counters_count_per_tenant_and_series_from_one(self, backend: Backend, acme: str, globex: str) -> None:
        with backend.uow(acme) as uow:
            assert [uow.invoices.next_sequence() for _ in range(3)] == [1, 2, 3]
            assert uow.quotes.next_sequence() == 1
            uow.commit()
        with backend.uow(acme) as uow:
            assert uow.invoices.next_sequence() == 4
            uow.commit()
        with backend.uow(globex) as uow:
            assert uow.invoices.next_sequence() == 1
            uow.commit()
        with backend.uow(acme) as uow:
            assert (uow.invoices.next_sequence(), uow.quotes.next_sequence()) == (5, 2)

    def test_repositories_refuse_another_tenants_documents(self, backend: Backend, acme: str, globex: str) -> None:
        theirs = backend.keep(globex, new_invoice(globex, "F-1"), new_quote(globex, "Q-1"))
        with backend.uow(acme) as uow:
            assert uow.invoices.get(theirs[0].id) is None
            assert uow.invoices.get_for_update(theirs[0].id) is None
            assert uow.quotes.get(theirs[1].id) is None
            assert uow.invoice_views.get(theirs[0].id, today=DAY) is None
            assert uow.quote_views.get(theirs[1].id, today=DAY) is None
            with pytest.raises(PermissionError):
                uow.invoices.add(new_invoice(globex, "F-2"))
            with pytest.raises(PermissionError):
                uow.quotes.add(new_quote(globex, "Q-2"))

    def test_a_unit_of_work_without_tenant_has_no_invoicing(self, backend: Backend, acme: str) -> None:
        with backend.uow(None) as uow:
            for call in (
                lambda: uow.clients.get("x"),
                lambda: uow.client_views.find(None, first=1, after=None),
                lambda: uow.invoices.next_sequence(),
                lambda: uow.invoice_views.get("x", today=DAY),
                lambda: uow.quotes.get("x"),
                lambda: uow.quote_views.find(QuoteFilter(), today=DAY, first=1, after=None),
            ):
                with pytest.raises(PermissionError):
                    call()

    def test_commit_collects_the_events_of_the_aggregates_it_saw(self, backend: Backend, acme: str) -> None:
        uow = backend.uow(acme)
        with uow:
            client = new_client(acme)
            invoice = new_invoice(acme, "F-1", client=client)
            uow.clients.add(client)
            uow.invoices.add(invoice)
            uow.commit()
        assert [type(e) for e in uow.collect_events()] == [ClientCreated, InvoiceCreated]
        with uow:
            payment = uow.invoices.get_for_update(invoice.id).register_payment(
                amount="7", paid_on=DAY, method="CASH", now=T0
            )
            uow.commit()
        assert uow.collect_events() == [
            InvoicePaymentRegistered(
                tenant_id=acme, invoice_id=invoice.id, payment_id=payment.id, amount=D("7.00"), balance=D("100.00")
            )
        ]
        with uow:
            uow.invoices.get_for_update(invoice.id).register_payment(amount="1", paid_on=DAY, method="CASH", now=T0)
        assert uow.collect_events() == []

    # --- invoices: reading ----------------------------------------------------------------------

    def test_status_is_computed_as_of_today_and_filters_in_the_reader(self, backend: Backend, acme: str) -> None:
        due = DAY + timedelta(days=10)
        unpaid, partly, paid, void, zero = (
            new_invoice(acme, "U", due=due),
            new_invoice(acme, "PP", due=due),
            new_invoice(acme, "P", due=due),
            new_invoice(acme, "V", due=due),
            new_invoice(acme, "Z", due=due, prices=("0",)),
        )
        partly.register_payment(amount="1", paid_on=DAY, method="CASH", now=T0)
        paid.register_payment(amount=paid.total, paid_on=DAY, method="CASH", now=T0)
        void.void(now=T0)
        backend.keep(acme, unpaid, partly, paid, void, zero)

        def statuses(today: date) -> dict[str, InvoiceStatus]:
            with backend.uow(acme) as uow:
                views = uow.invoice_views.find(InvoiceFilter(), InvoiceSort(), today=today, first=10, after=None)
                return {view.number: view.status for view in views}

        def having(status: InvoiceStatus, today: date) -> list[str]:
            with backend.uow(acme) as uow:
                views = uow.invoice_views.find(
                    InvoiceFilter(statuses=frozenset({status})),
                    InvoiceSort(field=InvoiceSortField.BALANCE, direction=SortDirection.ASC),
                    today=today,
                    first=10,
                    after=None,
                )
                return sorted(view.number for view in views)

        on_time = {"U": InvoiceStatus.UNPAID, "PP": InvoiceStatus.PARTIALLY_PAID, "P": InvoiceStatus.PAID,
                   "V": InvoiceStatus.VOID, "Z": InvoiceStatus.PAID}
        assert statuses(due) == on_time
        late = {**on_time, "U": InvoiceStatus.PAST_DUE, "PP": InvoiceStatus.PAST_DUE}
        assert statuses(due + timedelta(days=1)) == late
        for status in InvoiceStatus:
            assert having(status, due) == sorted(n for n, s in on_time.items() if s is status), status
            assert having(status, due + timedelta(days=1)) == sorted(n for n, s in late.items() if s is status), status
        with backend.uow(acme) as uow:
            several = uow.invoice_views.find(
                InvoiceFilter(statuses=frozenset({InvoiceStatus.VOID, InvoiceStatus.PAST_DUE})),
                InvoiceSort(), today=due + timedelta(days=1), first=10, after=None,
            )
            assert sorted(v.number for v in several) == ["PP", "U", "V"]

    @pytest.mark.parametrize("field", list(InvoiceSortField))
    @pytest.mark.parametrize("direction", list(SortDirection))
    def test_find_sorts_breaks_ties_by_id_and_pages_with_cursors(
        self, backend: Backend, acme: str, globex: str, field: InvoiceSortField, direction: SortDirection
    ) -> None:
        invoices = [
            new_invoice(acme, f"F-{i}", issued=DAY + timedelta(days=i % 3), due=DAY + timedelta(days=5 - i % 2),
                        prices=(str(10 * (i % 4)),))
            for i in range(9)
        ]
        for index, invoice in enumerate(invoices[1:4]):
            invoice.register_payment(amount=str(index + 1), paid_on=invoice.issue_date, method="CASH", now=T0)
        backend.keep(acme, *invoices)
        backend.keep(globex, new_invoice(globex, "G-1", prices=("5",)))
        sort = InvoiceSort(field=field, direction=direction)

        def key(invoice: Invoice) -> tuple[Any, str]:
            value = {InvoiceSortField.DATE: invoice.issue_date, InvoiceSortField.BALANCE: invoice.balance,
                     InvoiceSortField.DUE_DATE: invoice.due_date}[field]
            return (value, invoice.id)

        expected = [i.id for i in sorted(invoices, key=key, reverse=direction is SortDirection.DESC)]
        pages, after = [], None
        with backend.uow(acme) as uow:
            while page := uow.invoice_views.find(InvoiceFilter(), sort, today=DAY, first=4, after=after):
                pages.append(ids(page))
                after = InvoiceCursor.decode(InvoiceCursor.of(page[-1], sort).encode(), sort)
        assert [i for page in pages for i in page] == expected
        assert [len(page) for page in pages] == [4, 4, 1]
        with backend.uow(acme) as uow:
            every = uow.invoice_views.find(InvoiceFilter(), sort, today=DAY, first=20, after=None)
            summaries = uow.invoice_views.summaries(InvoiceFilter(), sort, today=DAY, first=20, after=None)
            assert summaries == [InvoiceSummaryView.of(view) for view in every]
            after = InvoiceCursor.of(summaries[3], sort)
            rest = uow.invoice_views.summaries(InvoiceFilter(), sort, today=DAY, first=20, after=after)
            assert [v.id for v in rest] == expected[4:]

    def test_find_filters_by_client_and_strictly_by_due_date(self, backend: Backend, acme: str) -> None:
        client = backend.keep(acme, new_client(acme))[0]
        a = new_invoice(acme, "A", client=client, due=DAY + timedelta(days=1))
        b = new_invoice(acme, "B", due=DAY + timedelta(days=2))
        c = new_invoice(acme, "C", client=client, due=DAY + timedelta(days=3))
        backend.keep(acme, a, b, c)

        def found(**filter: Any) -> list[str]:
            with backend.uow(acme) as uow:
                views = uow.invoice_views.find(InvoiceFilter(**filter), InvoiceSort(direction=SortDirection.ASC, field=InvoiceSortField.DATE), today=DAY, first=10, after=None)
                return sorted(v.number for v in views)

        assert found(client_id=client.id) == ["A", "C"]
        assert found(client_id=str(uuid.uuid4())) == []
        assert found(due_before=DAY + timedelta(days=2)) == ["A"]
        assert found(due_after=DAY + timedelta(days=2)) == ["C"]
        assert found(due_after=DAY + timedelta(days=1), due_before=DAY + timedelta(days=3)) == ["B"]
        assert found(client_id=client.id, due_after=DAY + timedelta(days=1)) == ["C"]

    def test_find_filters_by_issue_dates_totals_and_currency_inclusively(self, backend: Backend, acme: str) -> None:
        backend.keep(
            acme,
            new_invoice(acme, "A", issued=DAY - timedelta(days=1), prices=("100",)),  # total 107.00
            new_invoice(acme, "B", issued=DAY, prices=("100.01",)),  # 107.01
            new_invoice(acme, "C", issued=DAY + timedelta(days=1), prices=("99.99",)),  # 106.99
            new_invoice(acme, "P", issued=DAY, prices=("100",), currency=Currency.PAB),
        )

        def found(**filter: Any) -> list[str]:
            with backend.uow(acme) as uow:
                views = uow.invoice_views.find(InvoiceFilter(**filter), InvoiceSort(), today=DAY, first=10, after=None)
                summaries = uow.invoice_views.summaries(InvoiceFilter(**filter), InvoiceSort(), today=DAY, first=10, after=None)
                assert summaries == [InvoiceSummaryView.of(view) for view in views]
                return sorted(v.number for v in views)

        assert found(issued_from=DAY) == ["B", "C", "P"]
        assert found(issued_from=DAY + timedelta(days=1)) == ["C"]
        assert found(issued_to=DAY) == ["A", "B", "P"]
        assert found(issued_from=DAY, issued_to=DAY) == ["B", "P"]
        assert found(min_total=D("107.00")) == ["A", "B", "P"]
        assert found(min_total=D("107.01")) == ["B"]
        assert found(max_total=D("107.00")) == ["A", "C", "P"]
        assert found(max_total=D("106.98")) == []
        assert found(currency=Currency.PAB) == ["P"]
        assert found(currency=Currency.USD, min_total=D("107.00"), max_total=D("107.00")) == ["A"]

    def test_totals_add_up_the_periods_invoices_in_the_currency_without_void_ones(
        self, backend: Backend, acme: str, globex: str
    ) -> None:
        mixed = Invoice.create(
            tenant_id=acme, number="B", bill_to=BillTo.ad_hoc(name="Ad hoc", emails=()), issue_date=DAY, due_date=DAY,
            currency=Currency.USD, created_by="ana@acme.pa", now=T0,
            lines=[LineInput(description="a", quantity="1", unit_price="100", tax_rate=7),
                   LineInput(description="b", quantity="1", unit_price="60.05", tax_rate=10, discount="10")],
        )  # 100 + 7.00, and 50.05 + 5.01 (5.005 rounded half-up): 162.06
        mixed.register_payment(amount="62.06", paid_on=DAY, method="CASH", now=T0)
        void = new_invoice(acme, "V", issued=DAY + timedelta(days=1))
        void.void(now=T0)
        backend.keep(
            acme, mixed, void,
            new_invoice(acme, "A", issued=DAY - timedelta(days=1)),  # the day before: out
            new_invoice(acme, "C", issued=DAY + timedelta(days=2), prices=("200",)),  # the last day: in (214.00)
            new_invoice(acme, "D", issued=DAY + timedelta(days=3)),  # the day after: out
            new_invoice(acme, "P", issued=DAY + timedelta(days=1), currency=Currency.PAB),
        )
        backend.keep(globex, new_invoice(globex, "G", issued=DAY))
        with backend.uow(acme) as uow:
            usd = uow.invoice_views.totals(DAY, DAY + timedelta(days=2), Currency.USD)
            pab = uow.invoice_views.totals(DAY, DAY + timedelta(days=2), Currency.PAB)
            none = uow.invoice_views.totals(DAY + timedelta(days=4), DAY + timedelta(days=9), Currency.USD)
        assert (usd.invoices, usd.total, usd.paid, usd.balance, usd.tax_total) == (2, D("376.06"), D("62.06"), D("314.00"), D("26.01"))
        assert [(t.rate, t.base, t.tax) for t in usd.taxes] == [(7, D("300.00"), D("21.00")), (10, D("50.05"), D("5.01"))]
        assert (pab.invoices, pab.total, pab.currency) == (1, D("107.00"), Currency.PAB)
        assert (none.invoices, none.total, none.paid, none.balance, none.tax_total, none.taxes) == (0, 0, 0, 0, 0, ())

    def test_statement_facts_are_the_clients_invoices_in_the_currency_up_to_a_day(
        self, backend: Backend, acme: str, globex: str
    ) -> None:
        client, other = backend.keep(acme, new_client(acme, "Uno"), new_client(acme, "Dos"))
        early = new_invoice(acme, "E", client=client, issued=DAY - timedelta(days=40))
        early.register_payment(amount="50", paid_on=DAY - timedelta(days=30), method="CHECK", reference="CK-9", now=T0)
        early.register_payment(amount="50", paid_on=DAY + timedelta(days=1), method="CASH", now=T0)
        void = new_invoice(acme, "V", client=client)
        void.void(now=T0)
        backend.keep(
            acme,
            early,
            void,
            new_invoice(acme, "PAB", client=client, currency=Currency.PAB),
            new_invoice(acme, "OTHER", client=other),
            new_invoice(acme, "LATER", client=client, issued=DAY + timedelta(days=1)),
            new_invoice(acme, "ADHOC"),
        )
        with backend.uow(acme) as uow:
            invoices, payments = uow.invoice_views.statement_facts(client.id, Currency.USD, until=DAY)
        assert [(i.number, i.total, i.voided, i.due_date) for i in invoices] == [
            ("E", D("107.00"), False, DAY - timedelta(days=40)),
            ("V", D("107.00"), True, DAY),
        ]
        assert [(p.invoice_id, p.amount, p.method, p.reference, p.paid_on) for p in payments] == [
            (early.id, D("50.00"), "CHECK", "CK-9", DAY - timedelta(days=30))
        ]
        with backend.uow(globex) as uow:
            assert uow.invoice_views.statement_facts(client.id, Currency.USD, until=DAY) == ([], [])

    def test_open_amounts_are_what_each_live_invoice_owed_on_a_day_summed_in_one_query(
        self, backend: Backend, acme: str, globex: str
    ) -> None:
        client, other = backend.keep(acme, new_client(acme, "Uno"), new_client(acme, "Dos"))
        paid = new_invoice(acme, "P", client=client, issued=DAY - timedelta(days=40), due=DAY - timedelta(days=10))
        paid.register_payment(amount="50", paid_on=DAY - timedelta(days=30), method="CHECK", now=T0)
        paid.register_payment(amount="20", paid_on=DAY, method="CASH", now=T0)  # on the day: counted
        paid.register_payment(amount="7", paid_on=DAY + timedelta(days=1), method="CASH", now=T0)  # after: not yet
        credited = new_invoice(acme, "C", client=client, prices=("200",))
        void = new_invoice(acme, "V", client=client)
        void.void(now=T0)
        backend.keep(
            acme, paid, credited, void,
            new_invoice(acme, "PAB", client=client, currency=Currency.PAB),
            new_invoice(acme, "OTHER", client=other),
            new_invoice(acme, "LATER", client=client, issued=DAY + timedelta(days=1)),
        )
        for number, issued in (("NC-1", DAY), ("NC-2", DAY + timedelta(days=1))):
            with backend.uow(acme) as uow:
                note = CreditNote.issue(
                    invoice=uow.invoices.get_for_update(credited.id), number=number, reason="Devolución",
                    lines=[LineInput(description="x", quantity="1", unit_price="10", tax_rate=0)], full=False,
                    issue_date=issued, created_by=None, now=T0,
                )
                uow.credit_notes.add(note)
                uow.commit()
        with backend.uow(acme) as uow:
            owed = uow.invoice_views.open_amounts(client.id, Currency.USD, on=DAY)
            before = uow.invoice_views.open_amounts(client.id, Currency.USD, on=DAY - timedelta(days=1))
            assert (uow.client_views.name(client.id), uow.client_views.name(str(uuid.uuid4()))) == ("Uno", None)
        assert sorted(owed) == [(DAY - timedelta(days=10), D("37.00")), (DAY, D("204.00"))]  # 107-50-20; 214-10
        assert sorted(before) == [(DAY - timedelta(days=10), D("57.00"))]  # "C" was issued on DAY
        assert all(isinstance(amount, Decimal) for _due, amount in owed)
        with backend.uow(globex) as uow:
            assert uow.invoice_views.open_amounts(client.id, Currency.USD, on=DAY) == []
            assert uow.client_views.name(client.id) is None

    # --- quotes ---------------------------------------------------------------------------------

    def test_quotes_read_back_exactly_and_expire_as_of_today(self, backend: Backend, acme: str) -> None:
        client = backend.keep(acme, new_client(acme))[0]
        quote = new_quote(acme, "COT-1", client=client)
        backend.keep(acme, quote)
        with backend.uow(acme) as uow:
            assert repr(uow.quote_views.get(quote.id, today=DAY)) == repr(quote_view(quote, DAY))
            assert uow.quote_views.get(quote.id, today=DAY + timedelta(days=16)).status is QuoteStatus.EXPIRED
            loaded = uow.quotes.get(quote.id)
            assert [format(l.quantity, "f") for l in loaded.lines] == ["2.5000"]
            loaded.mark_sent(today=DAY)
            uow.commit()
        with backend.uow(acme) as uow:
            assert uow.quote_views.get(quote.id, today=DAY).status is QuoteStatus.SENT

    def test_find_quotes_newest_first_by_client_with_cursors(self, backend: Backend, acme: str, globex: str) -> None:
        client = backend.keep(acme, new_client(acme))[0]
        quotes = [new_quote(acme, f"Q-{i}", client=client if i % 2 else None, issued=DAY + timedelta(days=i // 2)) for i in range(5)]
        backend.keep(acme, *quotes)
        backend.keep(globex, new_quote(globex, "G"))
        expected = [q.id for q in sorted(quotes, key=lambda q: (q.issue_date, q.id), reverse=True)]
        pages, after = [], None
        with backend.uow(acme) as uow:
            while page := uow.quote_views.find(QuoteFilter(), today=DAY, first=2, after=after):
                pages.append(ids(page))
                after = QuoteCursor.of(page[-1])
            mine = uow.quote_views.find(QuoteFilter(client_id=client.id), today=DAY, first=10, after=None)
        assert [i for page in pages for i in page] == expected
        assert sorted(q.number for q in mine) == ["Q-1", "Q-3"]


class TestFakeInvoicingStore(InvoicingStoreContract):
    @pytest.fixture
    def backend(self) -> Backend:
        clock = FakeClock(T0)
        return Backend("fake", clock, fake_uow_factory(FakeStore(), clock))


class TestSqlAlchemyInvoicingStore(InvoicingStoreContract):
    @pytest.fixture
    def backend(self, engine: Engine) -> Iterator[Backend]:
        clock = FakeClock(T0)
        sessions = sessionmaker(bind=engine, expire_on_commit=False)
        yield Backend(
            engine.dialect.name,
            clock,
            lambda tenant_id: SqlAlchemyUnitOfWork(tenant_id, session_factory=sessions, clock=clock),
        )

    def test_money_is_never_a_float_in_the_database(self, backend: Backend, acme: str, engine: Engine) -> None:
        backend.keep(acme, new_invoice(acme, "F-1", prices=("0.1", "0.2")))
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                kinds = connection.execute(
                    text("SELECT typeof(total), typeof(balance), total FROM invoices")
                ).one()
                assert kinds == ("integer", "integer", 32)  # 0.30 + 7 % = 0.32, in cents
                quantity = connection.execute(text("SELECT typeof(quantity), quantity FROM invoice_lines LIMIT 1")).one()
                assert quantity == ("integer", 10000)
            else:
                assert connection.execute(text("SELECT total FROM invoices")).scalar_one() == D("0.32")

    def test_a_commit_that_need_not_wait_for_the_disk_is_still_a_commit(
        self, backend: Backend, acme: str, engine: Engine
    ) -> None:
        """``commit(durable=False)``: on PostgreSQL that transaction alone commits asynchronously
        (``SET LOCAL``); its work is committed and visible at once either way."""
        from sqlalchemy import event

        said: list[str] = []

        def record(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            said.append(statement)

        event.listen(engine, "before_cursor_execute", record)
        try:
            with backend.uow(acme) as uow:
                uow.clients.add(new_client(acme, "Asíncrono"))
                uow.commit(durable=False)
            with backend.uow(acme) as uow:
                uow.clients.add(new_client(acme, "Durable"))
                uow.commit()
        finally:
            event.remove(engine, "before_cursor_execute", record)
        relaxed = [s for s in said if "synchronous_commit" in s]
        assert relaxed == (["SET LOCAL synchronous_commit TO OFF"] if engine.dialect.name == "postgresql" else [])
        with engine.connect() as connection:
            names = connection.execute(text("SELECT name FROM clients ORDER BY name")).scalars().all()
            if engine.dialect.name == "postgresql":
                assert connection.execute(text("SHOW synchronous_commit")).scalar_one() == "on"
        assert names == ["Asíncrono", "Durable"]
