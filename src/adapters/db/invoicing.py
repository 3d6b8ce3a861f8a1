"""Invoicing on SQLAlchemy: tenant-bound repositories (aggregates) and readers (views).

The readers filter and sort in SQL: an invoice's business status is the CASE over its stored
``voided_at``, ``balance``, ``paid`` and ``due_date`` and today's date that spells the rule of
``domain.invoicing.invoices.invoice_status``. Lists load their lines, payments and contacts in
one query per kind, whatever the number of rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, case, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.types import Date

from adapters.db.orm import (
    client_contacts,
    clients,
    document_counters,
    invoice_lines,
    invoice_payments,
    invoices,
    quote_lines,
    quotes,
)
from adapters.db.repository import TenantRepository
from application.invoicing.views import (
    ClientContactView,
    ClientCursor,
    ClientView,
    InvoiceCursor,
    InvoiceFilter,
    InvoiceSort,
    InvoiceSortField,
    InvoiceView,
    LineView,
    PaymentView,
    QuoteCursor,
    QuoteFilter,
    QuoteView,
    SortDirection,
)
from domain.invoicing.clients import Client
from domain.invoicing.invoices import Invoice, InvoiceStatus, LegalStatus
from domain.invoicing.lines import compute_totals
from domain.invoicing.quotes import Quote, quote_status
from domain.invoicing.statements import StatementInvoice, StatementPayment
from domain.invoicing.values import Currency

INVOICE_SERIES = "INVOICE"
QUOTE_SERIES = "QUOTE"


def take_next_value(session: Session, tenant_id: str, series: str) -> int:
    """Increment the tenant's counter of ``series`` (from 1) and return the new value.

    The upsert holds the counter row (PostgreSQL) or the database's write lock (SQLite) until
    the transaction ends, so concurrent takers get consecutive values, and a rolled-back
    transaction gives its value back.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(document_counters).values(tenant_id=tenant_id, series=series, last_value=1)
    statement = statement.on_conflict_do_update(
        index_elements=["tenant_id", "series"],
        set_={"last_value": document_counters.c.last_value + 1},
    ).returning(document_counters.c.last_value)
    return int(session.execute(statement).scalar_one())


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- repositories ---------------------------------------------------------------------------------


class SqlAlchemyClientRepository(TenantRepository[Client]):
    kind = "client"

    def get(self, client_id: str) -> Client | None:
        return self._one(select(Client).where(clients.c.id == client_id, clients.c.tenant_id == self._tenant_id))


class SqlAlchemyInvoiceRepository(TenantRepository[Invoice]):
    kind = "invoice"

    def next_sequence(self) -> int:
        return take_next_value(self._session, self._tenant_id, INVOICE_SERIES)

    def number_taken(self, number: str) -> bool:
        found = self._session.execute(
            select(invoices.c.id).where(invoices.c.tenant_id == self._tenant_id, invoices.c.number == number)
        ).first()
        return found is not None

    def get(self, invoice_id: str) -> Invoice | None:
        return self._one(self._select(invoice_id))

    def get_for_update(self, invoice_id: str) -> Invoice | None:
        statement = self._select(invoice_id)
        if self._session.get_bind().dialect.name == "sqlite":
            # SQLite has no row locks: a write takes the database's write lock until the end of
            # the transaction, so a concurrent payment or void waits and then reads this one's result.
            self._session.execute(
                update(invoices)
                .where(invoices.c.id == invoice_id, invoices.c.tenant_id == self._tenant_id)
                .values(number=invoices.c.number)
            )
        else:
            statement = statement.with_for_update(of=invoices)
        return self._one(statement)

    def _select(self, invoice_id: str) -> Select[Any]:
        return select(Invoice).where(invoices.c.id == invoice_id, invoices.c.tenant_id == self._tenant_id)

    # --- the PAC (webhooks) ---

    def by_pac_document_id(self, document_id: str, *, for_update: bool = False) -> Invoice | None:
        found = self._session.execute(
            select(invoices.c.id)
            .where(invoices.c.tenant_id == self._tenant_id, invoices.c.pac_document_id == document_id)
            .order_by(invoices.c.created_at)
            .limit(1)
        ).scalar_one_or_none()
        if found is None:
            return None
        return self.get_for_update(found) if for_update else self.get(found)

    def awaiting_pac(self, *, cutoff: datetime, limit: int) -> list[tuple[str, str]]:
        rows = self._session.execute(
            select(invoices.c.id, invoices.c.pac_document_id)
            .where(
                invoices.c.tenant_id == self._tenant_id,
                invoices.c.pac_document_id.is_not(None),
                invoices.c.voided_at.is_(None),
                invoices.c.legal_status.in_([LegalStatus.NONE, LegalStatus.PAC_AUTHORIZED]),
                func.coalesce(invoices.c.authorized_at, invoices.c.created_at) <= cutoff,
            )
            .order_by(invoices.c.created_at, invoices.c.id)
            .limit(limit)
        ).all()
        return [(row.id, row.pac_document_id) for row in rows]


