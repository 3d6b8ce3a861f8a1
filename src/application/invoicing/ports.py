"""Ports of the invoicing domain: repositories (aggregates) and readers (views), bound to one tenant."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from application.files.ports import FilesUnitOfWork
from application.invoicing.views import (
    ClientCursor,
    ClientView,
    CreditNoteView,
    InvoiceCursor,
    InvoiceFilter,
    InvoiceSort,
    InvoiceSummaryView,
    InvoiceTotalsView,
    InvoiceView,
    QuoteCursor,
    QuoteFilter,
    QuoteView,
)
from application.jobs.ports import JobsUnitOfWork
from application.shared.ports import UnitOfWork
from domain.invoicing.clients import Client
from domain.invoicing.credit_notes import CreditNote
from domain.invoicing.invoices import Invoice
from domain.invoicing.issuer import TenantProfile
from domain.invoicing.pac import PacSettings
from domain.invoicing.quotes import Quote
from domain.invoicing.statements import StatementCredit, StatementInvoice, StatementPayment
from domain.invoicing.values import Currency


class ClientRepository(Protocol):
    def add(self, client: Client) -> None: ...

    def get(self, client_id: str) -> Client | None: ...


class ClientReader(Protocol):
    def get(self, client_id: str) -> ClientView | None: ...

    def get_many(self, client_ids: Sequence[str]) -> list[ClientView]: ...

    def name(self, client_id: str) -> str | None:
        """The client's name alone (one query, no contacts), ``None`` if it is not the tenant's."""
        ...

    def find(self, search: str | None, *, first: int, after: ClientCursor | None) -> list[ClientView]:
        """Newest first, by (created_at, id); ``search`` is a case-insensitive part of name or RUC."""
        ...


class InvoiceRepository(Protocol):
    def next_sequence(self) -> int:
        """Take the next value of the tenant's invoice counter. Concurrent takers wait until this
        transaction ends; if it does not commit, the value is not used up."""
        ...

    def number_taken(self, number: str) -> bool: ...

    def add(self, invoice: Invoice) -> None: ...

    def get(self, invoice_id: str) -> Invoice | None: ...

    def get_for_update(self, invoice_id: str) -> Invoice | None:
        """The invoice, locked until the transaction ends and read after the lock: what a
        concurrent payment or void committed meanwhile is seen."""
        ...

    # --- the PAC (webhooks) ---

    def by_pac_document_id(self, document_id: str, *, for_update: bool = False) -> Invoice | None:
        """The tenant's invoice the PAC knows by ``document_id`` (locked, with ``for_update``)."""
        ...

    def awaiting_pac(self, *, cutoff: datetime, limit: int) -> list[tuple[str, str]]:
        """(invoice id, PAC document id) of unvoided invoices with a PAC document id still NONE or
        PAC_AUTHORIZED since before ``cutoff`` (authorised at, else created at), oldest first."""
        ...


class InvoiceReader(Protocol):
    def get(self, invoice_id: str, *, today: date) -> InvoiceView | None: ...

    def get_many(self, invoice_ids: Sequence[str], *, today: date) -> list[InvoiceView]:
        """The tenant's invoices of these ids, in no particular order (an unknown id is left out)."""
        ...

    def find(
        self,
        filter: InvoiceFilter,
        sort: InvoiceSort,
        *,
        today: date,
        first: int,
        after: InvoiceCursor | None,
    ) -> list[InvoiceView]:
        """Filtered and sorted in the database (status as of ``today``); ties broken by id."""
        ...

    def summaries(
        self,
        filter: InvoiceFilter,
        sort: InvoiceSort,
        *,
        today: date,
        first: int,
        after: InvoiceCursor | None,
    ) -> list[InvoiceSummaryView]:
        """As ``find``, without lines and payments."""
        ...

    def totals(self, period_from: date, period_to: date, currency: Currency) -> InvoiceTotalsView:
        """Sums in the database over the invoices issued in the period (both days included) in
        ``currency``, void ones left out; ITBMS by rate from their lines."""
        ...

    def statement_facts(
        self, client_id: str, currency: Currency, *, until: date
    ) -> tuple[list[StatementInvoice], list[StatementPayment]]:
        """The client's invoices in ``currency`` issued up to ``until`` (void ones flagged), and
        their payments dated up to ``until``."""
        ...

    def open_amounts(self, client_id: str, currency: Currency, *, on: date) -> list[tuple[date, Decimal]]:
        """Each non-void invoice of the client in ``currency`` issued by ``on``: its due date and
        what it still owed that day (its total less its payments and credit notes dated by then),
        as the statement for a period ending ``on`` counts them; one query, summed in the database."""
        ...


