"""In-memory invoicing with the semantics of ``adapters.db.invoicing``: clients, invoices, quotes and
their numbering, repositories and readers alike; ``tests/integration/test_invoicing_store_contract.py``
runs one contract against both. Copies are built through the constructors (the classes may be
mapped by the ORM)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from application.invoicing.handlers import client_view, invoice_view, quote_view
from application.invoicing.views import (
    ClientCursor,
    ClientView,
    CreditNoteView,
    InvoiceCursor,
    InvoiceFilter,
    InvoiceSort,
    InvoiceSortField,
    InvoiceSummaryView,
    InvoiceTotalsView,
    InvoiceView,
    QuoteCursor,
    QuoteFilter,
    QuoteView,
    SortDirection,
    credit_note_view,
)
from domain.invoicing.clients import Client, ClientContact
from domain.invoicing.credit_notes import CreditNote, CreditNoteLine
from domain.invoicing.invoices import Invoice, InvoiceLine, Payment
from domain.invoicing.issuer import TenantProfile
from domain.invoicing.lines import compute_totals
from domain.invoicing.quotes import Quote, QuoteLine
from domain.invoicing.statements import StatementCredit, StatementInvoice, StatementPayment
from domain.invoicing.values import Currency
from domain.shared.model import Aggregate
from tests.fakes.state import FakeDomain, FakeRepository, States, contains, snapshot, unique, values

if TYPE_CHECKING:
    from tests.fakes.uow import FakeUnitOfWork

_CLIENT_FIELDS = (
    "id", "tenant_id", "name", "ruc", "dv", "taxpayer_type", "address", "created_at", "updated_at",
)
_CONTACT_FIELDS = ("id", "tenant_id", "client_id", "position", "name", "email", "phone", "role")
_LINE_FIELDS = ("id", "tenant_id", "position", "description", "quantity", "unit_price", "discount", "tax_rate")
_PAYMENT_FIELDS = ("id", "tenant_id", "invoice_id", "amount", "paid_on", "method", "reference", "created_at")
_DOCUMENT_FIELDS = (
    "id", "tenant_id", "number", "client_id", "client_name", "client_ruc", "client_dv", "ad_hoc_emails",
    "issue_date", "currency", "subtotal", "discount_total", "tax_total", "total", "created_by", "created_at",
)
_INVOICE_FIELDS = _DOCUMENT_FIELDS + (
    "due_date", "paid", "credited", "balance", "voided_at", "legal_status", "cufe", "pac_document_id", "qr_url",
    "authorization_protocol", "authorized_at", "legal_message",
)
_QUOTE_FIELDS = _DOCUMENT_FIELDS + ("valid_until", "status")
_CREDIT_NOTE_FIELDS = _DOCUMENT_FIELDS + (
    "invoice_id", "invoice_number", "reason", "legal_status", "cufe", "pac_document_id", "qr_url",
    "authorization_protocol", "authorized_at", "legal_message",
)


def _copy_credit_note(note: CreditNote) -> CreditNote:
    copy = CreditNote(**values(note, _CREDIT_NOTE_FIELDS))
    copy.lines = [
        CreditNoteLine(credit_note_id=line.credit_note_id, **values(line, _LINE_FIELDS)) for line in note.lines
    ]
    return copy
_PROFILE_FIELDS = (
    "tenant_id", "legal_name", "trade_name", "taxpayer_type", "ruc", "dv", "address", "province", "phone",
    "email", "website", "payment_terms_days", "payment_instructions", "currency", "updated_at",
)


def _copy_profile(profile: TenantProfile) -> TenantProfile:
    return TenantProfile(**values(profile, _PROFILE_FIELDS))


def _copy_client(client: Client) -> Client:
    copy = Client(**values(client, _CLIENT_FIELDS))
    copy.default_channel = client.default_channel  # not an __init__ argument
    copy.contacts = [ClientContact(**values(c, _CONTACT_FIELDS)) for c in client.contacts]
    return copy


def _copy_invoice(invoice: Invoice) -> Invoice:
    copy = Invoice(**values(invoice, _INVOICE_FIELDS))
    copy.lines = [InvoiceLine(invoice_id=line.invoice_id, **values(line, _LINE_FIELDS)) for line in invoice.lines]
    copy.payments = [Payment(**values(payment, _PAYMENT_FIELDS)) for payment in invoice.payments]
    return copy


def _copy_quote(quote: Quote) -> Quote:
    copy = Quote(**values(quote, _QUOTE_FIELDS))
    copy.lines = [QuoteLine(quote_id=line.quote_id, **values(line, _LINE_FIELDS)) for line in quote.lines]
    return copy


@dataclass
class InvoicingState:
    clients: dict[str, Client] = field(default_factory=dict)
    invoices: dict[str, Invoice] = field(default_factory=dict)
    quotes: dict[str, Quote] = field(default_factory=dict)
    counters: dict[tuple[str, str], int] = field(default_factory=dict)
    profiles: dict[str, TenantProfile] = field(default_factory=dict)
    credit_notes: dict[str, CreditNote] = field(default_factory=dict)

    def checkout(self) -> InvoicingState:
        work = InvoicingState(
            credit_notes={key: _copy_credit_note(value) for key, value in self.credit_notes.items()},
            profiles={key: _copy_profile(value) for key, value in self.profiles.items()},
            clients={key: _copy_client(value) for key, value in self.clients.items()},
            invoices={key: _copy_invoice(value) for key, value in self.invoices.items()},
            quotes={key: _copy_quote(value) for key, value in self.quotes.items()},
            counters=dict(self.counters),
        )
        work._rebase()
        return work

    def _rebase(self) -> None:
        self._base_clients = {key: snapshot(client) for key, client in self.clients.items()}
        self._base_invoices = {key: snapshot(invoice) for key, invoice in self.invoices.items()}
        self._base_quotes = {key: snapshot(quote) for key, quote in self.quotes.items()}
        self._base_counters = dict(self.counters)
        self._base_profiles = {key: snapshot(profile) for key, profile in self.profiles.items()}
        self._base_credit_notes = {key: snapshot(note) for key, note in self.credit_notes.items()}

    def _changes(self) -> _InvoicingChanges:
        return _InvoicingChanges(
            clients=[c for key, c in self.clients.items() if self._base_clients.get(key) != snapshot(c)],
            invoices=[i for key, i in self.invoices.items() if self._base_invoices.get(key) != snapshot(i)],
            quotes=[q for key, q in self.quotes.items() if self._base_quotes.get(key) != snapshot(q)],
            counters={k: v for k, v in self.counters.items() if self._base_counters.get(k) != v},
            profiles=[p for key, p in self.profiles.items() if self._base_profiles.get(key) != snapshot(p)],
            credit_notes=[
                n for key, n in self.credit_notes.items() if self._base_credit_notes.get(key) != snapshot(n)
            ],
        )

    def check(self, work: InvoicingState, store: States, workspace: States) -> None:
        changes = work._changes()
        tenants = {**store.tenants, **workspace.tenants}
        after_clients = {**self.clients, **{c.id: c for c in changes.clients}}
        after_invoices = {**self.invoices, **{i.id: i for i in changes.invoices}}
        after_quotes = {**self.quotes, **{q.id: q for q in changes.quotes}}
        unique("invoices(tenant_id, number)", ((i.tenant_id, i.number) for i in after_invoices.values()))
        unique("quotes(tenant_id, number)", ((q.tenant_id, q.number) for q in after_quotes.values()))
        after_notes = {**self.credit_notes, **{n.id: n for n in changes.credit_notes}}
        unique("credit_notes(tenant_id, number)", ((n.tenant_id, n.number) for n in after_notes.values()))
        for note in changes.credit_notes:
            if note.invoice_id not in after_invoices:
                raise LookupError(f"invoice_id: no invoice {note.invoice_id} (foreign key)")
        for document in [*changes.profiles, *changes.clients, *changes.invoices, *changes.quotes]:
            if document.tenant_id not in tenants:
                raise LookupError(f"tenant_id: no tenant {document.tenant_id} (foreign key)")
        for document in [*changes.invoices, *changes.quotes]:
            if document.client_id is not None and document.client_id not in after_clients:
                raise LookupError(f"client_id: no client {document.client_id} (foreign key)")

    def apply(self, work: InvoicingState) -> None:
        changes = work._changes()
        for client in changes.clients:
            self.clients[client.id] = _copy_client(client)
        for invoice in changes.invoices:
            self.invoices[invoice.id] = _copy_invoice(invoice)
        for quote in changes.quotes:
            self.quotes[quote.id] = _copy_quote(quote)
        self.counters.update(changes.counters)
        for profile in changes.profiles:
            self.profiles[profile.tenant_id] = _copy_profile(profile)
        for note in changes.credit_notes:
            self.credit_notes[note.id] = _copy_credit_note(note)
        work._rebase()

    def aggregates(self) -> Iterable[Aggregate]:
        yield from self.profiles.values()
        yield from self.credit_notes.values()
        yield from self.clients.values()
        yield from self.invoices.values()
        yield from self.quotes.values()

    def clients_of(self, tenant_id: str) -> list[Client]:
        return [client for client in self.clients.values() if client.tenant_id == tenant_id]

    def invoices_of(self, tenant_id: str) -> list[Invoice]:
        return [invoice for invoice in self.invoices.values() if invoice.tenant_id == tenant_id]

    def quotes_of(self, tenant_id: str) -> list[Quote]:
        return [quote for quote in self.quotes.values() if quote.tenant_id == tenant_id]


@dataclass
class _InvoicingChanges:
    clients: list[Client]
    invoices: list[Invoice]
    quotes: list[Quote]
    counters: dict[tuple[str, str], int]
    profiles: list[TenantProfile] = field(default_factory=list)
    credit_notes: list[CreditNote] = field(default_factory=list)


def _state_of(uow: FakeUnitOfWork) -> InvoicingState:
    return uow.workspace().state("invoicing")  # type: ignore[return-value]


class _Bound:
    def __init__(self, uow: FakeUnitOfWork, tenant_id: str) -> None:
        self._uow = uow
        self._tenant_id = tenant_id

    @property
    def _state(self) -> InvoicingState:
        return _state_of(self._uow)


class FakeCreditNoteRepository(_Bound):
    def next_sequence(self) -> int:
        return _take_next_value(self._uow, self._tenant_id, "CREDIT_NOTE")

    def number_taken(self, number: str) -> bool:
        return any(n.number == number for n in self._mine())

    def add(self, note: CreditNote) -> None:
        if note.tenant_id != self._tenant_id:
            raise PermissionError("a credit note of another tenant cannot be added here")
        self._state.credit_notes[note.id] = note

    def get(self, credit_note_id: str) -> CreditNote | None:
        note = self._state.credit_notes.get(credit_note_id)
        return note if note is not None and note.tenant_id == self._tenant_id else None

    def by_pac_document_id(self, document_id: str, *, for_update: bool = False) -> CreditNote | None:
        """As SqlAlchemyCreditNoteRepository's (units of work on the fakes run one at a time: nothing
        to lock)."""
        found = sorted((n for n in self._mine() if n.pac_document_id == document_id), key=lambda n: n.created_at)
        return found[0] if found else None

    def awaiting_pac(self, *, cutoff: datetime, limit: int) -> list[tuple[str, str]]:
        waiting = sorted(
            (
                n for n in self._mine()
                if n.pac_document_id is not None and str(n.legal_status) in ("NONE", "PAC_AUTHORIZED")
                and (n.authorized_at or n.created_at) <= cutoff
            ),
            key=lambda n: (n.created_at, n.id),
        )
        return [(n.id, n.pac_document_id) for n in waiting[:limit] if n.pac_document_id is not None]

    def _mine(self) -> list[CreditNote]:
        return [n for n in self._state.credit_notes.values() if n.tenant_id == self._tenant_id]


class FakeCreditNoteReader(FakeCreditNoteRepository):
    def get(self, credit_note_id: str) -> CreditNoteView | None:  # type: ignore[override]
        note = super().get(credit_note_id)
        return None if note is None else credit_note_view(note)

    def find(self, invoice_id: str | None, *, first: int) -> list[CreditNoteView]:
        mine = [n for n in self._mine() if invoice_id is None or n.invoice_id == invoice_id]
        mine.sort(key=lambda n: (n.issue_date, n.number), reverse=True)
        return [credit_note_view(n) for n in mine[:first]]

    def statement_credits(self, client_id: str, currency: Currency, *, until: date) -> list[StatementCredit]:
        mine = [
            n for n in self._mine() if n.client_id == client_id and n.currency == currency and n.issue_date <= until
        ]
        mine.sort(key=lambda n: (n.issue_date, n.number))
        return [
            StatementCredit(
                credit_note_id=n.id, invoice_id=n.invoice_id, number=n.number, issue_date=n.issue_date,
                total=n.total, reason=n.reason,
            )
            for n in mine
        ]


class FakeTenantProfileRepository(_Bound):
    def get(self) -> TenantProfile | None:
        return self._state.profiles.get(self._tenant_id)

    def add(self, profile: TenantProfile) -> None:
        if profile.tenant_id != self._tenant_id:
            raise PermissionError("the profile of another tenant cannot be added here")
        self._state.profiles[profile.tenant_id] = profile


class FakeClientRepository(_Bound):
    def add(self, client: Client) -> None:
        if client.tenant_id != self._tenant_id:
            raise PermissionError("a client of another tenant cannot be added here")
        self._state.clients[client.id] = client

    def get(self, client_id: str) -> Client | None:
        client = self._state.clients.get(client_id)
        return client if client is not None and client.tenant_id == self._tenant_id else None


def _take_next_value(uow: FakeUnitOfWork, tenant_id: str, series: str) -> int:
    counters = _state_of(uow).counters
    counters[(tenant_id, series)] = counters.get((tenant_id, series), 0) + 1
    return counters[(tenant_id, series)]


class FakeInvoiceRepository(_Bound):
    def next_sequence(self) -> int:
        return _take_next_value(self._uow, self._tenant_id, "INVOICE")

    def number_taken(self, number: str) -> bool:
        return any(
            i.tenant_id == self._tenant_id and i.number == number for i in self._state.invoices.values()
        )

    def add(self, invoice: Invoice) -> None:
        if invoice.tenant_id != self._tenant_id:
            raise PermissionError("an invoice of another tenant cannot be added here")
        self._state.invoices[invoice.id] = invoice

    def get(self, invoice_id: str) -> Invoice | None:
        invoice = self._state.invoices.get(invoice_id)
        return invoice if invoice is not None and invoice.tenant_id == self._tenant_id else None

    def get_for_update(self, invoice_id: str) -> Invoice | None:
        """Nothing to wait for (units of work on the fakes run one at a time), but as after a lock,
        what another unit of work committed meanwhile is read again, unless this one changed it."""
        work = self._state
        committed = self._uow.store.invoices.get(invoice_id)
        mine = work.invoices.get(invoice_id)
        if committed is not None and mine is not None and work._base_invoices.get(invoice_id) == snapshot(mine):
            work.invoices[invoice_id] = _copy_invoice(committed)
            work._base_invoices[invoice_id] = snapshot(work.invoices[invoice_id])
        return self.get(invoice_id)

    # the PAC's reads, as SqlAlchemyInvoiceRepository's

    def by_pac_document_id(self, document_id: str, *, for_update: bool = False) -> Invoice | None:
        mine = sorted(
            (i for i in self._state.invoices.values()
             if i.tenant_id == self._tenant_id and i.pac_document_id == document_id),
            key=lambda i: i.created_at,
        )
        if not mine:
            return None
        return self.get_for_update(mine[0].id) if for_update else mine[0]

    def awaiting_pac(self, *, cutoff: datetime, limit: int) -> list[tuple[str, str]]:
        waiting = sorted(
            (
                i for i in self._state.invoices.values()
                if i.tenant_id == self._tenant_id and i.pac_document_id is not None and i.voided_at is None
                and str(i.legal_status) in ("NONE", "PAC_AUTHORIZED")
                and (i.authorized_at or i.created_at) <= cutoff
            ),
            key=lambda i: (i.created_at, i.id),
        )
        return [(i.id, i.pac_document_id) for i in waiting[:limit]]


class FakeQuoteRepository(_Bound):
    def next_sequence(self) -> int:
        return _take_next_value(self._uow, self._tenant_id, "QUOTE")

    def number_taken(self, number: str) -> bool:
        return any(
            q.tenant_id == self._tenant_id and q.number == number for q in self._state.quotes.values()
        )

    def add(self, quote: Quote) -> None:
        if quote.tenant_id != self._tenant_id:
            raise PermissionError("a quote of another tenant cannot be added here")
        self._state.quotes[quote.id] = quote

    def get(self, quote_id: str) -> Quote | None:
        quote = self._state.quotes.get(quote_id)
        return quote if quote is not None and quote.tenant_id == self._tenant_id else None


class FakeClientReader(_Bound):
    def _clients(self) -> list[Client]:
        return [c for c in self._state.clients.values() if c.tenant_id == self._tenant_id]

    def get(self, client_id: str) -> ClientView | None:
        return next((client_view(c) for c in self._clients() if c.id == client_id), None)

    def get_many(self, client_ids: Sequence[str]) -> list[ClientView]:
        wanted = set(client_ids)
        return [client_view(c) for c in self._clients() if c.id in wanted]

    def name(self, client_id: str) -> str | None:
        return next((c.name for c in self._clients() if c.id == client_id), None)

    def find(self, search: str | None, *, first: int, after: ClientCursor | None) -> list[ClientView]:
        found = self._clients()
        if search:
            found = [c for c in found if contains(c.name, search) or (c.ruc is not None and contains(c.ruc, search))]
        if after:
            found = [c for c in found if (c.created_at, c.id) < (after.created_at, after.client_id)]
        found.sort(key=lambda c: (c.created_at, c.id), reverse=True)
        return [client_view(c) for c in found[:first]]


class FakeInvoiceReader(_Bound):
    def _invoices(self) -> list[Invoice]:
        return [i for i in self._state.invoices.values() if i.tenant_id == self._tenant_id]

    def get(self, invoice_id: str, *, today: date) -> InvoiceView | None:
        return next((invoice_view(i, today) for i in self._invoices() if i.id == invoice_id), None)

    def get_many(self, invoice_ids: Sequence[str], *, today: date) -> list[InvoiceView]:
        wanted = set(invoice_ids)
        return [invoice_view(i, today) for i in self._invoices() if i.id in wanted]

    def find(
        self,
        filter: InvoiceFilter,
        sort: InvoiceSort,
        *,
        today: date,
        first: int,
        after: InvoiceCursor | None,
    ) -> list[InvoiceView]:
        found = self._invoices()
        if filter.client_id is not None:
            found = [i for i in found if i.client_id == filter.client_id]
        if filter.statuses:
            found = [i for i in found if i.status(today) in filter.statuses]
        if filter.due_before is not None:
            found = [i for i in found if i.due_date < filter.due_before]
        if filter.due_after is not None:
            found = [i for i in found if i.due_date > filter.due_after]
        if filter.issued_from is not None:
            found = [i for i in found if i.issue_date >= filter.issued_from]
        if filter.issued_to is not None:
            found = [i for i in found if i.issue_date <= filter.issued_to]
        if filter.min_total is not None:
            found = [i for i in found if i.total >= filter.min_total]
        if filter.max_total is not None:
            found = [i for i in found if i.total <= filter.max_total]
        if filter.currency is not None:
            found = [i for i in found if i.currency == filter.currency]

        def key(invoice: Invoice) -> tuple[Any, str]:
            value = {InvoiceSortField.DATE: invoice.issue_date, InvoiceSortField.BALANCE: invoice.balance,
                     InvoiceSortField.DUE_DATE: invoice.due_date}[sort.field]
            return (value, invoice.id)

        descending = sort.direction is SortDirection.DESC
        if after is not None:
            mark = (after.key, after.invoice_id)
            found = [i for i in found if (key(i) < mark if descending else key(i) > mark)]
        found.sort(key=key, reverse=descending)
        return [invoice_view(i, today) for i in found[:first]]

    def summaries(
        self,
        filter: InvoiceFilter,
        sort: InvoiceSort,
        *,
        today: date,
        first: int,
        after: InvoiceCursor | None,
    ) -> list[InvoiceSummaryView]:
        return [InvoiceSummaryView.of(view) for view in self.find(filter, sort, today=today, first=first, after=after)]

    def totals(self, period_from: date, period_to: date, currency: Currency) -> InvoiceTotalsView:
        found = [
            i for i in self._invoices()
            if i.currency == currency and i.voided_at is None and period_from <= i.issue_date <= period_to
        ]

        def total(name: str) -> Decimal:
            return sum((getattr(i, name) for i in found), Decimal(0))

        return InvoiceTotalsView(
            period_from=period_from, period_to=period_to, currency=currency, invoices=len(found),
            total=total("total"), paid=total("paid"), balance=total("balance"), tax_total=total("tax_total"),
            taxes=compute_totals(line for i in found for line in i.lines).taxes,
        )

    def statement_facts(
        self, client_id: str, currency: Currency, *, until: date
    ) -> tuple[list[StatementInvoice], list[StatementPayment]]:
        mine = sorted(
            (
                i
                for i in self._invoices()
                if i.client_id == client_id and i.currency == currency and i.issue_date <= until
            ),
            key=lambda i: (i.issue_date, i.id),
        )
        invoices = [
            StatementInvoice(
                invoice_id=i.id,
                number=i.number,
                issue_date=i.issue_date,
                due_date=i.due_date,
                total=i.total,
                voided=i.voided_at is not None,
                description=next((line.description for line in i.lines if line.position == 0), ""),
            )
            for i in mine
        ]
        payments = sorted(
            (
                StatementPayment(
                    payment_id=p.id,
                    invoice_id=i.id,
                    paid_on=p.paid_on,
                    amount=p.amount,
                    method=str(p.method),
                    reference=p.reference,
                )
                for i in mine
                for p in i.payments
                if p.tenant_id == self._tenant_id and p.paid_on <= until
            ),
            key=lambda p: (p.paid_on, p.payment_id),
        )
        return invoices, payments

    def open_amounts(self, client_id: str, currency: Currency, *, on: date) -> list[tuple[date, Decimal]]:
        notes = [n for n in self._state.credit_notes.values() if n.tenant_id == self._tenant_id and n.issue_date <= on]
        return [
            (
                i.due_date,
                i.total
                - sum((p.amount for p in i.payments if p.paid_on <= on), Decimal(0))
                - sum((n.total for n in notes if n.invoice_id == i.id), Decimal(0)),
            )
            for i in self._invoices()
            if i.client_id == client_id and i.currency == currency and i.issue_date <= on and i.voided_at is None
        ]


class FakeQuoteReader(_Bound):
    def _quotes(self) -> list[Quote]:
        return [q for q in self._state.quotes.values() if q.tenant_id == self._tenant_id]

    def get(self, quote_id: str, *, today: date) -> QuoteView | None:
        return next((quote_view(q, today) for q in self._quotes() if q.id == quote_id), None)

    def find(
        self, filter: QuoteFilter, *, today: date, first: int, after: QuoteCursor | None
    ) -> list[QuoteView]:
        found = self._quotes()
        if filter.client_id is not None:
            found = [q for q in found if q.client_id == filter.client_id]
        if after is not None:
            found = [q for q in found if (q.issue_date, q.id) < (after.issue_date, after.quote_id)]
        found.sort(key=lambda q: (q.issue_date, q.id), reverse=True)
        return [quote_view(q, today) for q in found[:first]]


FAKE_DOMAIN = FakeDomain(
    name="invoicing",
    state=InvoicingState,
    repositories={
        "credit_notes": FakeRepository(lambda uow: FakeCreditNoteRepository(uow, uow.tenant)),
        "credit_note_views": FakeRepository(lambda uow: FakeCreditNoteReader(uow, uow.tenant)),
        "tenant_profile": FakeRepository(lambda uow: FakeTenantProfileRepository(uow, uow.tenant)),
        "clients": FakeRepository(lambda uow: FakeClientRepository(uow, uow.tenant)),
        "client_views": FakeRepository(lambda uow: FakeClientReader(uow, uow.tenant)),
        "invoices": FakeRepository(lambda uow: FakeInvoiceRepository(uow, uow.tenant)),
        "invoice_views": FakeRepository(lambda uow: FakeInvoiceReader(uow, uow.tenant)),
        "quotes": FakeRepository(lambda uow: FakeQuoteRepository(uow, uow.tenant)),
        "quote_views": FakeRepository(lambda uow: FakeQuoteReader(uow, uow.tenant)),
    },
)
