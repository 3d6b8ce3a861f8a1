"""Quotes (cotizaciones): an offer to a client, with lines and totals computed as for invoices.

The stored status moves DRAFT → SENT → ACCEPTED or REJECTED. EXPIRED is derived: a quote still
DRAFT or SENT after its ``valid_until`` day is expired, and can no longer be accepted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from domain.invoicing.clients import BillTo
from domain.invoicing.errors import InvalidDateRange, QuoteIsClosed
from domain.invoicing.lines import DocumentLine, LineInput, TaxLine, compute_totals, parse_lines
from domain.invoicing.values import Currency
from domain.shared.model import Aggregate, DomainEvent, new_id

QUOTE_NUMBER_PREFIX = "COT-"


def quote_number(sequence: int) -> str:
    """The number the tenant's counter gives its ``sequence``-th quote: COT-000001."""
    return f"{QUOTE_NUMBER_PREFIX}{sequence:06d}"


class QuoteStatus(StrEnum):
    DRAFT = "DRAFT"
    SENT = "SENT"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


def quote_status(*, stored: QuoteStatus, valid_until: date, today: date) -> QuoteStatus:
    """The status shown: the stored one, or EXPIRED for an open quote past its validity."""
    if stored in (QuoteStatus.DRAFT, QuoteStatus.SENT) and valid_until < today:
        return QuoteStatus.EXPIRED
    return QuoteStatus(stored)


@dataclass(frozen=True, slots=True, kw_only=True)
class QuoteCreated(DomainEvent):
    quote_id: str
    number: str
    client_id: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class QuoteStatusChanged(DomainEvent):
    quote_id: str
    status: QuoteStatus


class QuoteLine(DocumentLine):
    def __init__(self, *, quote_id: str, **values: object) -> None:
        super().__init__(**values)  # type: ignore[arg-type]
        self.quote_id = quote_id


class Quote(Aggregate):
    lines: list[QuoteLine]

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
        valid_until: date,
        currency: Currency,
        subtotal: Decimal,
        discount_total: Decimal,
        tax_total: Decimal,
        total: Decimal,
        status: QuoteStatus,
        created_by: str | None,
        created_at: datetime,
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
        self.valid_until = valid_until
        self.currency = currency
        self.subtotal = subtotal
        self.discount_total = discount_total
        self.tax_total = tax_total
        self.total = total
        self.status = status
        self.created_by = created_by
        self.created_at = created_at
        self.lines = []

    @classmethod
    def create(
        cls,
        *,
        tenant_id: str,
        number: str,
        bill_to: BillTo,
        issue_date: date,
        valid_until: date,
        currency: Currency,
        lines: Sequence[LineInput],
        created_by: str | None,
        now: datetime,
    ) -> Quote:
        if valid_until < issue_date:
            raise InvalidDateRange(
                f"validUntil ({valid_until}) must not be before issueDate ({issue_date})", field="validUntil"
            )
        valid = parse_lines(lines)
        totals = compute_totals(valid)
        quote = cls(
            id=new_id(),
            tenant_id=tenant_id,
            number=number,
            client_id=bill_to.client_id,
            client_name=bill_to.name,
            client_ruc=bill_to.ruc,
            client_dv=bill_to.dv,
            ad_hoc_emails=bill_to.emails,
            issue_date=issue_date,
            valid_until=valid_until,
            currency=Currency(currency),
            subtotal=totals.subtotal,
            discount_total=totals.discount_total,
            tax_total=totals.tax_total,
            total=totals.total,
            status=QuoteStatus.DRAFT,
            created_by=created_by,
            created_at=now,
        )
        quote.lines = [
            QuoteLine(
                id=new_id(),
                tenant_id=tenant_id,
                quote_id=quote.id,
                position=line.position,
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount=line.discount,
                tax_rate=line.tax_rate,
            )
            for line in valid
        ]
        quote.record(
            QuoteCreated(tenant_id=tenant_id, quote_id=quote.id, number=number, client_id=quote.client_id)
        )
        return quote

    @property
    def taxes(self) -> tuple[TaxLine, ...]:
        return compute_totals(self.lines).taxes

    def status_on(self, today: date) -> QuoteStatus:
        return quote_status(stored=QuoteStatus(self.status), valid_until=self.valid_until, today=today)

    def mark_sent(self, *, today: date) -> None:
        self._move(QuoteStatus.SENT, allowed_from=(QuoteStatus.DRAFT,), today=today)

    def accept(self, *, today: date) -> None:
        self._move(QuoteStatus.ACCEPTED, allowed_from=(QuoteStatus.DRAFT, QuoteStatus.SENT), today=today)

    def reject(self, *, today: date) -> None:
        self._move(QuoteStatus.REJECTED, allowed_from=(QuoteStatus.DRAFT, QuoteStatus.SENT), today=today)

    def _move(self, target: QuoteStatus, *, allowed_from: tuple[QuoteStatus, ...], today: date) -> None:
        shown = self.status_on(today)
        if shown == target:
            return
        if shown not in allowed_from:
            raise QuoteIsClosed(
                f"quote {self.number} is {shown.value}; it cannot become {target.value}", field="status"
            )
        self.status = target
        self.record(QuoteStatusChanged(tenant_id=self.tenant_id, quote_id=self.id, status=target))