class SqlAlchemyQuoteRepository(TenantRepository[Quote]):
    kind = "quote"

    def next_sequence(self) -> int:
        return take_next_value(self._session, self._tenant_id, QUOTE_SERIES)

    def number_taken(self, number: str) -> bool:
        found = self._session.execute(
            select(quotes.c.id).where(quotes.c.tenant_id == self._tenant_id, quotes.c.number == number)
        ).first()
        return found is not None

    def get(self, quote_id: str) -> Quote | None:
        return self._one(select(Quote).where(quotes.c.id == quote_id, quotes.c.tenant_id == self._tenant_id))


# --- readers ----------------------------------------------------------------------------------------


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


def invoice_status_sql(today: date) -> ColumnElement[str]:
    """``invoice_status`` as SQL, for filters: VOID, PAID, PAST_DUE, PARTIALLY_PAID, UNPAID."""
    return case(
        (invoices.c.voided_at.is_not(None), literal(InvoiceStatus.VOID.value)),
        (invoices.c.balance == 0, literal(InvoiceStatus.PAID.value)),
        (invoices.c.due_date < literal(today, Date), literal(InvoiceStatus.PAST_DUE.value)),
        (invoices.c.paid > 0, literal(InvoiceStatus.PARTIALLY_PAID.value)),
        else_=literal(InvoiceStatus.UNPAID.value),
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

    def find(
        self,
        filter: InvoiceFilter,
        sort: InvoiceSort,
        *,
        today: date,
        first: int,
        after: InvoiceCursor | None,
    ) -> list[InvoiceView]:
        statement = self._select(today)
        if filter.client_id is not None:
            statement = statement.where(invoices.c.client_id == filter.client_id)
        if filter.statuses:
            statement = statement.where(
                invoice_status_sql(today).in_(sorted(status.value for status in filter.statuses))
            )
        if filter.due_before is not None:
            statement = statement.where(invoices.c.due_date < filter.due_before)
        if filter.due_after is not None:
            statement = statement.where(invoices.c.due_date > filter.due_after)
        key = invoices.c.issue_date if sort.field is InvoiceSortField.DATE else invoices.c.balance
        descending = sort.direction is SortDirection.DESC
        if after is not None:
            if descending:
                statement = statement.where(
                    or_(key < after.key, and_(key == after.key, invoices.c.id < after.invoice_id))
                )
            else:
                statement = statement.where(
                    or_(key > after.key, and_(key == after.key, invoices.c.id > after.invoice_id))
                )
        order = (key.desc(), invoices.c.id.desc()) if descending else (key.asc(), invoices.c.id.asc())
        return self._views(statement.order_by(*order).limit(first))

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
            )
            for row in self._session.execute(
                select(
                    invoices.c.id,
                    invoices.c.number,
                    invoices.c.issue_date,
                    invoices.c.due_date,
                    invoices.c.total,
                    invoices.c.voided_at,
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
