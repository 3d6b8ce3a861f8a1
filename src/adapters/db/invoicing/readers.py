"""Invoicing on SQLAlchemy: the tenant-bound readers (views) of clients, invoices and quotes.

The readers filter and sort in SQL: an invoice's business status is the CASE over its stored
``voided_at``, ``balance``, ``paid`` and ``due_date`` and today's date that spells the rule of
``domain.invoicing.invoices.invoice_status``. Lists load their lines, payments and contacts in
one query per kind, whatever the number of rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from functools import cache, lru_cache
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, bindparam, case, func, literal, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.types import Date

from adapters.db.invoicing.tables import (
    client_contacts,
    clients,
    credit_notes,
    invoice_lines,
    invoice_payments,
    invoices,
    quote_lines,
    quotes,
)
from application.invoicing.views import (
    ClientContactView,
    ClientCursor,
    ClientView,
    InvoiceCursor,
    InvoiceFilter,
    InvoiceSort,
    InvoiceSortField,
    InvoiceSummaryView,
    InvoiceTotalsView,
    InvoiceView,
    LineView,
    PaymentView,
    QuoteCursor,
    QuoteFilter,
    QuoteView,
    SortDirection,
)
from domain.invoicing.invoices import InvoiceStatus
from domain.invoicing.lines import compute_totals
from domain.invoicing.quotes import quote_status
from domain.invoicing.statements import StatementInvoice, StatementPayment
from domain.invoicing.values import Currency


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _line_views(session: Session, table: Any, parent: Any, tenant_id: str, ids: list[str]) -> dict[str, list[LineView]]:
    if not ids:
        return {}
    found: dict[str, list[LineView]] = defaultdict(list)
    statement = (
        select(table)
        .where(table.c.tenant_id == tenant_id, parent.in_(ids))
        .order_by(parent, table.c.position)
    )
    for row in session.execute(statement):
        found[row._mapping[parent.name]].append(
            LineView.of(
                position=row.position,
                description=row.description,
                quantity=row.quantity,
                unit_price=row.unit_price,
                discount=row.discount,
                tax_rate=row.tax_rate,
            )
        )
    return found


class SqlAlchemyClientReader:
    def __init__(self, session: Session, tenant_id: str) -> None:
        self._session = session
        self._tenant_id = tenant_id

    def _select(self) -> Select[Any]:
        return select(clients).where(clients.c.tenant_id == self._tenant_id)

    def _views(self, statement: Select[Any]) -> list[ClientView]:
        rows = list(self._session.execute(statement))
        contacts: dict[str, list[ClientContactView]] = defaultdict(list)
        if rows:
            for contact in self._session.execute(
                select(client_contacts)
                .where(
                    client_contacts.c.tenant_id == self._tenant_id,
                    client_contacts.c.client_id.in_([row.id for row in rows]),
                )
                .order_by(client_contacts.c.client_id, client_contacts.c.position)
            ):
                contacts[contact.client_id].append(
                    ClientContactView(
                        name=contact.name, email=contact.email, phone=contact.phone, role=contact.role
                    )
                )
        return [
            ClientView(
                id=row.id,
                name=row.name,
                ruc=row.ruc,
                dv=row.dv,
                taxpayer_type=row.taxpayer_type,
                address=row.address,
                contacts=tuple(contacts.get(row.id, ())),
                created_at=row.created_at,
                updated_at=row.updated_at,
                default_channel=row.default_channel,
            )
            for row in rows
        ]

    def get(self, client_id: str) -> ClientView | None:
        found = self._views(self._select().where(clients.c.id == client_id))
        return found[0] if found else None

    def get_many(self, client_ids: Sequence[str]) -> list[ClientView]:
        if not client_ids:
            return []
        return self._views(self._select().where(clients.c.id.in_(list(client_ids))))

    def name(self, client_id: str) -> str | None:
        return self._session.execute(
            select(clients.c.name).where(clients.c.tenant_id == self._tenant_id, clients.c.id == client_id)
        ).scalar_one_or_none()

    def find(self, search: str | None, *, first: int, after: ClientCursor | None) -> list[ClientView]:
        statement = self._select()
        if search:
            pattern = f"%{_like_escape(search.lower())}%"
            statement = statement.where(
                or_(
                    func.lower(clients.c.name).like(pattern, escape="\\"),
                    func.lower(clients.c.ruc).like(pattern, escape="\\"),
                )
            )
        if after:
            statement = statement.where(
                or_(
                    clients.c.created_at < after.created_at,
                    and_(clients.c.created_at == after.created_at, clients.c.id < after.client_id),
                )
            )
        return self._views(statement.order_by(clients.c.created_at.desc(), clients.c.id.desc()).limit(first))


@lru_cache(maxsize=8)
def invoice_status_sql(today: date) -> ColumnElement[str]:
    """``invoice_status`` as SQL, for filters: VOID, PAID, PAST_DUE, PARTIALLY_PAID, UNPAID. Kept
    per day (SQL expressions are immutable): built anew it was a third of a list's CPU time."""
    return case(
        (invoices.c.voided_at.is_not(None), literal(InvoiceStatus.VOID.value)),
        (invoices.c.balance == 0, literal(InvoiceStatus.PAID.value)),
        (invoices.c.due_date < literal(today, Date), literal(InvoiceStatus.PAST_DUE.value)),
        (invoices.c.paid > 0, literal(InvoiceStatus.PARTIALLY_PAID.value)),
        else_=literal(InvoiceStatus.UNPAID.value),
    )


