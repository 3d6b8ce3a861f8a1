"""Invariants of statement imports, on the fakes through the bus: however a month is cut into
overlapping statements and in whatever order they arrive, the account ends with each line once."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from application.banking.commands import ImportBankStatement
from application.modules import MODULES, build_service
from application.tenancy.handlers import CreateTenant
from domain.banking.statements import ParsedStatement, ParsedTransaction
from tests.fakes.clock import FakeClock
from tests.fakes.uow import FakeStore, fake_uow_factory

line = st.builds(
    ParsedTransaction,
    booked_on=st.dates(min_value=date(2026, 11, 1), max_value=date(2026, 11, 3)),
    amount=st.sampled_from([Decimal("-5.00"), Decimal("5.00"), Decimal("12.30")]),
    reference=st.sampled_from([None, "CAFE", "R1"]),
    bank_id=st.one_of(st.none(), st.sampled_from(["A", "B", "C"])),
)


def _statement(lines: list[ParsedTransaction]) -> ParsedStatement:
    return ParsedStatement(format="camt.053", bank="B", account_number="0301", currency="USD", transactions=tuple(lines))


@settings(max_examples=60, deadline=None)
@given(
    month=st.lists(line, min_size=1, max_size=12),
    cuts=st.lists(st.tuples(st.integers(0, 11), st.integers(1, 12)), min_size=1, max_size=5),
)
def test_overlapping_statements_leave_each_line_once(month: list[ParsedTransaction], cuts: list[tuple[int, int]]) -> None:
    # lines the bank gives an id to are unique by it, as banks keep them
    seen: set[str] = set()
    month = [t for t in month if t.bank_id is None or not (t.bank_id in seen or seen.add(t.bank_id))]  # type: ignore[func-returns-value]
    clock = FakeClock()
    store = FakeStore()
    bus = build_service(modules=MODULES, uow_factory=fake_uow_factory(store, clock), clock=clock).bus
    tenant = bus.handle(CreateTenant(actor=None, slug="acme", name="Acme")).tenant_id
    pieces = [month[start : start + length] for start, length in cuts] + [month]
    for n, piece in enumerate(pieces):
        if piece:
            bus.handle(ImportBankStatement(actor=None, intake_id=f"00000000-0000-4000-8000-{n:012d}",
                                           file_id="f", statement=_statement(piece)), tenant_id=tenant)
            clock.advance(timedelta(seconds=1))
    def key(t: ParsedTransaction) -> tuple[object, ...]:
        return (t.booked_on, t.amount, t.reference or "", t.bank_id or "")

    assert sorted(map(key, store.bank_transactions.values())) == sorted(map(key, month))  # type: ignore[arg-type]
    assert len(store.bank_accounts) == 1