class QuoteRepository(Protocol):
    def next_sequence(self) -> int:
        """Take the next value of the tenant's quote counter (as ``InvoiceRepository.next_sequence``)."""
        ...

    def number_taken(self, number: str) -> bool: ...

    def add(self, quote: Quote) -> None: ...

    def get(self, quote_id: str) -> Quote | None: ...


class QuoteReader(Protocol):
    def get(self, quote_id: str, *, today: date) -> QuoteView | None: ...

    def find(
        self, filter: QuoteFilter, *, today: date, first: int, after: QuoteCursor | None
    ) -> list[QuoteView]:
        """Newest issue date first, by (issue_date, id)."""
        ...


class PacSettingsRepository(Protocol):
    """``uow.pac_settings``: the tenant's PAC settings (every tenant's in a unit of work without one)."""

    def get(self, tenant_id: str) -> PacSettings | None: ...

    def by_company(self, company_id: str) -> PacSettings | None:
        """Whichever tenant has this PAC company id (company ids are unique across tenants)."""
        ...

    def add(self, settings: PacSettings) -> None: ...

    def tenant_ids(self) -> list[str]:
        """The tenants with PAC settings (the poller's list)."""
        ...


class TenantProfileRepository(Protocol):
    """``uow.tenant_profile``: the bound tenant's fiscal profile (one, or none yet)."""

    def get(self) -> TenantProfile | None: ...

    def add(self, profile: TenantProfile) -> None: ...


class InvoicingUnitOfWork(UnitOfWork, Protocol):
    tenant_profile: TenantProfileRepository
    clients: ClientRepository
    client_views: ClientReader
    invoices: InvoiceRepository
    invoice_views: InvoiceReader
    quotes: QuoteRepository
    quote_views: QuoteReader
    credit_note_views: CreditNoteReader  # credit notes credit the client's statement


class PacUnitOfWork(FilesUnitOfWork, JobsUnitOfWork, Protocol):
    """The PAC's handlers: the settings, the invoices and credit notes it authorises, the PDFs it
    keeps as files."""

    invoices: InvoiceRepository
    credit_notes: CreditNoteRepository
    pac_settings: PacSettingsRepository
    """The tenant's own, or every tenant's in a unit of work without one (by company id always)."""


class CreditNoteRepository(Protocol):
    def next_sequence(self) -> int:
        """Take the next value of the tenant's credit note counter (as ``InvoiceRepository``'s)."""
        ...

    def number_taken(self, number: str) -> bool: ...

    def add(self, note: CreditNote) -> None: ...

    def get(self, credit_note_id: str) -> CreditNote | None: ...

    def by_pac_document_id(self, document_id: str, *, for_update: bool = False) -> CreditNote | None:
        """The tenant's credit note the PAC knows by ``document_id`` (locked, with ``for_update``:
        until the transaction ends, and read after the lock)."""
        ...

    def awaiting_pac(self, *, cutoff: datetime, limit: int) -> list[tuple[str, str]]:
        """(credit note id, PAC document id) of credit notes with a PAC document id still NONE or
        PAC_AUTHORIZED since before ``cutoff`` (authorised at, else created at), oldest first."""
        ...


class CreditNoteReader(Protocol):
    def get(self, credit_note_id: str) -> CreditNoteView | None: ...

    def find(self, invoice_id: str | None, *, first: int) -> list[CreditNoteView]:
        """Newest first (issue date, then number); only ``invoice_id``'s when given."""
        ...

    def statement_credits(self, client_id: str, currency: Currency, *, until: date) -> list[StatementCredit]:
        """The client's credit notes in ``currency`` issued up to ``until``."""
        ...


class CreditNotesUnitOfWork(UnitOfWork, Protocol):
    invoices: InvoiceRepository
    credit_notes: CreditNoteRepository
    credit_note_views: CreditNoteReader
