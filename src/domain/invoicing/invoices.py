"""Invoices: what a client owes, the payments against it, and where it stands with the PAC and the DGI.

The business status is derived, never stored: VOID once voided, PAID when nothing is owed,
PAST_DUE when something is owed after the due date, PARTIALLY_PAID when something was paid,
UNPAID otherwise. ``paid``, ``credited`` and ``balance`` are kept on the invoice so lists can filter
and sort on them; they change only through ``register_payment`` and ``apply_credit`` (a credit
note): ``balance = total − paid − credited``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from domain.invoicing.clients import BillTo
from domain.invoicing.errors import (
    CreditExceedsBalance,
    InvalidDateRange,
    InvoiceHasCreditNotes,
    InvoiceHasPayments,
    InvoiceIsFiscal,
    InvoiceIsVoid,
    PaymentExceedsBalance,
)
from domain.invoicing.fiscal_documents import ElectronicFiscalDocument, LegalStatus
from domain.invoicing.lines import ZERO, DocumentLine, LineInput, TaxLine, compute_totals, parse_lines
from domain.invoicing.values import Currency, parse_money, parse_text
from domain.shared.errors import InvalidInput, NotFound
from domain.shared.model import DomainEvent, new_id

INVOICE_NUMBER_PREFIX = "F-"


def invoice_number(sequence: int) -> str:
    """The number the tenant's counter gives its ``sequence``-th invoice: F-000001."""
    return f"{INVOICE_NUMBER_PREFIX}{sequence:06d}"


class InvoiceStatus(StrEnum):
    UNPAID = "UNPAID"
    PARTIALLY_PAID = "PARTIALLY_PAID"
    PAID = "PAID"
    PAST_DUE = "PAST_DUE"
    VOID = "VOID"


class PaymentMethod(StrEnum):
    CASH = "CASH"
    BANK_TRANSFER = "BANK_TRANSFER"
    ACH = "ACH"
    CHECK = "CHECK"
    CARD = "CARD"
    YAPPY = "YAPPY"
    OTHER = "OTHER"

    @classmethod
    def parse(cls, value: object, *, field: str = "method") -> PaymentMethod:
        try:
            return cls(value)
        except ValueError:
            raise InvalidInput(
                f"{field} must be one of {', '.join(cls)}, not {str(value)[:32]!r}", field=field
            ) from None


def invoice_status(
    *, voided: bool, paid: Decimal, balance: Decimal, due_date: date, today: date
) -> InvoiceStatus:
    """The one rule of the business status (the SQL reader spells the same rule as a CASE)."""
    if voided:
        return InvoiceStatus.VOID
    if balance == 0:
        return InvoiceStatus.PAID
    if due_date < today:
        return InvoiceStatus.PAST_DUE
    if paid > 0:
        return InvoiceStatus.PARTIALLY_PAID
    return InvoiceStatus.UNPAID


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceCreated(DomainEvent):
    invoice_id: str
    number: str
    client_id: str | None
    currency: Currency
    total: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoicePaymentRegistered(DomainEvent):
    invoice_id: str
    payment_id: str
    amount: Decimal
    balance: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoicePaymentRemoved(DomainEvent):
    """A payment taken back (deleted where it was recorded: QuickBooks)."""

    invoice_id: str
    payment_id: str
    amount: Decimal
    balance: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceVoided(DomainEvent):
    invoice_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceLegalStatusChanged(DomainEvent):
    invoice_id: str
    previous: LegalStatus
    status: LegalStatus


class InvoiceLine(DocumentLine):
    def __init__(self, *, invoice_id: str, **values: object) -> None:
        super().__init__(**values)  # type: ignore[arg-type]
        self.invoice_id = invoice_id


class Payment:
    def __init__(
        self,
        *,
        id: str,
        tenant_id: str,
        invoice_id: str,
        amount: Decimal,
        paid_on: date,
        method: PaymentMethod,
        reference: str | None,
        created_at: datetime,
    ) -> None:
        self.id = id
        self.tenant_id = tenant_id
        self.invoice_id = invoice_id
        self.amount = amount
        self.paid_on = paid_on
        self.method = method
        self.reference = reference
        self.created_at = created_at