_SORT_COLUMNS = {
    InvoiceSortField.DATE: invoices.c.issue_date,
    InvoiceSortField.BALANCE: invoices.c.balance,
    InvoiceSortField.DUE_DATE: invoices.c.due_date,
}


def _filtered(
    statement: Select[Any], filter: InvoiceFilter, sort: InvoiceSort, today: date, after: InvoiceCursor | None
) -> Select[Any]:
    """``statement`` with the filter's criteria, the cursor's position and the sort's order."""
    if filter.client_id is not None:
        statement = statement.where(invoices.c.client_id == filter.client_id)
    if filter.statuses:
        statement = statement.where(invoice_status_sql(today).in_(sorted(status.value for status in filter.statuses)))
    if filter.due_before is not None:
        statement = statement.where(invoices.c.due_date < filter.due_before)
    if filter.due_after is not None:
        statement = statement.where(invoices.c.due_date > filter.due_after)
    if filter.issued_from is not None:
        statement = statement.where(invoices.c.issue_date >= filter.issued_from)
    if filter.issued_to is not None:
        statement = statement.where(invoices.c.issue_date <= filter.issued_to)
    if filter.min_total is not None:
        statement = statement.where(invoices.c.total >= filter.min_total)
    if filter.max_total is not None:
        statement = statement.where(invoices.c.total <= filter.max_total)
    if filter.currency is not None:
        statement = statement.where(invoices.c.currency == filter.currency)
    key = _SORT_COLUMNS[sort.field]
    descending = sort.direction is SortDirection.DESC
    if after is not None:
        if descending:
            statement = statement.where(or_(key < after.key, and_(key == after.key, invoices.c.id < after.invoice_id)))
        else:
            statement = statement.where(or_(key > after.key, and_(key == after.key, invoices.c.id > after.invoice_id)))
    order = (key.desc(), invoices.c.id.desc()) if descending else (key.asc(), invoices.c.id.asc())
    return statement.order_by(*order)


@cache
def _open_amounts() -> Select[Any]:
    """Each live invoice of a client in a currency issued by ``on``, its due date, total, and its
    payments and credit notes dated by then (summed by index probes: ix_invoice_payments_invoice_id,
    ix_credit_notes_tenant_id_invoice_id); built once, on first use, its values bound on each run."""
    tenant_id, on = bindparam("tenant_id"), bindparam("on", type_=Date)
    paid = (
        select(func.coalesce(func.sum(invoice_payments.c.amount), 0))
        .where(
            invoice_payments.c.invoice_id == invoices.c.id,
            invoice_payments.c.tenant_id == tenant_id,
            invoice_payments.c.paid_on <= on,
        )
        .scalar_subquery()
    )
    credited = (
        select(func.coalesce(func.sum(credit_notes.c.total), 0))
        .where(
            credit_notes.c.tenant_id == tenant_id,
            credit_notes.c.invoice_id == invoices.c.id,
            credit_notes.c.issue_date <= on,
        )
        .scalar_subquery()
    )
    return select(invoices.c.due_date, invoices.c.total, paid.label("paid"), credited.label("credited")).where(
        invoices.c.tenant_id == tenant_id,  # ix_invoices_tenant_id_client_id
        invoices.c.client_id == bindparam("client_id"),
        invoices.c.issue_date <= on,
        invoices.c.currency == bindparam("currency"),
        invoices.c.voided_at.is_(None),
    )


