"""Statements of account and balances: the statement of a client's account for a period (its
entries, running balance and ageing), and what a client owes on a day, by age (the statement's
closing balance and ageing without its entries, summed in the database in one query: the
assistant's ``client_balance``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from application.invoicing.commands import GetClientStatement
from application.invoicing.ports import InvoicingUnitOfWork
from application.invoicing.views import ClientStatementView, ClientView
from application.shared.messages import Query
from application.shared.ports import Clock
from domain.invoicing.errors import InvalidDateRange
from domain.invoicing.issuer import default_currency
from domain.invoicing.lines import ZERO
from domain.invoicing.statements import Ageing, age, check_period, compute_statement
from domain.invoicing.values import Currency, business_date
from domain.shared.errors import NotFound
from domain.shared.model import parse_id


def statement_client(
    uow: InvoicingUnitOfWork, client_id: str, period_from: date, period_to: date, currency: str | None
) -> tuple[ClientView, Currency]:
    """What a statement request names, checked (``uow`` open): the tenant's client, the currency
    (none named: the tenant profile's) and the period."""
    parsed_id = parse_id(client_id, field="clientId")
    parsed_currency = None if currency is None else Currency.parse(currency)
    check_period(period_from, period_to)
    client = uow.client_views.get(parsed_id)
    if client is None:
        raise NotFound(f"client {parsed_id} not found", field="clientId")
    return client, parsed_currency or default_currency(uow.tenant_profile.get())


def client_statement(
    uow: InvoicingUnitOfWork,
    client_id: str,
    period_from: date,
    period_to: date,
    currency: str | None,
    as_of: date | None = None,
    today: date | None = None,
) -> ClientStatementView:
    """The statement of the tenant's client for a period (``uow`` not yet open), its ageing
    counted at ``as_of`` when asked (not before the period), else at ``today`` (Panama)."""
    check_period(period_from, period_to)
    if as_of is not None and as_of < period_from:
        raise InvalidDateRange(f"asOf ({as_of}) must not be before from ({period_from})", field="asOf")
    as_of = as_of or today
    with uow:
        client, parsed_currency = statement_client(uow, client_id, period_from, period_to, currency)
        invoices, payments = uow.invoice_views.statement_facts(client.id, parsed_currency, until=period_to)
        credits = uow.credit_note_views.statement_credits(client.id, parsed_currency, until=period_to)
    statement = compute_statement(
        client_id=client.id,
        period_from=period_from,
        period_to=period_to,
        currency=parsed_currency,
        invoices=invoices,
        payments=payments,
        credits=credits,
        as_of=as_of,
    )
    return ClientStatementView(client=client, statement=statement)


class GetClientStatementHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, query: GetClientStatement, uow: InvoicingUnitOfWork) -> ClientStatementView:
        return client_statement(
            uow, query.client_id, query.period_from, query.period_to, query.currency,
            as_of=query.as_of, today=business_date(self._clock.now()),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class GetClientBalance(Query):
    """``as_of``: the day, today in Panama by default; ``currency``: none, the tenant profile's."""

    client_id: str
    currency: str | None = None
    as_of: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientBalanceView:
    client_id: str
    client_name: str
    currency: Currency
    as_of: date
    balance: Decimal  # the closing balance of a statement ending on ``as_of``
    ageing: Ageing  # its ageing counted on ``as_of``; the buckets add up to ``balance``


class GetClientBalanceHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, query: GetClientBalance, uow: InvoicingUnitOfWork) -> ClientBalanceView:
        client_id = parse_id(query.client_id, field="clientId")
        currency = None if query.currency is None else Currency.parse(query.currency)
        on = query.as_of or business_date(self._clock.now())
        with uow:
            name = uow.client_views.name(client_id)
            if name is None:
                raise NotFound(f"client {client_id} not found", field="clientId")
            currency = currency or default_currency(uow.tenant_profile.get())
            owed = uow.invoice_views.open_amounts(client_id, currency, on=on)
        return ClientBalanceView(
            client_id=client_id, client_name=name, currency=currency, as_of=on,
            balance=sum((amount for _due, amount in owed), ZERO), ageing=age(owed, on),
        )
