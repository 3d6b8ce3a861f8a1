"""Tables as columns of monospaced text: the fast path for lines, entries and report rows.

WeasyPrint spends about half a millisecond on every box it lays out and paints; a table cell
is several boxes (cell, line, text), so a 7-column table costs ~4 ms a row, and a 4,000-line
statement a minute. Here a whole block of rows is *one* text box: cells are padded in Python
to fixed character widths and the block is set in a monospaced font with ``white-space: pre``.
A row then costs one line of text, and the layout is exact and font-independent as long as
the font is monospaced (DejaVu Sans Mono, always present with fonts-dejavu-core).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class Column:
    width: int
    right: bool = False  # right-aligned (amounts), else left-aligned (text)


def fit(text: str, width: int) -> str:
    """``text`` on one line of at most ``width`` characters, cut with an ellipsis."""
    text = " ".join(str(text).split())
    if len(text) <= width:
        return text
    return text[: max(0, width - 1)] + ELLIPSIS if width > 0 else ""


def cell(text: str, column: Column) -> str:
    text = fit(text, column.width)
    return text.rjust(column.width) if column.right else text.ljust(column.width)


def row(cells: Sequence[str], columns: Sequence[Column], gap: str = " ") -> str:
    return gap.join(cell(text, column) for text, column in zip(cells, columns, strict=True)).rstrip()


def wrap(text: str, width: int, max_lines: int = 6) -> list[str]:
    """``text`` wrapped to ``width`` characters, at most ``max_lines`` lines (the last cut)."""
    lines = textwrap.wrap(" ".join(str(text).split()), width, break_long_words=True) or [""]
    if len(lines) > max_lines:
        lines = lines[: max_lines - 1] + [fit(" ".join(lines[max_lines - 1 :]), width)]
    return lines


def chunks(items: Sequence[object], first: int, rest: int) -> list[list[object]]:
    """``items`` in blocks: ``first`` items, then ``rest`` items each (at least one, maybe empty)."""
    if not items:
        return [[]]
    blocks = [list(items[:first])]
    blocks.extend(list(items[i : i + rest]) for i in range(first, len(items), rest))
    return blocks


def widths_for(
    header: Sequence[str], rows: Iterable[Sequence[str]], total: int, minimum: int = 4
) -> list[int]:
    """Column widths that fit the content, shrunk (widest first) to ``total`` characters."""
    widths = [max(len(h), minimum) for h in header]
    for cells in rows:
        for index, text in enumerate(cells):
            if len(text) > widths[index]:
                widths[index] = len(text)
    budget = total - (len(widths) - 1)
    while sum(widths) > budget:
        widest = max(range(len(widths)), key=lambda i: widths[i])
        if widths[widest] <= minimum:
            break
        widths[widest] -= 1
    return widths