class SqlAlchemyInvoiceReader:
    def __init__(self, session: Session, tenant_id: str) -> None:
        self._session = session
        self._tenant_id = tenant_id

    def _select(self, today: date) -> Select[Any]:
        return select(invoices, invoice_status_sql(today).label("business_status")).where(
            invoices.c.tenant_id == self._tenant_id
        )

    def _views(self, statement: Select[Any]) -> list[InvoiceView]:
        rows = list(self._session.execute(statement))
        ids = [row.id for row in rows]
        lines = _line_views(self._session, invoice_lines, invoice_lines.c.invoice_id, self._tenant_id, ids)
        payments: dict[str, list[PaymentView]] = defaultdict(list)
        if ids:
            for payment in self._session.execute(
                select(invoice_payments)
                .where(invoice_payments.c.tenant_id == self._tenant_id, invoice_payments.c.invoice_id.in_(ids))
                .order_by(
                    invoice_payments.c.invoice_id,
                    invoice_payments.c.paid_on,
                    invoice_payments.c.created_at,
                    invoice_payments.c.id,
                )
            ):
                payments[payment.invoice_id].append(
                    PaymentView(
                        id=payment.id,
                        amount=payment.amount,
                        date=payment.paid_on,
                        method=payment.method,
                        reference=payment.reference,
                        created_at=payment.created_at,
                    )
                )
        return [_invoice_view(row, lines.get(row.id, []), payments.get(row.id, [])) for row in rows]

    def get(self, invoice_id: str, *, today: date) -> InvoiceView | None:
        found = self._views(self._select(today).where(invoices.c.id == invoice_id))
        return found[0] if found else None

    def get_many(self, invoice_ids: Sequence[str], *, today: date) -> list[InvoiceView]:
        if not invoice_ids:
            return []
        return self._views(self._select(today).where(invoices.c.id.in_(list(invoice_ids))))

    def find(
        self,
        filter: InvoiceFilter,
        sort: InvoiceSort,
        *,
        today: date,
        first: int,
        after: InvoiceCursor | None,
    ) -> list[InvoiceView]:
        return self._views(_filtered(self._select(today), filter, sort, today, after).limit(first))

    def summaries(
        self,
        filter: InvoiceFilter,
        sort: InvoiceSort,
        *,
        today: date,
        first: int,
        after: InvoiceCursor | None,
    ) -> list[InvoiceSummaryView]:
        c = invoices.c
        columns = (c.id, c.number, c.client_id, c.client_name, c.issue_date, c.due_date, c.currency, c.tax_total, c.total, c.paid, c.balance)
        statement = select(*columns, invoice_status_sql(today).label("business_status")).where(c.tenant_id == self._tenant_id)
        return [
            InvoiceSummaryView(
                id=row.id, number=row.number, client_id=row.client_id, client_name=row.client_name, issue_date=row.issue_date,
                due_date=row.due_date, currency=row.currency, tax_total=row.tax_total, total=row.total, paid=row.paid,
                balance=row.balance, status=InvoiceStatus(row.business_status),
            )
            for row in self._session.execute(_filtered(statement, filter, sort, today, after).limit(first))
        ]

    def totals(self, period_from: date, period_to: date, currency: Currency) -> InvoiceTotalsView:
        c = invoices.c
        of_period = and_(
            c.tenant_id == self._tenant_id, c.currency == currency, c.voided_at.is_(None),
            c.issue_date >= period_from, c.issue_date <= period_to,
        )
        sums = self._session.execute(
            select(
                func.count(),
                *(func.coalesce(func.sum(column), 0) for column in (c.total, c.paid, c.balance, c.tax_total)),
            ).where(of_period)
        ).one()
        lines = self._session.execute(
            select(invoice_lines.c.quantity, invoice_lines.c.unit_price, invoice_lines.c.discount, invoice_lines.c.tax_rate)
            .join(invoices, invoices.c.id == invoice_lines.c.invoice_id)
            .where(of_period, invoice_lines.c.tenant_id == self._tenant_id)
        )
        return InvoiceTotalsView(
            period_from=period_from, period_to=period_to, currency=currency, invoices=sums[0],
            total=sums[1], paid=sums[2], balance=sums[3], tax_total=sums[4], taxes=compute_totals(lines).taxes,
        )

    def statement_facts(
        self, client_id: str, currency: Currency, *, until: date
    ) -> tuple[list[StatementInvoice], list[StatementPayment]]:
        of_client = and_(
            invoices.c.tenant_id == self._tenant_id,
            invoices.c.client_id == client_id,
            invoices.c.currency == currency,
            invoices.c.issue_date <= until,
        )
        found = [
            StatementInvoice(
                invoice_id=row.id,
                number=row.number,
                issue_date=row.issue_date,
                due_date=row.due_date,
                total=row.total,
                voided=row.voided_at is not None,
                description=row.description or "",
            )
            for row in self._session.execute(
                select(
                    invoices.c.id,
                    invoices.c.number,
                    invoices.c.issue_date,
                    invoices.c.due_date,
                    invoices.c.total,
                    invoices.c.voided_at,
                    invoice_lines.c.description,
                )
                .outerjoin(
                    invoice_lines,
                    and_(invoice_lines.c.invoice_id == invoices.c.id, invoice_lines.c.position == 0),
                )
                .where(of_client)
                .order_by(invoices.c.issue_date, invoices.c.id)
            )
        ]
        paid = [
            StatementPayment(
                payment_id=row.id,
                invoice_id=row.invoice_id,
                paid_on=row.paid_on,
                amount=row.amount,
                method=row.method.value,
                reference=row.reference,
            )
            for row in self._session.execute(
                select(invoice_payments)
                .join(invoices, invoices.c.id == invoice_payments.c.invoice_id)
                .where(
                    of_client,
                    invoice_payments.c.tenant_id == self._tenant_id,
                    invoice_payments.c.paid_on <= until,
                )
                .order_by(invoice_payments.c.paid_on, invoice_payments.c.id)
            )
        ]
        return found, paid

    def open_amounts(self, client_id: str, currency: Currency, *, on: date) -> list[tuple[date, Decimal]]:
        rows = self._session.execute(
            _open_amounts(), {"tenant_id": self._tenant_id, "client_id": client_id, "currency": currency, "on": on}
        )
        return [(row.due_date, row.total - row.paid - row.credited) for row in rows]


