"""How a long walk over many rows tells its caller how far it is (``istmo files gc`` shows it).

A handler that walks many rows takes an optional ``Progress`` and calls it as it goes, with the
rows checked so far, the rows to check in all (``None`` while not known yet) and the rows it
changed. It is called often (per row): whoever shows it decides how often to draw.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def __call__(self, checked: int, total: int | None, changed: int) -> None: ...


def no_progress(checked: int, total: int | None, changed: int) -> None:
    """Nobody is watching."""
