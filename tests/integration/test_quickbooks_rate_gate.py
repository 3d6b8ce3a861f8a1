"""``SqlRateGate``: QuickBooks' per-company budget kept in the database (so every worker process
shares it): requests counted per minute, and at most N in flight, each slot with a lease."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import sessionmaker

from adapters.db.integrations.quickbooks.rate import SqlRateGate
from application.integrations.quickbooks.ports import QboUnavailable
from tests.fakes.clock import FakeClock


@pytest.fixture
def gate_of(make_service: Any) -> Any:
    service = make_service()
    clock = FakeClock()
    sessions = sessionmaker(bind=service.container.engine(), expire_on_commit=False)

    def make(**kw: Any) -> SqlRateGate:
        return SqlRateGate(sessions, clock, wait=0.05, sleep=lambda _s: None, **kw)

    make.clock = clock  # type: ignore[attr-defined]
    return make


def test_the_budget_of_a_minute_is_exactly_its_limit(gate_of: Any) -> None:
    gate = gate_of(per_minute=3, concurrency=10)
    clock = gate_of.clock
    clock.current = clock.current.replace(second=45, microsecond=0)

    for _ in range(3):
        gate.release("100", gate.acquire("100"))
    with pytest.raises(QboUnavailable) as spent:
        gate.acquire("100")
    other_company = gate.acquire("200")

    assert "500" not in spent.value.reason and "3 requests a minute" in spent.value.reason
    assert spent.value.retry_after == timedelta(seconds=15), "until the next minute"
    gate.release("200", other_company)
    clock.advance(timedelta(seconds=15))
    gate.release("100", gate.acquire("100"))


def test_at_most_n_requests_are_in_flight_and_a_release_frees_one(gate_of: Any) -> None:
    gate = gate_of(per_minute=1000, concurrency=2)
    first, second = gate.acquire("100"), gate.acquire("100")

    with pytest.raises(QboUnavailable) as full:
        gate.acquire("100")
    gate.release("100", first)
    third = gate.acquire("100")

    assert "2 requests to this QuickBooks company are in flight" in full.value.reason
    assert full.value.retry_after is not None
    assert third.split(":")[0] == first.split(":")[0], "the freed slot"
    gate.release("100", second)
    gate.release("100", third)


def test_a_slot_whose_holder_died_is_free_after_its_lease(gate_of: Any) -> None:
    gate = gate_of(per_minute=1000, concurrency=1, lease=timedelta(minutes=2))
    gate.acquire("100")  # never released: its worker died

    with pytest.raises(QboUnavailable):
        gate.acquire("100")
    gate_of.clock.advance(timedelta(minutes=2, seconds=1))
    taken = gate.acquire("100")

    assert taken


def test_a_refused_request_does_not_count_against_the_minute(gate_of: Any) -> None:
    gate = gate_of(per_minute=2, concurrency=1)
    held = gate.acquire("100")
    with pytest.raises(QboUnavailable):
        gate.acquire("100")  # no slot: it did not go, so it is not counted
    gate.release("100", held)

    gate.release("100", gate.acquire("100"))  # the second of the minute
    with pytest.raises(QboUnavailable, match="a minute"):
        gate.acquire("100")


def test_a_block_counts_its_requests_at_once_and_gives_back_what_it_did_not_send(gate_of: Any) -> None:
    gate = gate_of(per_minute=10, concurrency=2)
    gate_of.clock.current = gate_of.clock.current.replace(second=10, microsecond=0)

    block = gate.acquire("100", requests=10)  # exactly the budget
    with pytest.raises(QboUnavailable, match="a minute"):
        gate.acquire("100")  # one past it
    gate.release("100", block, unused=3)
    for _ in range(3):
        gate.release("100", gate.acquire("100"))
    with pytest.raises(QboUnavailable, match="a minute"):
        gate.acquire("100")


def test_what_a_block_did_not_send_is_not_given_back_to_another_minute(gate_of: Any) -> None:
    gate = gate_of(per_minute=5, concurrency=2)
    clock = gate_of.clock
    clock.current = clock.current.replace(second=50, microsecond=0)
    block = gate.acquire("100", requests=5)
    clock.advance(timedelta(seconds=15))  # the next minute
    gate.release("100", gate.acquire("100", requests=2))
    gate.release("100", block, unused=5)

    for _ in range(3):
        gate.release("100", gate.acquire("100"))
    with pytest.raises(QboUnavailable, match="a minute"):
        gate.acquire("100")


@pytest.mark.parametrize("requests", [0, 11])
def test_a_block_counts_one_to_the_budget(gate_of: Any, requests: int) -> None:
    with pytest.raises(ValueError, match="1 to 10"):
        gate_of(per_minute=10).acquire("100", requests=requests)
