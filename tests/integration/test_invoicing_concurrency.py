"""Invoicing under concurrency, with the real container on SQLite and on PostgreSQL.

Invoices created at once without a number take consecutive numbers, none twice; payments that
race on one invoice never pay more than it owes; credit notes racing each other or a payment never
credit more than it owes either (issue 18); a payment racing a void never leaves a void invoice
with payments. What makes this hold: the counter upsert and the invoice lock (``get_for_update``,
taken by payments, voids and credit notes), both held until the transaction ends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from application.invoicing.commands import CreateInvoice, GetInvoice, RegisterInvoicePayment, VoidInvoice
from application.invoicing.credit_notes import CreateCreditNote
from domain.invoicing.errors import CreditExceedsBalance, InvoiceHasPayments, InvoiceIsVoid, PaymentExceedsBalance
from domain.invoicing.invoices import InvoiceStatus
from domain.invoicing.lines import LineInput
from domain.tenancy.model import Actor, Role
from tests.conftest import Service

THREADS = 8
JOIN_TIMEOUT = 60


def _actor(tenant_id: str) -> Actor:
    return Actor(tenant_id=tenant_id, user_id="user-1", role=Role.OWNER)


def _race(targets: Sequence[Callable[[], Any]]) -> list[Any]:
    """Run the targets in threads released together; what each returned or raised, in order."""
    barrier = threading.Barrier(len(targets))
    outcomes: list[Any] = [None] * len(targets)

    def run(index: int, target: Callable[[], Any]) -> None:
        barrier.wait(JOIN_TIMEOUT)
        try:
            outcomes[index] = target()
        except Exception as error:  # reported to the test as an outcome
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(i, t), daemon=True) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck (deadlock?)"
    return outcomes


def _invoice(service: Service, tenant_id: str, price: str = "100", number: str | None = None) -> Any:
    return service.container.bus().handle(
        CreateInvoice(
            actor=_actor(tenant_id),
            number=number,
            client_name="Cliente",
            lines=(LineInput(description="x", quantity="1", unit_price=price, tax_rate=0),),
        )
    )


def test_invoices_created_at_once_take_consecutive_numbers_none_twice(service: Service) -> None:
    acme, globex = service.tenant("acme"), service.tenant("globex")
    tenants = [acme, globex] * (THREADS // 2)
    outcomes = _race([lambda tenant=tenant: _invoice(service, tenant) for tenant in tenants])

    assert [o for o in outcomes if isinstance(o, Exception)] == []
    for tenant in (acme, globex):
        numbers = sorted(o.number for o, t in zip(outcomes, tenants, strict=True) if t == tenant)
        assert numbers == [f"F-{n:06d}" for n in range(1, THREADS // 2 + 1)]


def test_racing_payments_never_pay_more_than_the_invoice_owes(service: Service) -> None:
    tenant = service.tenant("acme")
    invoice = _invoice(service, tenant, price="100")  # 100.00 owed; 8 × 30.00 offered
    bus = service.container.bus()

    outcomes = _race(
        [
            lambda: bus.handle(
                RegisterInvoicePayment(actor=_actor(tenant), invoice_id=invoice.id, amount="30", method="CASH")
            )
            for _ in range(THREADS)
        ]
    )

    accepted = [o for o in outcomes if not isinstance(o, Exception)]
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(accepted) == 3, outcomes
    assert all(isinstance(error, PaymentExceedsBalance) for error in refused), refused
    final = bus.handle(GetInvoice(actor=_actor(tenant), invoice_id=invoice.id))
    assert (final.paid, final.balance, len(final.payments)) == (Decimal("90.00"), Decimal("10.00"), 3)
    with service.container.engine().connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM invoice_payments")).scalar_one() == 3


def _credit(service: Service, tenant: str, invoice_id: str, amount: str) -> Any:
    return service.container.bus().handle(
        CreateCreditNote(
            actor=_actor(tenant), invoice_id=invoice_id, reason="Devolución",
            lines=(LineInput(description="x", quantity="1", unit_price=amount, tax_rate=0),),
        )
    )


def _credited(service: Service, invoice_id: str) -> tuple[Decimal, Decimal, Decimal]:
    """What the stored credit notes of the invoice add up to, and its stored credited and balance."""
    with service.container.engine().connect() as connection:
        notes = connection.execute(
            text("SELECT total FROM credit_notes WHERE invoice_id = :id"), {"id": invoice_id}
        ).scalars().all()
        credited, balance = connection.execute(
            text("SELECT credited, balance FROM invoices WHERE id = :id"), {"id": invoice_id}
        ).one()
    cents = Decimal("0.01") if isinstance(credited, int) else Decimal(1)  # SQLite keeps whole cents
    return sum((Decimal(n) * cents for n in notes), Decimal(0)), Decimal(credited) * cents, Decimal(balance) * cents


def test_two_racing_credit_notes_never_credit_more_than_the_invoice(service: Service) -> None:
    tenant = service.tenant("acme")
    for _ in range(3):  # a few rounds: which thread wins varies, the sum never does
        invoice = _invoice(service, tenant, price="100")  # 100.00 owed; 2 × 60.00 offered
        outcomes = _race([lambda: _credit(service, tenant, invoice.id, "60") for _ in range(2)])

        accepted = [o for o in outcomes if not isinstance(o, Exception)]
        refused = [o for o in outcomes if isinstance(o, Exception)]
        assert len(accepted) == 1 and [type(e) for e in refused] == [CreditExceedsBalance], outcomes
        assert _credited(service, invoice.id) == (Decimal("60"), Decimal("60"), Decimal("40"))


def test_racing_credit_notes_and_payments_never_take_more_than_the_invoice_owes(service: Service) -> None:
    tenant = service.tenant("acme")
    invoice = _invoice(service, tenant, price="100")  # 100.00 owed; 8 × 30.00 offered, half credits
    bus = service.container.bus()
    pay = RegisterInvoicePayment(actor=_actor(tenant), invoice_id=invoice.id, amount="30", method="CASH")

    outcomes = _race(
        [(lambda: _credit(service, tenant, invoice.id, "30")) if n % 2 else (lambda: bus.handle(pay))
         for n in range(THREADS)]
    )

    accepted = [o for o in outcomes if not isinstance(o, Exception)]
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(accepted) == 3, outcomes
    assert all(isinstance(error, CreditExceedsBalance | PaymentExceedsBalance) for error in refused), refused
    final = bus.handle(GetInvoice(actor=_actor(tenant), invoice_id=invoice.id))
    notes, credited, balance = _credited(service, invoice.id)
    assert notes == credited and final.paid + credited == Decimal("90.00") and final.balance == balance == Decimal("10.00")


def test_a_payment_racing_a_void_never_leaves_a_void_invoice_with_payments(service: Service) -> None:
    tenant = service.tenant("acme")
    bus = service.container.bus()
    for _ in range(4):
        invoice = _invoice(service, tenant)
        outcomes = _race(
            [
                lambda: bus.handle(VoidInvoice(actor=_actor(tenant), invoice_id=invoice.id)),
                lambda: bus.handle(
                    RegisterInvoicePayment(actor=_actor(tenant), invoice_id=invoice.id, amount="10", method="CASH")
                ),
            ]
        )
        final = bus.handle(GetInvoice(actor=_actor(tenant), invoice_id=invoice.id))
        if final.status is InvoiceStatus.VOID:
            assert final.payments == () and isinstance(outcomes[1], InvoiceIsVoid), outcomes
        else:
            assert len(final.payments) == 1 and isinstance(outcomes[0], InvoiceHasPayments), outcomes
