"""``GetClientBalance`` (the assistant's ``client_balance``): on every day it is the closing balance
and the ageing of a statement ending that day, computed without the statement's entries; payments
and credit notes dated later do not count yet, void invoices and other currencies never do."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D
from typing import Any

import pytest

from application.invoicing.statements import GetClientBalance
from application.invoicing.commands import GetClientStatement, VoidInvoice
from application.invoicing.credit_notes import CreateCreditNote
from application.invoicing.profiles import UpdateTenantProfile
from domain.shared.errors import InvalidInput, NotFound
from domain.tenancy.model import Actor
from tests.unit.test_invoicing_handlers import TODAY, World, line


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def acme(world: World) -> Actor:
    return world.tenant("acme")


def books(world: World, acme: Actor) -> str:
    """A client with old, partly paid, credited, future-dated, void and other-currency invoices."""
    client = world.client(acme)
    other = world.client(acme, name="Otro cliente")

    def invoice(issued: date, due: date, price: str, **kw: Any) -> Any:
        return world.invoice(
            acme, client_id=kw.pop("client_id", client.id), client_name=None, issue_date=issued, due_date=due,
            lines=(line(unit_price=price, tax_rate=0),), **kw,
        )

    old = invoice(date(2026, 6, 1), date(2026, 7, 1), "500")
    world.pay(acme, old.id, "200", date=date(2026, 8, 15))
    world.pay(acme, old.id, "100", date=date(2026, 12, 20))  # a post-dated cheque
    credited = invoice(date(2026, 9, 10), date(2026, 10, 10), "300")
    world.bus.handle(CreateCreditNote(
        actor=acme, invoice_id=credited.id, reason="Devolución", lines=(line("x", "1", "40", 0),), issue_date=date(2026, 10, 2),
    ))
    world.pay(acme, credited.id, "60", date=date(2026, 10, 30))
    paid = invoice(date(2026, 10, 1), date(2026, 10, 31), "90")
    world.pay(acme, paid.id, "90", date=date(2026, 10, 5))
    void = invoice(date(2026, 10, 12), date(2026, 10, 12), "999")
    world.bus.handle(VoidInvoice(actor=acme, invoice_id=void.id))
    invoice(date(2026, 10, 15), date(2026, 10, 15), "777", currency="PAB")
    invoice(date(2026, 10, 15), date(2026, 10, 15), "888", client_id=other.id)
    invoice(date(2026, 11, 20), date(2026, 12, 20), "80")
    invoice(date(2026, 12, 1), date(2026, 12, 31), "1000")  # issued after today
    return client.id


def test_on_every_day_the_balance_is_the_statements_closing_balance_and_ageing(world: World, acme: Actor) -> None:
    client_id = books(world, acme)
    day = date(2026, 5, 30)
    while day <= date(2027, 3, 1):
        balance = world.bus.handle(GetClientBalance(actor=acme, client_id=client_id, as_of=day))
        statement = world.bus.handle(GetClientStatement(
            actor=acme, client_id=client_id, period_from=date(2026, 1, 1), period_to=day, as_of=day,
        )).statement
        assert (balance.balance, balance.ageing, balance.as_of) == (statement.closing_balance, statement.ageing, day), day
        assert balance.ageing.total == balance.balance
        day += timedelta(days=3)


def test_today_in_panama_by_default_with_the_figures_of_that_day(world: World, acme: Actor) -> None:
    client_id = books(world, acme)
    balance = world.bus.handle(GetClientBalance(actor=acme, client_id=client_id))
    # on 24 November: old 500-200 = 300 (146 days past due); credited 300-40-60 = 200 (45 days);
    # the November one 80, not yet due; the post-dated cheque and the December invoice not yet
    assert (balance.as_of, balance.client_name, str(balance.currency)) == (TODAY, "Distribuidora del Istmo, S.A.", "USD")
    assert balance.balance == D("580.00")
    ageing = balance.ageing
    assert (ageing.current, ageing.days_1_30, ageing.days_31_60, ageing.days_61_90, ageing.over_90) == (
        D("80.00"), D("0"), D("200.00"), D("0"), D("300.00"),
    )
    pab = world.bus.handle(GetClientBalance(actor=acme, client_id=client_id, currency="PAB"))
    assert (pab.balance, pab.ageing.days_31_60, str(pab.currency)) == (D("777.00"), D("777.00"), "PAB")


def test_the_currency_is_the_profiles_when_none_is_named(world: World, acme: Actor) -> None:
    client_id = books(world, acme)
    world.bus.handle(UpdateTenantProfile(
        actor=acme, legal_name="Acme, S.A.", taxpayer_type="JURIDICO", ruc="155596713-2-2015", dv="59",
        address="Calle 50, Ciudad de Panamá", currency="PAB",
    ))
    assert world.bus.handle(GetClientBalance(actor=acme, client_id=client_id)).balance == D("777.00")


def test_another_tenants_client_an_unknown_one_and_a_bad_currency_are_refused(world: World, acme: Actor) -> None:
    client_id = books(world, acme)
    globex = world.tenant("globex")
    with pytest.raises(NotFound) as refused:
        world.bus.handle(GetClientBalance(actor=globex, client_id=client_id))
    assert refused.value.field == "clientId"
    with pytest.raises(InvalidInput) as refused_id:
        world.bus.handle(GetClientBalance(actor=acme, client_id="not-an-id"))
    assert refused_id.value.field == "clientId"
    with pytest.raises(InvalidInput) as refused_currency:
        world.bus.handle(GetClientBalance(actor=acme, client_id=client_id, currency="EUR"))
    assert refused_currency.value.field == "currency"
