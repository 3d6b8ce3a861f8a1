"""Commands and queries of the invoicing domain."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from application.invoicing.views import InvoiceFilter, InvoiceSort, QuoteFilter
from application.shared.messages import Command, Query
from domain.invoicing.clients import ContactInput
from domain.invoicing.lines import LineInput


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoicingPolicy:
    page_size: int = 20
    max_page_size: int = 100


# --- commands ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateClient(Command):
    name: str
    taxpayer_type: str
    ruc: str | None = None
    dv: str | None = None
    address: str | None = None
    contacts: tuple[ContactInput, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateClient(Command):
    """Replace the whole editable record of a client, its contacts included."""

    client_id: str
    name: str
    taxpayer_type: str
    ruc: str | None = None
    dv: str | None = None
    address: str | None = None
    contacts: tuple[ContactInput, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateInvoice(Command):
    """Issue an invoice to a registered client (``client_id``) or to an ad-hoc party
    (``client_name``, optional RUC/DV and emails). Without ``number`` the tenant's counter gives
    the next one (F-000001, ...). ``issue_date`` defaults to today, ``due_date`` to the issue date
    plus the tenant's payment terms (its fiscal profile; none: the issue date), ``currency`` to the
    profile's (none: USD)."""

    lines: tuple[LineInput, ...]
    number: str | None = None
    client_id: str | None = None
    client_name: str | None = None
    client_ruc: str | None = None
    client_dv: str | None = None
    ad_hoc_emails: tuple[str, ...] = ()
    issue_date: date | None = None
    due_date: date | None = None
    currency: str | None = None
    pac_document_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterInvoicePayment(Command):
    """Record a payment against an invoice; ``date`` defaults to today."""

    invoice_id: str
    amount: object
    method: str
    date: date | None = None
    reference: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoveInvoicePayment(Command):
    """Take a payment back (it was deleted where it was recorded: QuickBooks)."""

    invoice_id: str
    payment_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class VoidInvoice(Command):
    invoice_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateQuote(Command):
    """Like ``CreateInvoice``; without ``number`` the counter gives COT-000001, ... and
    ``valid_until`` defaults to 30 days after the issue date, ``currency`` to the tenant profile's."""

    lines: tuple[LineInput, ...]
    number: str | None = None
    client_id: str | None = None
    client_name: str | None = None
    client_ruc: str | None = None
    client_dv: str | None = None
    ad_hoc_emails: tuple[str, ...] = ()
    issue_date: date | None = None
    valid_until: date | None = None
    currency: str | None = None


# --- queries ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class GetClient(Query):
    client_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class GetClients(Query):
    """Clients by id, for batch loaders: ``None`` for an id the tenant has no client with."""

    client_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class FindClients(Query):
    """Newest first; ``search`` matches a part of the name or of the RUC, ignoring case."""

    search: str | None = None
    first: int | None = None
    after: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GetInvoice(Query):
    invoice_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class GetInvoices(Query):
    """Invoices by id, for batch work: ``None`` for an id the tenant has no invoice with."""

    invoice_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class FindInvoices(Query):
    filter: InvoiceFilter = field(default_factory=InvoiceFilter)
    sort: InvoiceSort = field(default_factory=InvoiceSort)
    first: int | None = None
    after: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FindInvoiceSummaries(FindInvoices):
    """``FindInvoices`` for lists that show each invoice's figures, not its lines and payments:
    ``InvoiceSummaryView``s, read in one query."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GetQuote(Query):
    quote_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FindQuotes(Query):
    """Newest issue date first."""

    filter: QuoteFilter = field(default_factory=QuoteFilter)
    first: int | None = None
    after: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GetInvoiceTotals(Query):
    """The invoices issued from ``period_from`` to ``period_to`` (both included) in ``currency``,
    void ones left out, added up: what was invoiced, collected and is outstanding, ITBMS by rate."""

    period_from: date
    period_to: date
    currency: str | None = None  # none: the tenant profile's (USD without a profile)


@dataclass(frozen=True, slots=True, kw_only=True)
class GetClientStatement(Query):
    """``as_of``: the day the ageing is counted at, today in Panama by default."""

    client_id: str
    period_from: date
    period_to: date
    currency: str | None = None  # none: the tenant profile's (USD without a profile)
    as_of: date | None = None
