"""What every ``istmo`` command group needs: the container from the environment, a message run
through the bus with a domain error as one line, the tenant a ``--tenant`` names, and the progress
line of a command that walks many rows."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self, TextIO

import click

from domain.shared.errors import DomainError
from entrypoints.config import ConfigurationError, Settings
from entrypoints.container import Container, build_container


def open_container() -> Container:
    try:
        return build_container(Settings.from_env())
    except ConfigurationError as error:
        raise click.ClickException(str(error)) from None


def run(container: Container, message: Any) -> Any:
    try:
        return container.bus().handle(message)
    except DomainError as error:
        raise click.ClickException(f"{error.code}: {error.message}") from None


def tenant(container: Container, reference: str) -> Any:
    """The tenant a ``--tenant`` names, by slug or id (issue 18); an unknown one stops the command."""
    from application.tenancy.handlers import FindTenant

    return run(container, FindTenant(actor=None, reference=reference))


def progress_stream() -> TextIO:
    """Where progress goes: stderr (stdout keeps the command's answer)."""
    return sys.stderr


class ProgressLine:
    """``files gc: 1,200/5,000 checked, 34 removed``, rewritten in place on stderr as a command
    walks many rows, and only when stderr is a terminal: a pipe or a log file gets nothing, so
    scripts and logs read only the answer. An ``application.shared.progress.Progress``: called
    per row, it draws at most once every ``interval`` seconds, and its last count when closed
    (then ends the line)."""

    def __init__(
        self,
        label: str,
        *,
        checked: str = "checked",
        changed: str | None = None,
        stream: TextIO | None = None,
        interval: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = progress_stream() if stream is None else stream
        self._live = _is_terminal(self._stream)
        self._label, self._checked, self._changed = label, checked, changed
        self._interval, self._clock = interval, clock
        self._drawn_at: float | None = None
        self._last: tuple[int, int | None, int] | None = None
        self._drawn: tuple[int, int | None, int] | None = None

    @property
    def live(self) -> bool:
        return self._live

    def __call__(self, checked: int, total: int | None, changed: int = 0) -> None:
        if not self._live:
            return
        self._last = (checked, total, changed)
        now = self._clock()
        if self._drawn_at is None or now - self._drawn_at >= self._interval:
            self._drawn_at = now
            self._draw()

    def close(self) -> None:
        if not self._live or self._last is None:
            return
        if self._last != self._drawn:
            self._draw()
        self._stream.write("\n")
        self._stream.flush()
        self._last = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def text(self, checked: int, total: int | None, changed: int) -> str:
        done = f"{checked:,}" if total is None else f"{checked:,}/{total:,}"
        tail = "" if self._changed is None else f", {changed:,} {self._changed}"
        return f"{self._label}: {done} {self._checked}{tail}"

    def _draw(self) -> None:
        assert self._last is not None
        # carriage return, the line, then erase what a longer previous line left on the right
        self._stream.write("\r" + self.text(*self._last) + "\x1b[K")
        self._stream.flush()
        self._drawn = self._last


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or closed
        return False
