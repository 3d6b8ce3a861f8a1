"""Issue 18, credit notes through the bus on fakes: NC-000001 numbering per tenant, a credit note
of some lines or of the whole invoice reduces its balance and never exceeds it, refusals name the
field and leave nothing written, another tenant's invoice is not found; statements list credit
notes as credits and age at ``asOf`` (today by default)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal as D
from typing import Any

import pytest

from application.invoicing.commands import GetClientStatement, GetInvoice, VoidInvoice
from application.invoicing.credit_notes import CreateCreditNote, FindCreditNotes, GetCreditNote
from domain.invoicing.errors import CreditExceedsBalance, InvalidDateRange, InvoiceHasCreditNotes, InvoiceIsVoid, NoLines
from domain.invoicing.invoices import InvoiceStatus
from domain.invoicing.statements import EntryKind
from domain.shared.errors import InvalidInput, NotFound
from domain.tenancy.model import Actor
from tests.unit.test_invoicing_handlers import TODAY, World, line, nothing_written


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def acme(world: World) -> Actor:
    return world.tenant("acme")


def credit(world: World, actor: Actor, invoice_id: str, **kw: Any) -> Any:
    fields: dict[str, Any] = {"reason": "Devolución de mercancía"}
    return world.bus.handle(CreateCreditNote(actor=actor, invoice_id=invoice_id, **{**fields, **kw}))


def three_lines(world: World, actor: Actor, **kw: Any) -> Any:
    return world.invoice(
        actor,
        lines=(line("Cemento", "10", "8.50", 7), line("Arroz", "2", "12.25", 0), line("Pintura", "1", "37.50", 7)),
        **kw,
    )


def test_a_credit_note_of_some_lines_reduces_the_balance_and_is_numbered_nc(world: World, acme: Actor) -> None:
    invoice = three_lines(world, acme)  # 90.95 + 24.50 + 40.13 = 155.58
    assert invoice.total == D("155.58")
    note = credit(world, acme, invoice.id, lines=(line("Cemento devuelto", "2", "8.50", 7),))
    assert (note.number, note.invoice_id, note.invoice_number, note.client_name) == (
        "NC-000001", invoice.id, invoice.number, invoice.client_name,
    )
    assert (note.subtotal, note.tax_total, note.total, note.reason) == (
        D("17.00"), D("1.19"), D("18.19"), "Devolución de mercancía",
    )
    assert note.issue_date == TODAY
    after = world.bus.handle(GetInvoice(actor=acme, invoice_id=invoice.id))
    assert (after.balance, after.paid, after.status) == (D("137.39"), D("0.00"), InvoiceStatus.UNPAID)
    second = credit(world, acme, invoice.id, lines=(line("Ajuste", "1", "1", 0),))
    assert second.number == "NC-000002"
    assert world.bus.handle(GetCreditNote(actor=acme, credit_note_id=note.id)) == note
    assert [n.number for n in world.bus.handle(FindCreditNotes(actor=acme, invoice_id=invoice.id))] == [
        "NC-000002", "NC-000001",
    ]


def test_a_full_credit_note_copies_the_lines_and_leaves_nothing_owed(world: World, acme: Actor) -> None:
    invoice = three_lines(world, acme)
    note = credit(world, acme, invoice.id, full=True, reason="Anulación de la factura")
    assert [(l.description, l.quantity, l.tax) for l in note.lines] == [
        (l.description, l.quantity, l.tax) for l in invoice.lines
    ]
    assert (note.total, note.tax_total) == (invoice.total, invoice.tax_total)
    after = world.bus.handle(GetInvoice(actor=acme, invoice_id=invoice.id))
    assert (after.balance, after.status) == (D("0.00"), InvoiceStatus.PAID)
    with pytest.raises(InvoiceHasCreditNotes):
        world.bus.handle(VoidInvoice(actor=acme, invoice_id=invoice.id))


def test_a_credit_note_may_take_exactly_the_balance_and_not_a_cent_more(world: World, acme: Actor) -> None:
    invoice = world.invoice(acme, lines=(line("x", "1", "100", 0),))
    world.pay(acme, invoice.id, "60")
    with nothing_written(world), pytest.raises(CreditExceedsBalance) as refused:
        credit(world, acme, invoice.id, lines=(line("x", "1", "40.01", 0),))
    assert refused.value.field == "lines"
    with nothing_written(world), pytest.raises(CreditExceedsBalance):
        credit(world, acme, invoice.id, full=True)  # 100 > 40 still owed
    note = credit(world, acme, invoice.id, lines=(line("x", "1", "40", 0),))
    assert note.total == D("40.00")
    assert world.bus.handle(GetInvoice(actor=acme, invoice_id=invoice.id)).balance == D("0.00")


@pytest.mark.parametrize(
    ("kw", "error", "field"),
    [
        ({"reason": "  ", "full": True}, InvalidInput, "reason"),
        ({"reason": "\x00\x07", "full": True}, InvalidInput, "reason"),
        ({"reason": "r" * 501, "full": True}, InvalidInput, "reason"),
        ({"lines": ()}, InvalidInput, "lines"),  # neither lines nor full
        ({"full": True, "lines": (line(),)}, InvalidInput, "lines"),
        ({"lines": (line("x", "0", "1", 7),)}, InvalidInput, "lines[0].quantity"),
        ({"lines": (line("x", "1", "1", 8),)}, InvalidInput, "lines[0].taxRate"),
        ({"lines": (line(), line(), line())}, CreditExceedsBalance, "lines"),
        ({"issue_date": date(2026, 10, 31), "lines": (line("x", "1", "1", 0),)}, InvalidDateRange, "issueDate"),
        ({"number": "NC 1", "lines": (line("x", "1", "1", 0),)}, InvalidInput, "number"),
    ],
)
def test_bad_credit_notes_are_refused_naming_the_field_and_nothing_is_written(
    world: World, acme: Actor, kw: dict[str, Any], error: type[Exception], field: str
) -> None:
    invoice = world.invoice(acme, issue_date=date(2026, 11, 1), lines=(line("Servicio", "1", "100", 7),))
    with nothing_written(world), pytest.raises(error) as refused:
        credit(world, acme, invoice.id, **kw)
    assert refused.value.field == field  # type: ignore[attr-defined]
    assert world.bus.handle(GetInvoice(actor=acme, invoice_id=invoice.id)).balance == D("107.00")


def test_the_reason_at_exactly_500_characters_passes(world: World, acme: Actor) -> None:
    invoice = world.invoice(acme)
    assert len(credit(world, acme, invoice.id, reason="r" * 500, full=True).reason) == 500


def test_a_void_invoice_takes_no_credit_note(world: World, acme: Actor) -> None:
    invoice = world.invoice(acme)
    world.bus.handle(VoidInvoice(actor=acme, invoice_id=invoice.id))
    with nothing_written(world), pytest.raises(InvoiceIsVoid):
        credit(world, acme, invoice.id, full=True)


def test_another_tenants_invoice_and_credit_note_are_not_found(world: World, acme: Actor) -> None:
    globex = world.tenant("globex")
    invoice = world.invoice(acme)
    note = credit(world, acme, invoice.id, lines=(line("x", "1", "1", 0),))
    with nothing_written(world), pytest.raises(NotFound):
        credit(world, globex, invoice.id, full=True)
    with pytest.raises(NotFound):
        world.bus.handle(GetCreditNote(actor=globex, credit_note_id=note.id))
    assert world.bus.handle(FindCreditNotes(actor=globex)) == []
    with pytest.raises(NotFound):
        credit(world, acme, str(uuid.uuid4()), full=True)
    assert credit(world, globex, world.invoice(globex).id, full=True).number == "NC-000001"  # its own counter


def test_statements_list_credit_notes_as_credits_and_age_at_as_of(world: World, acme: Actor) -> None:
    client = world.client(acme)
    invoice = world.invoice(
        acme, client_id=client.id, client_name=None, issue_date=date(2026, 10, 1), due_date=date(2026, 10, 1),
        lines=(line("Cemento gris", "1", "200", 0), line("Arena", "1", "100", 0)),
    )
    credit(world, acme, invoice.id, lines=(line("x", "1", "50", 0),), issue_date=date(2026, 10, 10), reason="Descuento")
    world.pay(acme, invoice.id, "100", date=date(2026, 10, 20), reference="ACH 123")

    def statement(**kw: Any) -> Any:
        return world.bus.handle(
            GetClientStatement(
                actor=acme, client_id=client.id, period_from=date(2026, 10, 1), period_to=date(2026, 10, 31), **kw
            )
        ).statement

    today = statement()
    assert [(e.kind, e.document_number, e.description, e.debit, e.credit, e.balance) for e in today.entries] == [
        (EntryKind.INVOICE, invoice.number, "Cemento gris", D("300.00"), D("0.00"), D("300.00")),
        (EntryKind.CREDIT_NOTE, "NC-000001", "Descuento", D("0.00"), D("50.00"), D("250.00")),
        (EntryKind.PAYMENT, invoice.number, "", D("0.00"), D("100.00"), D("150.00")),
    ]
    assert today.closing_balance == D("150.00") == today.ageing.total
    assert today.as_of == TODAY  # 24 November: 54 days past due
    assert today.ageing.days_31_60 == D("150.00")
    at_month_end = statement(as_of=date(2026, 10, 31))
    assert (at_month_end.as_of, at_month_end.ageing.days_1_30) == (date(2026, 10, 31), D("150.00"))
    with pytest.raises(InvalidDateRange) as refused:
        statement(as_of=date(2026, 9, 30))
    assert refused.value.field == "asOf"
