"""The statement of a client's account for a period, computed from its invoices and payments.

Pure: it takes the facts (every non-void invoice of the client in one currency issued up to the
end of the period, and their payments up to that day) and returns the statement.

- opening balance: invoices issued before ``period_from`` minus payments and credit notes dated
  before it;
- entries: invoices (debit), payments and credit notes (credit) dated within the period, in date
  order (on one day, invoices, then credit notes, then payments), each with the running balance
  and a description (the invoice's first line, the payment's method and reference, the credit
  note's reason);
- closing balance: opening + debits − credits;
- ageing: what is still open on ``period_to`` of each invoice, by days past its due date counted
  at ``as_of`` (by default the period's end; the caller passes today when the period is not over):
  current (not yet due), 1–30, 31–60, 61–90, over 90. The buckets add up to the closing balance.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from domain.invoicing.errors import InvalidDateRange
from domain.invoicing.lines import ZERO
from domain.invoicing.values import Currency


class EntryKind(StrEnum):
    INVOICE = "INVOICE"
    PAYMENT = "PAYMENT"
    CREDIT_NOTE = "CREDIT_NOTE"


@dataclass(frozen=True, slots=True, kw_only=True)
class StatementInvoice:
    invoice_id: str
    number: str
    issue_date: date
    due_date: date
    total: Decimal
    voided: bool = False
    description: str = ""  # its first line's


@dataclass(frozen=True, slots=True, kw_only=True)
class StatementCredit:
    """A credit note: it credits the client's account on its issue date, against its invoice."""

    credit_note_id: str
    invoice_id: str
    number: str
    issue_date: date
    total: Decimal
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StatementPayment:
    payment_id: str
    invoice_id: str
    paid_on: date
    amount: Decimal
    method: str
    reference: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class StatementEntry:
    date: date
    kind: EntryKind
    invoice_id: str
    invoice_number: str
    payment_id: str | None
    method: str | None
    reference: str | None
    due_date: date | None
    debit: Decimal
    credit: Decimal
    balance: Decimal
    description: str = ""
    document_number: str = ""  # the invoice's, or the credit note's (NC-...)


@dataclass(frozen=True, slots=True, kw_only=True)
class Ageing:
    current: Decimal = ZERO
    days_1_30: Decimal = ZERO
    days_31_60: Decimal = ZERO
    days_61_90: Decimal = ZERO
    over_90: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.current + self.days_1_30 + self.days_31_60 + self.days_61_90 + self.over_90


def ageing_bucket(days_past_due: int) -> str:
    """The name of the ``Ageing`` field an amount ``days_past_due`` days past due falls into."""
    if days_past_due <= 0:
        return "current"
    if days_past_due <= 30:
        return "days_1_30"
    if days_past_due <= 60:
        return "days_31_60"
    if days_past_due <= 90:
        return "days_61_90"
    return "over_90"


def age(open_amounts: Iterable[tuple[date, Decimal]], as_of: date) -> Ageing:
    """What is open, by due date, in the ``Ageing`` buckets counted at ``as_of``."""
    buckets: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for due_date, open_amount in open_amounts:
        if open_amount != 0:
            buckets[ageing_bucket((as_of - due_date).days)] += open_amount
    return Ageing(**buckets)


@dataclass(frozen=True, slots=True, kw_only=True)
class Statement:
    client_id: str
    period_from: date
    period_to: date
    currency: Currency
    opening_balance: Decimal
    entries: tuple[StatementEntry, ...]
    total_debits: Decimal
    total_credits: Decimal
    closing_balance: Decimal
    ageing: Ageing
    as_of: date | None = None  # the day the ageing is counted at (None: period_to)


def check_period(period_from: date, period_to: date) -> None:
    if period_to < period_from:
        raise InvalidDateRange(f"to ({period_to}) must not be before from ({period_from})", field="to")


