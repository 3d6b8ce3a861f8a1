"""Issue 18: the currency of the tenant's fiscal profile is what a new invoice or quote is in when
its request names none; a named currency wins; a credit note is in its invoice's currency, whatever
the profile says meanwhile. Through the bus on fakes."""

from __future__ import annotations

from typing import Any

import pytest

from application.invoicing.commands import CreateQuote
from application.invoicing.credit_notes import CreateCreditNote
from domain.invoicing.values import Currency
from domain.tenancy.model import Actor
from tests.unit.test_fiscal_profile import save
from tests.unit.test_invoicing_handlers import World, line, refused


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def acme(world: World) -> Actor:
    return world.tenant("acme")


def quote(world: World, actor: Actor, **kw: Any) -> Any:
    return world.bus.handle(CreateQuote(actor=actor, client_name="Consumidor final", lines=(line(),), **kw))


def test_without_a_profile_a_document_naming_no_currency_is_in_usd(world: World, acme: Actor) -> None:
    assert world.invoice(acme).currency == Currency.USD
    assert quote(world, acme).currency == Currency.USD


def test_the_profiles_currency_is_the_default_and_a_named_one_wins(world: World, acme: Actor) -> None:
    save(world, acme, currency="PAB")
    assert world.invoice(acme).currency == Currency.PAB
    assert quote(world, acme).currency == Currency.PAB
    assert world.invoice(acme, currency="USD").currency == Currency.USD
    assert quote(world, acme, currency="USD").currency == Currency.USD

    save(world, acme, currency="USD")  # the profile changed: new documents follow it
    assert world.invoice(acme).currency == Currency.USD
    assert world.invoice(acme, currency="PAB").currency == Currency.PAB


def test_another_tenants_profile_sets_nothing_here(world: World, acme: Actor) -> None:
    globex = world.tenant("globex")
    save(world, globex, currency="PAB")
    assert world.invoice(acme).currency == Currency.USD
    assert world.invoice(globex).currency == Currency.PAB


def test_a_credit_note_is_in_its_invoices_currency_not_the_profiles(world: World, acme: Actor) -> None:
    save(world, acme, currency="PAB")
    in_pab = world.invoice(acme)
    in_usd = world.invoice(acme, currency="USD")
    save(world, acme, currency="USD")
    for invoice in (in_pab, in_usd):
        note = world.bus.handle(CreateCreditNote(actor=acme, invoice_id=invoice.id, full=True, reason="Anulación"))
        assert note.currency == invoice.currency


@pytest.mark.parametrize("currency", ["", "EUR", "usd"])
def test_a_currency_that_is_not_usd_or_pab_is_refused_even_with_a_profile(
    world: World, acme: Actor, currency: str
) -> None:
    save(world, acme, currency="PAB")
    with refused(world, "INVALID_INPUT", "currency"):
        world.invoice(acme, currency=currency)
    with refused(world, "INVALID_INPUT", "currency"):
        quote(world, acme, currency=currency)


def test_a_statement_or_totals_naming_no_currency_are_in_the_profiles(world: World, acme: Actor) -> None:
    from datetime import date

    from application.invoicing.commands import GetClientStatement, GetInvoiceTotals

    save(world, acme, currency="PAB")
    client = world.client(acme)
    in_pab = world.invoice(acme, client_id=client.id, client_name=None)
    world.invoice(acme, client_id=client.id, client_name=None, currency="USD")
    period = {"period_from": date(2000, 1, 1), "period_to": date(2100, 1, 1)}
    statement = world.bus.handle(GetClientStatement(actor=acme, client_id=client.id, **period))
    assert statement.statement.currency == Currency.PAB
    assert statement.statement.closing_balance == in_pab.total  # the USD invoice is not on it
    totals = world.bus.handle(GetInvoiceTotals(actor=acme, **period))
    assert (totals.currency, totals.invoices, totals.total) == (Currency.PAB, 1, in_pab.total)
    named = world.bus.handle(GetClientStatement(actor=acme, client_id=client.id, currency="USD", **period))
    assert named.statement.currency == Currency.USD
