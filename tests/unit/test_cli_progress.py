"""The CLI's progress line (issue 18): drawn in place on a terminal, throttled, its last count kept
when it closes; nothing at all on a pipe. Tried on a real pseudo-terminal and a real pipe."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from entrypoints.cli_common import ProgressLine
from tests.terminals import Terminal, open_pipe, open_terminal


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    with open_terminal() as opened:
        yield opened


def test_on_a_terminal_the_line_is_rewritten_in_place_at_most_once_an_interval(terminal: Terminal) -> None:
    clock = Clock()
    line = ProgressLine("files gc", changed="removed", stream=terminal.stream, interval=1.0, clock=clock)
    assert line.live
    tick = 2.0**-10  # exact in binary: the sums below are exactly at the interval, or just inside it

    line(1, None, 1)  # the first count is drawn at once
    clock.now += 1.0 - tick
    line(2, None, 1)  # just inside the interval: not drawn
    clock.now += tick
    line(1200, 5000, 34)  # exactly one interval after the last draw: drawn
    clock.now += 0.5
    line(5000, 5000, 40)  # within the interval: only the close draws it
    line.close()

    assert terminal.read() == (
        "\rfiles gc: 1 checked, 1 removed\x1b[K"
        "\rfiles gc: 1,200/5,000 checked, 34 removed\x1b[K"
        "\rfiles gc: 5,000/5,000 checked, 40 removed\x1b[K\n"
    )


def test_closing_does_not_draw_the_last_count_twice_and_a_silent_walk_draws_nothing(terminal: Terminal) -> None:
    with ProgressLine("webhooks replay", checked="replayed", stream=terminal.stream, clock=Clock()) as line:
        line(7, 7)
    assert terminal.read() == "\rwebhooks replay: 7/7 replayed\x1b[K\n"

    with ProgressLine("files gc", stream=terminal.stream):
        pass  # nothing was walked: not even a line end
    assert terminal.read() == ""


def test_on_a_pipe_nothing_is_written_not_even_at_the_close() -> None:
    with open_pipe() as (stream, read):
        line = ProgressLine("secrets rotate", changed="resealed", stream=stream, interval=0.0)
        assert not line.live
        for n in range(1, 1001):
            line(n, 1000, n)
        line.close()
        stream.close()
        assert read() == b""


def test_a_stream_without_isatty_or_closed_counts_as_no_terminal(terminal: Terminal) -> None:
    class Bare:
        def write(self, text: str) -> int:
            raise AssertionError("nothing is written")

    assert not ProgressLine("x", stream=Bare()).live  # type: ignore[arg-type]
    closed = os.fdopen(os.dup(terminal.stream.fileno()), "w")
    closed.close()
    assert not ProgressLine("x", stream=closed).live


def test_the_line_reads_with_thousands_separators_with_or_without_a_total() -> None:
    line = ProgressLine("files gc", changed="removed")
    assert line.text(1200, 5000, 34) == "files gc: 1,200/5,000 checked, 34 removed"
    assert line.text(1200, None, 0) == "files gc: 1,200 checked, 0 removed"
    assert ProgressLine("webhooks replay", checked="replayed").text(1_000_000, 1_000_001, 5) == (
        "webhooks replay: 1,000,000/1,000,001 replayed"
    )