def compute_statement(
    *,
    client_id: str,
    period_from: date,
    period_to: date,
    currency: Currency,
    invoices: Iterable[StatementInvoice],
    payments: Iterable[StatementPayment],
    credits: Iterable[StatementCredit] = (),
    as_of: date | None = None,
) -> Statement:
    check_period(period_from, period_to)
    aged_at = period_to if as_of is None else as_of
    live = {
        invoice.invoice_id: invoice
        for invoice in invoices
        if not invoice.voided and invoice.issue_date <= period_to
    }
    counted = [p for p in payments if p.invoice_id in live and p.paid_on <= period_to]
    credited = [c for c in credits if c.invoice_id in live and c.issue_date <= period_to]

    opening = (
        sum((i.total for i in live.values() if i.issue_date < period_from), ZERO)
        - sum((p.amount for p in counted if p.paid_on < period_from), ZERO)
        - sum((c.total for c in credited if c.issue_date < period_from), ZERO)
    )

    moves: list[tuple[tuple[object, ...], StatementEntry]] = []
    for invoice in live.values():
        if invoice.issue_date >= period_from:
            key = (invoice.issue_date, 0, invoice.number, invoice.invoice_id)
            moves.append((key, _entry(invoice.issue_date, EntryKind.INVOICE, invoice, None, invoice.total, ZERO)))
    for payment in counted:
        if payment.paid_on >= period_from:
            invoice = live[payment.invoice_id]
            key = (payment.paid_on, 1, invoice.number, payment.payment_id)
            moves.append((key, _entry(payment.paid_on, EntryKind.PAYMENT, invoice, payment, ZERO, payment.amount)))
    for note in credited:
        if note.issue_date >= period_from:
            invoice = live[note.invoice_id]
            key = (note.issue_date, 0.5, note.number, note.credit_note_id)
            moves.append((key, _credit_entry(note, invoice)))
    moves.sort(key=lambda move: move[0])  # type: ignore[arg-type, return-value]

    entries, balance = [], opening
    for _key, entry in moves:
        balance = balance + entry.debit - entry.credit
        entries.append(
            StatementEntry(
                date=entry.date,
                kind=entry.kind,
                invoice_id=entry.invoice_id,
                invoice_number=entry.invoice_number,
                payment_id=entry.payment_id,
                method=entry.method,
                reference=entry.reference,
                due_date=entry.due_date,
                debit=entry.debit,
                credit=entry.credit,
                balance=balance,
                description=entry.description,
                document_number=entry.document_number,
            )
        )

    paid_by_invoice: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for payment in counted:
        paid_by_invoice[payment.invoice_id] += payment.amount
    for note in credited:
        paid_by_invoice[note.invoice_id] += note.total
    ageing = age(((i.due_date, i.total - paid_by_invoice[i.invoice_id]) for i in live.values()), aged_at)

    return Statement(
        client_id=client_id,
        period_from=period_from,
        period_to=period_to,
        currency=currency,
        opening_balance=opening,
        entries=tuple(entries),
        total_debits=sum((e.debit for e in entries), ZERO),
        total_credits=sum((e.credit for e in entries), ZERO),
        closing_balance=balance,
        ageing=ageing,
        as_of=aged_at,
    )


def _credit_entry(note: StatementCredit, invoice: StatementInvoice) -> StatementEntry:
    return StatementEntry(
        date=note.issue_date,
        kind=EntryKind.CREDIT_NOTE,
        invoice_id=invoice.invoice_id,
        invoice_number=invoice.number,
        payment_id=None,
        method=None,
        reference=None,
        due_date=None,
        debit=ZERO,
        credit=note.total,
        balance=ZERO,
        description=note.reason,
        document_number=note.number,
    )


def _entry(
    day: date,
    kind: EntryKind,
    invoice: StatementInvoice,
    payment: StatementPayment | None,
    debit: Decimal,
    credit: Decimal,
) -> StatementEntry:
    return StatementEntry(
        date=day,
        kind=kind,
        invoice_id=invoice.invoice_id,
        invoice_number=invoice.number,
        payment_id=None if payment is None else payment.payment_id,
        method=None if payment is None else payment.method,
        reference=None if payment is None else payment.reference,
        due_date=invoice.due_date if payment is None else None,
        debit=debit,
        credit=credit,
        balance=ZERO,
        description=invoice.description if payment is None else "",
        document_number=invoice.number,
    )
