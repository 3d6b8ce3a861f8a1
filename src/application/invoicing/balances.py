"""What a client owes on a day, by age: the statement's closing balance and ageing without its
entries (the assistant's ``client_balance``), summed in the database in one query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from application.invoicing.ports import InvoicingUnitOfWork
from application.shared.messages import Query
from application.shared.ports import Clock
from domain.invoicing.issuer import default_currency
from domain.invoicing.lines import ZERO
from domain.invoicing.statements import Ageing, age
from domain.invoicing.values import Currency, business_date
from domain.shared.errors import NotFound
from domain.shared.model import parse_id


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
