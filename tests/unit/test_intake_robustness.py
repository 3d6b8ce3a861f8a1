"""Damaged files never crash a parser: any cut or byte flip of a valid document either still parses
(rows it cannot read listed) or is refused as unreadable, naming why. Anything else would make the job
retry a file that cannot get better."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.intake.strategies import default_strategies
from application.intake.ports import IntakeContext, IntakeLimits, UnreadableDocument
from application.intake.router import route
from domain.banking.profiles import parse_profile
from tests.intake_documents import (
    CSV_PROFILE,
    camt053,
    csv_european,
    dgi_xml,
    lines,
    mt940,
    ofx_sgml,
    ofx_xml,
    total,
)

ITEMS = lines(4)
DOCUMENTS = [
    ofx_sgml(ITEMS, closing=total(ITEMS)),
    ofx_xml(ITEMS, closing=total(ITEMS)),
    camt053(ITEMS, opening=Decimal(1), closing=Decimal(1) + total(ITEMS), batch=2),
    mt940(ITEMS, opening=Decimal(1), closing=Decimal(1) + total(ITEMS)),
    csv_european(ITEMS, opening=Decimal(1)),
    dgi_xml(),
]
STRATEGIES = default_strategies(IntakeLimits())
CONTEXT = IntakeContext(profiles=(parse_profile(**CSV_PROFILE),))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    document=st.sampled_from(DOCUMENTS),
    cut=st.floats(min_value=0.0, max_value=1.0),
    flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 255)), max_size=4),
)
def test_a_damaged_document_parses_or_is_refused_as_unreadable(
    document: bytes, cut: float, flips: list[tuple[float, int]]
) -> None:
    damaged = bytearray(document[: max(1, int(len(document) * cut))])
    for where, value in flips:
        damaged[min(int(where * len(damaged)), len(damaged) - 1)] = value
    chosen = route(bytes(damaged), STRATEGIES, None)
    if chosen.strategy is None:
        assert chosen.reason
        return
    try:
        chosen.strategy.parse(bytes(damaged), CONTEXT)
    except UnreadableDocument as error:
        assert error.reason