class Invoice(ElectronicFiscalDocument):
    lines: list[InvoiceLine]
    payments: list[Payment]

    def __init__(
        self,
        *,
        id: str,
        tenant_id: str,
        number: str,
        client_id: str | None,
        client_name: str,
        client_ruc: str | None,
        client_dv: str | None,
        ad_hoc_emails: tuple[str, ...],
        issue_date: date,
        due_date: date,
        currency: Currency,
        subtotal: Decimal,
        discount_total: Decimal,
        tax_total: Decimal,
        total: Decimal,
        paid: Decimal,
        balance: Decimal,
        voided_at: datetime | None,
        legal_status: LegalStatus,
        cufe: str | None,
        pac_document_id: str | None,
        qr_url: str | None,
        authorization_protocol: str | None,
        authorized_at: datetime | None,
        legal_message: str | None,
        created_by: str | None,
        created_at: datetime,
        credited: Decimal = ZERO,
    ) -> None:
        self.id = id
        self.tenant_id = tenant_id
        self.number = number
        self.client_id = client_id
        self.client_name = client_name
        self.client_ruc = client_ruc
        self.client_dv = client_dv
        self.ad_hoc_emails = ad_hoc_emails
        self.issue_date = issue_date
        self.due_date = due_date
        self.credited = credited
        self.currency = currency
        self.subtotal = subtotal
        self.discount_total = discount_total
        self.tax_total = tax_total
        self.total = total
        self.paid = paid
        self.balance = balance
        self.voided_at = voided_at
        self.legal_status = legal_status
        self.cufe = cufe
        self.pac_document_id = pac_document_id
        self.qr_url = qr_url
        self.authorization_protocol = authorization_protocol
        self.authorized_at = authorized_at
        self.legal_message = legal_message
        self.created_by = created_by
        self.created_at = created_at
        self.lines = []
        self.payments = []

    @classmethod
    def create(
        cls,
        *,
        tenant_id: str,
        number: str,
        bill_to: BillTo,
        issue_date: date,
        due_date: date,
        currency: Currency,
        lines: Sequence[LineInput],
        pac_document_id: str | None = None,
        created_by: str | None,
        now: datetime,
    ) -> Invoice:
        if due_date < issue_date:
            raise InvalidDateRange(
                f"dueDate ({due_date}) must not be before issueDate ({issue_date})", field="dueDate"
            )
        valid = parse_lines(lines)
        totals = compute_totals(valid)
        invoice = cls(
            id=new_id(),
            tenant_id=tenant_id,
            number=number,
            client_id=bill_to.client_id,
            client_name=bill_to.name,
            client_ruc=bill_to.ruc,
            client_dv=bill_to.dv,
            ad_hoc_emails=bill_to.emails,
            issue_date=issue_date,
            due_date=due_date,
            currency=Currency(currency),
            subtotal=totals.subtotal,
            discount_total=totals.discount_total,
            tax_total=totals.tax_total,
            total=totals.total,
            paid=ZERO,
            balance=totals.total,
            voided_at=None,
            legal_status=LegalStatus.NONE,
            cufe=None,
            pac_document_id=parse_text(pac_document_id, field="pacDocumentId", max_length=128),
            qr_url=None,
            authorization_protocol=None,
            authorized_at=None,
            legal_message=None,
            created_by=created_by,
            created_at=now,
        )
        invoice.lines = [
            InvoiceLine(
                id=new_id(),
                tenant_id=tenant_id,
                invoice_id=invoice.id,
                position=line.position,
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount=line.discount,
                tax_rate=line.tax_rate,
            )
            for line in valid
        ]
        invoice.record(
            InvoiceCreated(
                tenant_id=tenant_id,
                invoice_id=invoice.id,
                number=number,
                client_id=invoice.client_id,
                currency=invoice.currency,
                total=invoice.total,
            )
        )
        return invoice

    # --- what is owed -----------------------------------------------------------------------------

    @property
    def taxes(self) -> tuple[TaxLine, ...]:
        return compute_totals(self.lines).taxes

    @property
    def is_void(self) -> bool:
        return self.voided_at is not None

    def status(self, today: date) -> InvoiceStatus:
        return invoice_status(
            voided=self.is_void, paid=self.paid, balance=self.balance, due_date=self.due_date, today=today
        )

    def register_payment(
        self,
        *,
        amount: object,
        paid_on: date,
        method: object,
        reference: object = None,
        now: datetime,
    ) -> Payment:
        if self.is_void:
            raise InvoiceIsVoid(f"invoice {self.number} is void; it takes no payments", field="invoiceId")
        value = parse_money(amount, field="amount", positive=True)
        if value > self.balance:
            raise PaymentExceedsBalance(
                f"amount ({value}) is more than the balance of invoice {self.number} ({self.balance})",
                field="amount",
            )
        if paid_on < self.issue_date:
            raise InvalidDateRange(
                f"date ({paid_on}) must not be before the invoice's issue date ({self.issue_date})", field="date"
            )
        payment = Payment(
            id=new_id(),
            tenant_id=self.tenant_id,
            invoice_id=self.id,
            amount=value,
            paid_on=paid_on,
            method=PaymentMethod.parse(method),
            reference=parse_text(reference, field="reference", max_length=200),
            created_at=now,
        )
        self.payments.append(payment)
        self.paid += value
        self.balance = self.total - self.paid - self.credited
        self.record(
            InvoicePaymentRegistered(
                tenant_id=self.tenant_id,
                invoice_id=self.id,
                payment_id=payment.id,
                amount=value,
                balance=self.balance,
            )
        )
        return payment

    def remove_payment(self, payment_id: str) -> Payment:
        """Take a payment back: what it paid is owed again."""
        payment = next((p for p in self.payments if p.id == payment_id), None)
        if payment is None:
            raise NotFound(f"invoice {self.number} has no payment {payment_id}", field="paymentId")
        self.payments.remove(payment)
        self.paid -= payment.amount
        self.balance = self.total - self.paid - self.credited
        self.record(
            InvoicePaymentRemoved(
                tenant_id=self.tenant_id, invoice_id=self.id, payment_id=payment.id, amount=payment.amount,
                balance=self.balance,
            )
        )
        return payment

    def apply_credit(self, amount: Decimal, *, credit_note_number: str) -> None:
        """A credit note of ``amount`` reduces what is owed (never below zero)."""
        if self.is_void:
            raise InvoiceIsVoid(f"invoice {self.number} is void; it takes no credit notes", field="invoiceId")
        if amount > self.balance:
            raise CreditExceedsBalance(
                f"credit note {credit_note_number} ({amount}) is more than the balance of invoice "
                f"{self.number} ({self.balance})",
                field="lines",
            )
        self.credited += amount
        self.balance = self.total - self.paid - self.credited

    def void(self, *, now: datetime) -> bool:
        """Void the invoice (once; voiding it again changes nothing). Refused once it has payments."""
        if self.is_void:
            return False
        if self.legal_status in (LegalStatus.PAC_AUTHORIZED, LegalStatus.DGI_AUTHORIZED):
            raise InvoiceIsFiscal(
                f"invoice {self.number} is authorised ({self.legal_status}); a fiscal document is "
                "cancelled with a credit note, not voided",
                field="id",
            )
        if self.credited:
            raise InvoiceHasCreditNotes(
                f"invoice {self.number} has credit notes of {self.credited}; it cannot be voided",
                field="id",
            )
        if self.payments:
            raise InvoiceHasPayments(
                f"invoice {self.number} has payments of {self.paid}; an invoice with payments cannot be "
                "voided (issue a credit note instead)",
                field="id",
            )
        self.voided_at = now
        self.record(InvoiceVoided(tenant_id=self.tenant_id, invoice_id=self.id))
        return True

    def _legal_status_changed(self, previous: LegalStatus, status: LegalStatus) -> DomainEvent:
        return InvoiceLegalStatusChanged(
            tenant_id=self.tenant_id, invoice_id=self.id, previous=previous, status=status
        )