def _invoice_view(row: Row[Any], lines: list[LineView], payments: list[PaymentView]) -> InvoiceView:
    return InvoiceView(
        id=row.id,
        number=row.number,
        client_id=row.client_id,
        client_name=row.client_name,
        client_ruc=row.client_ruc,
        client_dv=row.client_dv,
        ad_hoc_emails=row.ad_hoc_emails,
        issue_date=row.issue_date,
        due_date=row.due_date,
        currency=row.currency,
        lines=tuple(lines),
        taxes=compute_totals(lines).taxes,
        subtotal=row.subtotal,
        discount_total=row.discount_total,
        tax_total=row.tax_total,
        total=row.total,
        paid=row.paid,
        balance=row.balance,
        status=InvoiceStatus(row.business_status),
        payments=tuple(payments),
        voided_at=row.voided_at,
        legal_status=row.legal_status,
        cufe=row.cufe,
        pac_document_id=row.pac_document_id,
        qr_url=row.qr_url,
        authorization_protocol=row.authorization_protocol,
        authorized_at=row.authorized_at,
        legal_message=row.legal_message,
        created_by=row.created_by,
        created_at=row.created_at,
    )


class SqlAlchemyQuoteReader:
    def __init__(self, session: Session, tenant_id: str) -> None:
        self._session = session
        self._tenant_id = tenant_id

    def _select(self) -> Select[Any]:
        return select(quotes).where(quotes.c.tenant_id == self._tenant_id)

    def _views(self, statement: Select[Any], today: date) -> list[QuoteView]:
        rows = list(self._session.execute(statement))
        lines = _line_views(
            self._session, quote_lines, quote_lines.c.quote_id, self._tenant_id, [row.id for row in rows]
        )
        return [
            QuoteView(
                id=row.id,
                number=row.number,
                client_id=row.client_id,
                client_name=row.client_name,
                client_ruc=row.client_ruc,
                client_dv=row.client_dv,
                ad_hoc_emails=row.ad_hoc_emails,
                issue_date=row.issue_date,
                valid_until=row.valid_until,
                currency=row.currency,
                lines=tuple(lines.get(row.id, ())),
                taxes=compute_totals(lines.get(row.id, ())).taxes,
                subtotal=row.subtotal,
                discount_total=row.discount_total,
                tax_total=row.tax_total,
                total=row.total,
                status=quote_status(stored=row.status, valid_until=row.valid_until, today=today),
                created_by=row.created_by,
                created_at=row.created_at,
            )
            for row in rows
        ]

    def get(self, quote_id: str, *, today: date) -> QuoteView | None:
        found = self._views(self._select().where(quotes.c.id == quote_id), today)
        return found[0] if found else None

    def find(
        self, filter: QuoteFilter, *, today: date, first: int, after: QuoteCursor | None
    ) -> list[QuoteView]:
        statement = self._select()
        if filter.client_id is not None:
            statement = statement.where(quotes.c.client_id == filter.client_id)
        if after is not None:
            statement = statement.where(
                or_(
                    quotes.c.issue_date < after.issue_date,
                    and_(quotes.c.issue_date == after.issue_date, quotes.c.id < after.quote_id),
                )
            )
        statement = statement.order_by(quotes.c.issue_date.desc(), quotes.c.id.desc()).limit(first)
        return self._views(statement, today)
