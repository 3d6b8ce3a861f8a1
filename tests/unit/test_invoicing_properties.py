"""Properties of the invoicing domain, checked with hypothesis against independent integer arithmetic.

- totals equal the sum of the lines and of the taxes; each line rounds half-up to the cent, and
  so does each line's ITBMS (the DGI's rule: per item; the totals are sums of the items);
- payments never make the balance wrong or negative, and a refused payment changes nothing;
- the business status follows the balance, the payments and the due date;
- the legal status never leaves a terminal state, whatever the sequence of notices;
- a statement's running balance, closing balance and ageing agree with each other.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from domain.invoicing.clients import BillTo, TaxpayerType, parse_ruc_and_dv
from domain.invoicing.errors import InvalidDv, InvalidRuc, PaymentExceedsBalance
from domain.invoicing.invoices import Invoice, InvoiceStatus, LegalStatus
from domain.invoicing.lines import ITBMS_RATES, LineInput, compute_totals, parse_lines
from domain.invoicing.statements import StatementInvoice, StatementPayment, compute_statement
from domain.invoicing.values import Currency, parse_money, parse_ruc
from domain.shared.email import InvalidEmail, parse_email
from domain.shared.errors import DomainError

NOW = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
ISSUED = date(2026, 11, 1)

# Amounts as whole numbers of their smallest unit: quantities and prices in 1/10 000, money in cents.
quantity_units = st.integers(min_value=1, max_value=10**9)
price_units = st.integers(min_value=0, max_value=10**9)
rates = st.sampled_from(ITBMS_RATES)


def units(value: int, places: int) -> Decimal:
    return Decimal(value).scaleb(-places)


def half_up_div(numerator: int, denominator: int) -> int:
    """round(numerator / denominator) half-up, for numerator >= 0, with integers only."""
    return (2 * numerator + denominator) // (2 * denominator)


@st.composite
def raw_lines(draw: st.DrawFn, max_size: int = 8) -> list[tuple[int, int, int, int]]:
    """(quantity, unit price, discount in cents, rate); the discount never exceeds the gross."""
    found = []
    for _ in range(draw(st.integers(min_value=1, max_value=max_size))):
        quantity, price = draw(quantity_units), draw(price_units)
        gross_cents_floor = quantity * price // 10**6  # gross is q*p / 10^8, in cents / 10^6
        discount = draw(st.integers(min_value=0, max_value=gross_cents_floor))
        found.append((quantity, price, discount, draw(rates)))
    return found


def as_inputs(lines: list[tuple[int, int, int, int]]) -> list[LineInput]:
    return [
        LineInput(
            description=f"line {i}",
            quantity=str(units(q, 4)),
            unit_price=str(units(p, 4)),
            discount=str(units(d, 2)),
            tax_rate=r,
        )
        for i, (q, p, d, r) in enumerate(lines)
    ]


def new_invoice(lines: list[LineInput], *, due: date = ISSUED + timedelta(days=30)) -> Invoice:
    return Invoice.create(
        tenant_id="t-1",
        number="F-000001",
        bill_to=BillTo.ad_hoc(name="Cliente"),
        issue_date=ISSUED,
        due_date=due,
        currency=Currency.USD,
        lines=lines,
        created_by="u",
        now=NOW,
    )


# --- totals -----------------------------------------------------------------------------------------


@given(raw_lines())
def test_totals_equal_the_sum_of_lines_and_taxes_rounded_half_up(lines: list[tuple[int, int, int, int]]) -> None:
    totals = compute_totals(parse_lines(as_inputs(lines)))

    amounts = [half_up_div(q * p, 10**6) for q, p, _d, _r in lines]  # cents
    bases = [half_up_div(q * p - d * 10**6, 10**6) for q, p, d, _r in lines]
    by_rate: dict[int, int] = defaultdict(int)
    taxes: dict[int, int] = defaultdict(int)
    for base, (_q, _p, _d, rate) in zip(bases, lines, strict=True):
        by_rate[rate] += base
        taxes[rate] += half_up_div(base * rate, 100)

    assert totals.subtotal == units(sum(amounts), 2)
    assert totals.discount_total == units(sum(d for _q, _p, d, _r in lines), 2)
    assert [(t.rate, t.base, t.tax) for t in totals.taxes] == [
        (rate, units(by_rate[rate], 2), units(taxes[rate], 2)) for rate in sorted(by_rate)
    ]
    assert totals.tax_total == units(sum(taxes.values()), 2)
    assert totals.subtotal - totals.discount_total == units(sum(bases), 2) == sum(t.base for t in totals.taxes)
    assert totals.total == totals.subtotal - totals.discount_total + totals.tax_total
    for amount in (totals.subtotal, totals.discount_total, totals.tax_total, totals.total):
        assert amount.as_tuple().exponent == -2, amount


@given(raw_lines())
def test_an_invoice_keeps_the_totals_of_its_lines(lines: list[tuple[int, int, int, int]]) -> None:
    invoice = new_invoice(as_inputs(lines))
    totals = compute_totals(invoice.lines)
    assert (invoice.subtotal, invoice.discount_total, invoice.tax_total, invoice.total) == (
        totals.subtotal,
        totals.discount_total,
        totals.tax_total,
        totals.total,
    )
    assert invoice.taxes == totals.taxes
    assert (invoice.paid, invoice.balance) == (Decimal("0.00"), invoice.total)
    assert [line.base for line in invoice.lines] == [
        units(half_up_div(q * p - d * 10**6, 10**6), 2) for q, p, d, _r in lines
    ]


@given(st.integers(min_value=0, max_value=99), st.sampled_from([7, 10, 15]))
def test_a_half_cent_of_tax_rounds_up(cents: int, rate: int) -> None:
    base = Decimal(cents).scaleb(-2)
    (tax,) = compute_totals(parse_lines([LineInput(description="x", quantity="1", unit_price=str(base), tax_rate=rate)])).taxes
    exact = base * rate / 100
    assert tax.tax - exact <= Decimal("0.005") and exact - tax.tax < Decimal("0.005")
    assert tax.tax == Decimal(half_up_div(cents * rate, 100)).scaleb(-2)


# --- payments and status -----------------------------------------------------------------------------


@settings(max_examples=150)
@given(
    raw_lines(max_size=3),
    st.lists(st.integers(min_value=-100, max_value=10**9), max_size=12),
)
def test_payments_never_make_the_balance_wrong_or_negative(
    lines: list[tuple[int, int, int, int]], attempts: list[int]
) -> None:
    invoice = new_invoice(as_inputs(lines))
    accepted: list[Decimal] = []
    for cents in attempts:
        amount = units(cents, 2)
        before = (invoice.paid, invoice.balance, len(invoice.payments))
        try:
            invoice.register_payment(amount=amount, paid_on=ISSUED, method="CASH", now=NOW)
        except DomainError as error:
            assert before == (invoice.paid, invoice.balance, len(invoice.payments)), "a refusal changed the invoice"
            if amount > 0:
                assert isinstance(error, PaymentExceedsBalance) and amount > before[1]
            continue
        assert 0 < amount <= before[1]
        accepted.append(amount)
        assert invoice.paid == sum(accepted)
        assert invoice.balance == invoice.total - sum(accepted)
        assert invoice.balance >= 0
        assert [p.amount for p in invoice.payments] == accepted
    if invoice.balance > 0:  # paying exactly the balance is always accepted and closes the invoice
        invoice.register_payment(amount=invoice.balance, paid_on=ISSUED, method="ACH", now=NOW)
    assert invoice.balance == 0 and invoice.paid == invoice.total
    assert invoice.status(ISSUED) is InvoiceStatus.PAID


@given(
    total_cents=st.integers(min_value=1, max_value=10**6),
    paid_share=st.floats(min_value=0, max_value=1),
    due_offset=st.integers(min_value=0, max_value=60),
    today_offset=st.integers(min_value=0, max_value=90),
    voided=st.booleans(),
)
def test_status_follows_balance_payments_and_due_date(
    total_cents: int, paid_share: float, due_offset: int, today_offset: int, voided: bool
) -> None:
    due = ISSUED + timedelta(days=due_offset)
    today = ISSUED + timedelta(days=today_offset)
    invoice = new_invoice(
        [LineInput(description="x", quantity="1", unit_price=str(units(total_cents, 2)), tax_rate=0)], due=due
    )
    paid_cents = int(total_cents * paid_share)
    if voided:
        invoice.void(now=NOW)
    elif paid_cents:
        invoice.register_payment(amount=units(paid_cents, 2), paid_on=ISSUED, method="CASH", now=NOW)

    status = invoice.status(today)
    if voided:
        assert status is InvoiceStatus.VOID
    elif paid_cents == total_cents:
        assert status is InvoiceStatus.PAID
    elif today > due:
        assert status is InvoiceStatus.PAST_DUE
    elif paid_cents:
        assert status is InvoiceStatus.PARTIALLY_PAID
    else:
        assert status is InvoiceStatus.UNPAID


# --- legal status --------------------------------------------------------------------------------------

_TERMINAL = {LegalStatus.DGI_AUTHORIZED, LegalStatus.DGI_REJECTED, LegalStatus.PAC_REJECTED}
_STAGE = {LegalStatus.NONE: 0, LegalStatus.PAC_AUTHORIZED: 1, **{s: 2 for s in _TERMINAL}}


@settings(max_examples=300)
@given(st.lists(st.sampled_from(list(LegalStatus)), max_size=12))
def test_the_legal_status_never_leaves_a_terminal_state(notices: list[LegalStatus]) -> None:
    invoice = new_invoice([LineInput(description="x", quantity="1", unit_price="1", tax_rate=7)])
    invoice.pull_events()
    expected = LegalStatus.NONE
    for index, notice in enumerate(notices):
        before = (invoice.legal_status, invoice.cufe)
        moved = invoice.apply_legal_status(notice, cufe=f"CUFE-{index}", message=f"notice {index}")
        should_move = expected not in _TERMINAL and _STAGE[notice] > _STAGE[expected]
        assert moved is should_move
        if should_move:
            expected = notice
            assert invoice.cufe == f"CUFE-{index}"
        else:
            assert (invoice.legal_status, invoice.cufe) == before, "a stale notice changed the invoice"
        assert invoice.legal_status is expected
    terminal_seen = next((n for n in notices if n in _TERMINAL), None)
    if terminal_seen is not None:
        assert invoice.legal_status is terminal_seen, "the first terminal notice wins for good"
    assert len(invoice.pull_events()) == sum(
        1 for i, n in enumerate(notices) if _moves(notices[:i], n)
    )


def _moves(previous: list[LegalStatus], notice: LegalStatus) -> bool:
    state = LegalStatus.NONE
    for earlier in previous:
        if state not in _TERMINAL and _STAGE[earlier] > _STAGE[state]:
            state = earlier
    return state not in _TERMINAL and _STAGE[notice] > _STAGE[state]


# --- statements ----------------------------------------------------------------------------------------


@st.composite
def accounts(draw: st.DrawFn) -> tuple[list[StatementInvoice], list[StatementPayment]]:
    invoices, payments = [], []
    for i in range(draw(st.integers(min_value=0, max_value=8))):
        issued = ISSUED + timedelta(days=draw(st.integers(min_value=-200, max_value=60)))
        total = draw(st.integers(min_value=0, max_value=10**7))
        invoice = StatementInvoice(
            invoice_id=f"i{i}",
            number=f"F-{i:06d}",
            issue_date=issued,
            due_date=issued + timedelta(days=draw(st.integers(min_value=0, max_value=120))),
            total=units(total, 2),
            voided=draw(st.booleans()) and draw(st.booleans()),
        )
        invoices.append(invoice)
        left = 0 if invoice.voided else total
        for j in range(draw(st.integers(min_value=0, max_value=3))):
            if left == 0:
                break
            amount = draw(st.integers(min_value=1, max_value=left))
            left -= amount
            payments.append(
                StatementPayment(
                    payment_id=f"p{i}-{j}",
                    invoice_id=invoice.invoice_id,
                    paid_on=issued + timedelta(days=draw(st.integers(min_value=0, max_value=150))),
                    amount=units(amount, 2),
                    method="CASH",
                    reference=None,
                )
            )
    return invoices, payments


@settings(max_examples=200)
@given(accounts(), st.integers(min_value=-220, max_value=100), st.integers(min_value=0, max_value=200))
def test_statement_balances_and_ageing_agree(
    account: tuple[list[StatementInvoice], list[StatementPayment]], start: int, length: int
) -> None:
    invoices, payments = account
    period_from = ISSUED + timedelta(days=start)
    period_to = period_from + timedelta(days=length)
    statement = compute_statement(
        client_id="c", period_from=period_from, period_to=period_to, currency=Currency.USD,
        invoices=invoices, payments=payments,
    )
    live = {i.invoice_id: i for i in invoices if not i.voided}
    owed_until = lambda day: sum(  # noqa: E731
        (i.total for i in live.values() if i.issue_date <= day), Decimal(0)
    ) - sum((p.amount for p in payments if p.invoice_id in live and p.paid_on <= day), Decimal(0))
    assert statement.opening_balance == owed_until(period_from - timedelta(days=1))
    assert statement.closing_balance == owed_until(period_to)
    assert statement.closing_balance == statement.opening_balance + statement.total_debits - statement.total_credits
    assert statement.ageing.total == statement.closing_balance
    balance = statement.opening_balance
    for entry in statement.entries:
        assert period_from <= entry.date <= period_to
        balance += entry.debit - entry.credit
        assert entry.balance == balance
    assert [e.date for e in statement.entries] == sorted(e.date for e in statement.entries)
    assert all(e.invoice_id in live for e in statement.entries)


# --- values ---------------------------------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=999_999_999_999_999))
def test_money_round_trips_through_its_text(cents: int) -> None:
    amount = units(cents, 2)
    assert parse_money(format(amount, "f"), field="amount") == amount
    assert format(parse_money(format(amount, "f"), field="amount"), "f") == format(amount, "f")


_RUC_PART = st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", min_size=1, max_size=6)


@given(st.lists(_RUC_PART, min_size=1, max_size=5))
def test_a_ruc_of_letters_digits_and_inner_hyphens_is_kept_upper_cased(parts: list[str]) -> None:
    ruc = "-".join(parts)
    assume(len(ruc) <= 30)
    assert parse_ruc(f"  {ruc} ") == ruc.upper()


@given(st.text(max_size=40))
def test_anything_else_is_not_a_ruc(text: str) -> None:
    cleaned = text.strip().upper()
    valid = (
        0 < len(cleaned) <= 30
        and all(part and all(ch in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" for ch in part) for part in cleaned.split("-"))
    )
    if valid:
        assert parse_ruc(text) == cleaned
    else:
        with pytest.raises(InvalidRuc):
            parse_ruc(text)


@given(st.text(max_size=4))
def test_a_dv_is_one_or_two_digits(text: str) -> None:
    good = text.strip().isascii() and text.strip().isdigit() and 1 <= len(text.strip()) <= 2
    if good:
        assert parse_ruc_and_dv("8-1-2", text, TaxpayerType.NATURAL) == ("8-1-2", text.strip())
    else:
        with pytest.raises((InvalidDv, InvalidRuc)):
            parse_ruc_and_dv("8-1-2", text, TaxpayerType.NATURAL)


@given(st.emails())
def test_generated_addresses_are_kept_lower_cased_when_plausible(address: str) -> None:
    try:
        kept = parse_email(address)
    except InvalidEmail:
        return  # hypothesis generates some shapes we refuse on purpose (IP literals, quoted parts)
    assert kept == address.strip().lower()
    assert parse_email(kept) == kept
