"""Read models of the invoicing domain: frozen views, the filters and sorts that select them,
and the cursors that page through them."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from domain.invoicing.clients import TaxpayerType
from domain.invoicing.credit_notes import CreditNote
from domain.invoicing.invoices import InvoiceStatus, LegalStatus, PaymentMethod
from domain.invoicing.lines import TaxLine, line_amount, line_base, line_tax
from domain.invoicing.quotes import QuoteStatus
from domain.invoicing.statements import Statement
from domain.invoicing.values import Currency
from domain.shared.channels import DeliveryChannel
from domain.shared.errors import InvalidInput
from domain.shared.model import parse_id

# --- clients ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientContactView:
    name: str
    email: str | None
    phone: str | None
    role: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientView:
    id: str
    name: str
    ruc: str | None
    dv: str | None
    taxpayer_type: TaxpayerType
    address: str | None
    contacts: tuple[ClientContactView, ...]
    created_at: datetime
    updated_at: datetime
    default_channel: DeliveryChannel = DeliveryChannel.EMAIL


# --- documents (invoices and quotes) ------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class LineView:
    position: int
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal
    tax_rate: int
    amount: Decimal
    "round(quantity × unit price)"
    base: Decimal
    "round(quantity × unit price − discount): what ITBMS is computed on"
    tax: Decimal
    "round(base × rate): the line's ITBMS; the document's taxes are the sums of these"
    total: Decimal
    "base + tax"

    @classmethod
    def of(
        cls,
        *,
        position: int,
        description: str,
        quantity: Decimal,
        unit_price: Decimal,
        discount: Decimal,
        tax_rate: int,
    ) -> LineView:
        base = line_base(quantity, unit_price, discount)
        tax = line_tax(base, tax_rate)
        return cls(
            position=position,
            description=description,
            quantity=quantity,
            unit_price=unit_price,
            discount=discount,
            tax_rate=tax_rate,
            amount=line_amount(quantity, unit_price),
            base=base,
            tax=tax,
            total=base + tax,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentView:
    id: str
    amount: Decimal
    date: date
    method: PaymentMethod
    reference: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceView:
    id: str
    number: str
    client_id: str | None
    client_name: str
    client_ruc: str | None
    client_dv: str | None
    ad_hoc_emails: tuple[str, ...]
    issue_date: date
    due_date: date
    currency: Currency
    lines: tuple[LineView, ...]
    taxes: tuple[TaxLine, ...]
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal
    paid: Decimal
    balance: Decimal
    status: InvoiceStatus
    payments: tuple[PaymentView, ...]
    voided_at: datetime | None
    legal_status: LegalStatus
    cufe: str | None
    pac_document_id: str | None
    qr_url: str | None
    authorization_protocol: str | None
    authorized_at: datetime | None
    legal_message: str | None
    created_by: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceSummaryView:
    """An invoice's header and figures, without its lines and payments (lists)."""

    id: str
    number: str
    client_id: str | None
    client_name: str
    issue_date: date
    due_date: date
    currency: Currency
    tax_total: Decimal
    total: Decimal
    paid: Decimal
    balance: Decimal
    status: InvoiceStatus

    @classmethod
    def of(cls, view: InvoiceView) -> InvoiceSummaryView:
        return cls(
            id=view.id, number=view.number, client_id=view.client_id, client_name=view.client_name,
            issue_date=view.issue_date, due_date=view.due_date, currency=view.currency, tax_total=view.tax_total,
            total=view.total, paid=view.paid, balance=view.balance, status=view.status,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceTotalsView:
    """``GetInvoiceTotals``: sums over the period's invoices (not void) in one currency."""

    period_from: date
    period_to: date
    currency: Currency
    invoices: int
    total: Decimal
    "invoiced"
    paid: Decimal
    "collected"
    balance: Decimal
    "outstanding (after payments and credit notes)"
    tax_total: Decimal
    taxes: tuple[TaxLine, ...]
    "ITBMS by rate: the sums of the lines' bases and taxes, as each invoice's own taxes are"


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisteredPaymentView:
    invoice: InvoiceView
    payment: PaymentView


@dataclass(frozen=True, slots=True, kw_only=True)
class QuoteView:
    id: str
    number: str
    client_id: str | None
    client_name: str
    client_ruc: str | None
    client_dv: str | None
    ad_hoc_emails: tuple[str, ...]
    issue_date: date
    valid_until: date
    currency: Currency
    lines: tuple[LineView, ...]
    taxes: tuple[TaxLine, ...]
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal
    status: QuoteStatus
    created_by: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientStatementView:
    client: ClientView
    statement: Statement


# --- filters and sorts --------------------------------------------------------------------------


class InvoiceSortField(StrEnum):
    DATE = "DATE"
    "the issue date"
    BALANCE = "BALANCE"
    DUE_DATE = "DUE_DATE"


class SortDirection(StrEnum):
    ASC = "ASC"
    DESC = "DESC"


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceSort:
    """Ties are broken by invoice id, in the same direction."""

    field: InvoiceSortField = InvoiceSortField.DATE
    direction: SortDirection = SortDirection.DESC


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceFilter:
    """Every given criterion must hold. ``statuses``: any of them (empty: all).
    ``due_before`` and ``due_after`` are strict: due strictly before / strictly after that day.
    ``issued_from``/``issued_to`` and ``min_total``/``max_total`` are inclusive."""

    client_id: str | None = None
    statuses: frozenset[InvoiceStatus] = field(default_factory=frozenset)
    due_before: date | None = None
    due_after: date | None = None
    issued_from: date | None = None
    issued_to: date | None = None
    min_total: Decimal | None = None
    max_total: Decimal | None = None
    currency: Currency | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class QuoteFilter:
    client_id: str | None = None


# --- cursors ------------------------------------------------------------------------------------


def _encode(*parts: str) -> str:
    return base64.urlsafe_b64encode("|".join(parts).encode()).decode().rstrip("=")


def _decode(text: str, count: int) -> list[str]:
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
    parts = raw.split("|")
    if len(parts) != count:
        raise ValueError("wrong number of parts")
    return parts


def _not_ours(field: str) -> InvalidInput:
    return InvalidInput(f"{field} is not a cursor this API returned", field=field)


_CENT = Decimal("0.01")
_MAX_BALANCE = Decimal(10) ** 16
_CURSOR_ERRORS = (ValueError, UnicodeDecodeError, binascii.Error, InvalidOperation, InvalidInput)


@dataclass(frozen=True, slots=True)
class ClientCursor:
    """A position in the newest-first list of clients."""

    created_at: datetime
    client_id: str

    @classmethod
    def of(cls, view: ClientView) -> ClientCursor:
        return cls(view.created_at, view.id)

    def encode(self) -> str:
        return _encode("client", self.created_at.isoformat(), self.client_id)

    @classmethod
    def decode(cls, text: str, *, field: str = "after") -> ClientCursor:
        try:
            kind, moment, client_id = _decode(text, 3)
            created_at = datetime.fromisoformat(moment)
            if kind != "client" or created_at.tzinfo is None:
                raise ValueError("not a client cursor")
            return cls(created_at, parse_id(client_id, field=field))
        except _CURSOR_ERRORS:
            raise _not_ours(field) from None


def sort_key(view: InvoiceView | InvoiceSummaryView, field: InvoiceSortField) -> date | Decimal:
    """The value an invoice list is sorted on (ties broken by id)."""
    if field is InvoiceSortField.BALANCE:
        return view.balance
    return view.due_date if field is InvoiceSortField.DUE_DATE else view.issue_date


@dataclass(frozen=True, slots=True)
class InvoiceCursor:
    """A position in a list of invoices sorted by ``sort``; valid only with the same sort."""

    sort: InvoiceSort
    key: date | Decimal
    invoice_id: str

    @classmethod
    def of(cls, view: InvoiceView | InvoiceSummaryView, sort: InvoiceSort) -> InvoiceCursor:
        return cls(sort, sort_key(view, sort.field), view.id)

    def encode(self) -> str:
        return _encode(
            "invoice", self.sort.field.value, self.sort.direction.value, str(self.key), self.invoice_id
        )

    @classmethod
    def decode(cls, text: str, sort: InvoiceSort, *, field: str = "after") -> InvoiceCursor:
        try:
            kind, sort_field, direction, key, invoice_id = _decode(text, 5)
            if kind != "invoice":
                raise ValueError("not an invoice cursor")
            cursor_sort = InvoiceSort(field=InvoiceSortField(sort_field), direction=SortDirection(direction))
            value: date | Decimal
            if cursor_sort.field is not InvoiceSortField.BALANCE:
                value = date.fromisoformat(key)
            else:
                value = Decimal(key)
                if not value.is_finite() or abs(value) >= _MAX_BALANCE or value != value.quantize(_CENT):
                    raise ValueError("not a balance")
            cursor = cls(cursor_sort, value, parse_id(invoice_id, field=field))
        except _CURSOR_ERRORS:
            raise _not_ours(field) from None
        if cursor.sort != sort:
            raise InvalidInput(f"{field} was returned for another sort; start again without it", field=field)
        return cursor


@dataclass(frozen=True, slots=True)
class QuoteCursor:
    """A position in the list of quotes, newest issue date first."""

    issue_date: date
    quote_id: str

    @classmethod
    def of(cls, view: QuoteView) -> QuoteCursor:
        return cls(view.issue_date, view.id)

    def encode(self) -> str:
        return _encode("quote", self.issue_date.isoformat(), self.quote_id)

    @classmethod
    def decode(cls, text: str, *, field: str = "after") -> QuoteCursor:
        try:
            kind, day, quote_id = _decode(text, 3)
            if kind != "quote":
                raise ValueError("not a quote cursor")
            return cls(date.fromisoformat(day), parse_id(quote_id, field=field))
        except _CURSOR_ERRORS:
            raise _not_ours(field) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditNoteView:
    id: str
    number: str
    invoice_id: str
    invoice_number: str
    client_id: str | None
    client_name: str
    client_ruc: str | None
    client_dv: str | None
    issue_date: date
    currency: Currency
    reason: str
    lines: tuple[LineView, ...]
    taxes: tuple[TaxLine, ...]
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal
    legal_status: LegalStatus
    cufe: str | None
    pac_document_id: str | None
    qr_url: str | None
    authorization_protocol: str | None
    authorized_at: datetime | None
    legal_message: str | None
    created_by: str | None
    created_at: datetime


def credit_note_view(note: CreditNote) -> CreditNoteView:
    return CreditNoteView(
        id=note.id,
        number=note.number,
        invoice_id=note.invoice_id,
        invoice_number=note.invoice_number,
        client_id=note.client_id,
        client_name=note.client_name,
        client_ruc=note.client_ruc,
        client_dv=note.client_dv,
        issue_date=note.issue_date,
        currency=Currency(note.currency),
        reason=note.reason,
        lines=tuple(
            LineView.of(
                position=line.position, description=line.description, quantity=line.quantity,
                unit_price=line.unit_price, discount=line.discount, tax_rate=line.tax_rate,
            )
            for line in sorted(note.lines, key=lambda line: line.position)
        ),
        taxes=note.taxes,
        subtotal=note.subtotal,
        discount_total=note.discount_total,
        tax_total=note.tax_total,
        total=note.total,
        legal_status=LegalStatus(note.legal_status),
        cufe=note.cufe,
        pac_document_id=note.pac_document_id,
        qr_url=note.qr_url,
        authorization_protocol=note.authorization_protocol,
        authorized_at=note.authorized_at,
        legal_message=note.legal_message,
        created_by=note.created_by,
        created_at=note.created_at,
    )
