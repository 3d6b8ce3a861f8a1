"""The render pool's fair shares (issue 19, item 4): a tenant's share of the workers, its waiting
renders (exactly at the cap and one past it), who gets the next free worker, and the patience."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from adapters.pdf.fairness import FairShare
from domain.pdf.errors import RendererBusy


def _until(condition: Callable[[], bool], what: str) -> None:
    """Wait for another thread to reach a state (a generous bound that only a hang reaches)."""
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.005)


class Renders:
    """Renders held open in threads, released one by one; the order in which they started."""

    def __init__(self, share: FairShare) -> None:
        self.share = share
        self.started: list[str] = []
        self.refused: dict[str, RendererBusy] = {}
        self._gates: dict[str, threading.Event] = {}
        self._threads: dict[str, threading.Thread] = {}

    def begin(self, name: str, tenant: str | None) -> None:
        gate = self._gates[name] = threading.Event()

        def render() -> None:
            try:
                with self.share.turn(tenant):
                    self.started.append(name)
                    gate.wait(30)
            except RendererBusy as busy:
                self.refused[name] = busy

        thread = self._threads[name] = threading.Thread(target=render, daemon=True)
        thread.start()

    def finish(self, name: str) -> None:
        self._gates[name].set()
        self._threads[name].join(30)
        assert not self._threads[name].is_alive()

    def finish_all(self) -> None:
        for name in list(self._threads):
            self.finish(name)


@contextmanager
def renders(**kw: float) -> Iterator[Renders]:
    settings: dict[str, float] = {"slots": 2, "share": 1, "waiting": 2, "patience": 30.0, **kw}
    held = Renders(FairShare(**settings))  # type: ignore[arg-type]
    try:
        yield held
    finally:
        held.finish_all()


def test_a_tenant_at_its_share_leaves_the_other_worker_to_another_tenant() -> None:
    with renders() as held:
        held.begin("a1", "A")
        _until(lambda: held.started == ["a1"], "a1 started")
        held.begin("a2", "A")
        _until(lambda: held.share.queued("A") == 1, "a2 waits although a worker is free")
        held.begin("b1", "B")
        _until(lambda: held.started == ["a1", "b1"], "b1 started on the free worker")
        assert held.share.queued("A") == 1
        held.finish("a1")
        _until(lambda: held.started == ["a1", "b1", "a2"], "a2 took a1's worker")


def test_exactly_the_waiting_cap_queues_and_one_past_it_is_busy_at_once() -> None:
    with renders(waiting=2) as held:
        held.begin("a1", "A")
        _until(lambda: held.share.running("A") == 1, "a1 running")
        held.begin("a2", "A")
        held.begin("a3", "A")
        _until(lambda: held.share.queued("A") == 2, "a2 and a3 waiting")
        assert held.refused == {}
        held.begin("a4", "A")
        _until(lambda: "a4" in held.refused, "a4 refused")
        assert held.refused["a4"].code == "RENDER_BUSY"
        assert held.refused["a4"].message == (
            "this tenant already has 1 PDF renders running and 2 waiting; try again in a few seconds"
        )
        held.begin("b1", "B")  # another tenant is not refused for A's queue
        _until(lambda: "b1" in held.started, "b1 started")
        held.finish("a1")
        held.finish("a2")
        _until(lambda: held.started[-1] == "a3", "a3 started")
    assert held.refused.keys() == {"a4"}


def test_no_waiting_allowed_still_runs_a_render_that_starts_at_once() -> None:
    with renders(waiting=0, slots=1) as held:
        held.begin("a1", "A")
        _until(lambda: held.started == ["a1"], "a1 started")
        held.begin("a2", "A")
        _until(lambda: "a2" in held.refused, "a2 refused")
        held.begin("b1", "B")
        _until(lambda: "b1" in held.refused, "b1 refused: it would have to wait, and none may")


def test_the_next_free_worker_goes_to_the_tenant_served_least_not_first_come() -> None:
    with renders(slots=1, share=1, waiting=5) as held:
        held.begin("a1", "A")
        _until(lambda: held.started == ["a1"], "a1 started")
        for name in ("a2", "a3"):
            held.begin(name, "A")
            _until(lambda name=name: held.share.queued("A") == int(name[1]) - 1, f"{name} waiting")
        held.begin("b1", "B")
        _until(lambda: held.share.queued("B") == 1, "b1 waiting")
        held.finish("a1")
        _until(lambda: len(held.started) == 2, "the next render started")
        assert held.started == ["a1", "b1"]  # B queued last but had not been served
        held.finish("b1")
        _until(lambda: len(held.started) == 3, "the next render started")
        held.finish("a2")
        _until(lambda: len(held.started) == 4, "the last render started")
        assert held.started == ["a1", "b1", "a2", "a3"]


def test_renders_without_a_tenant_have_no_share_but_take_their_turn() -> None:
    with renders(slots=2, share=1) as held:
        held.begin("x1", None)
        held.begin("x2", None)
        _until(lambda: len(held.started) == 2, "both ran at once")
        held.begin("a1", "A")
        _until(lambda: held.share.queued("A") == 1, "a1 waits for a slot")
        held.finish("x1")
        _until(lambda: "a1" in held.started, "a1 took the freed slot")


def test_a_render_that_waits_past_the_patience_is_busy_and_leaves_the_queue() -> None:
    with renders(slots=1, patience=0.2) as held:
        held.begin("a1", "A")
        _until(lambda: held.started == ["a1"], "a1 started")
        held.begin("b1", "B")
        _until(lambda: "b1" in held.refused, "b1 gave up")
        assert held.refused["b1"].message == "no PDF worker became free within 0.2 s; try again in a few seconds"
        assert held.share.queued("B") == 0 and held.share.running("B") == 0


def test_a_failing_render_gives_its_slot_back() -> None:
    share = FairShare(slots=1, share=1, waiting=0, patience=1)
    with pytest.raises(ValueError), share.turn("A"):
        raise ValueError("the render failed")
    assert share.running("A") == 0
    with share.turn("A"):
        assert share.running("A") == 1


@pytest.mark.parametrize("settings", [{"slots": 0}, {"share": 0}, {"waiting": -1}])
def test_impossible_shares_are_refused(settings: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        FairShare(**{"slots": 1, "share": 1, "waiting": 1, "patience": 1.0, **settings})  # type: ignore[arg-type]


def test_the_pool_hands_out_a_warm_worker_before_a_replacement_still_starting() -> None:
    from types import SimpleNamespace

    from adapters.pdf.pool import PoolSettings, WorkerPool

    pool = WorkerPool(PoolSettings(processes=2))  # nothing starts until the first job
    starting, warm = SimpleNamespace(ready=False), SimpleNamespace(ready=True)
    pool._idle.put(starting)  # type: ignore[arg-type]
    pool._idle.put(warm)  # type: ignore[arg-type]
    assert pool._acquire() is warm
    assert pool._acquire() is starting  # and it is not lost: it is the next one
