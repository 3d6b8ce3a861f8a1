"""Tables in the document's own typeface: rows of proportional text whose figures line up.

The fast path of the built-in layouts stays "one text box per block of rows" (see columns.py:
WeasyPrint spends ~0.5 ms on every box): each row is one line of text. What changed is the
font: DejaVu Sans, the document's, instead of DejaVu Sans Mono. Its figures are tabular (every
digit advances 1303/2048 em, as FIGURE SPACE U+2007 does) and its period, comma and space all
advance 651/2048 em, so an amount padded on the left with figure spaces and spaces ends exactly
where the column ends, whatever its digits. Text columns are measured with the font's advance
widths (read once per process) and padded with figure, normal, thin and hair spaces to within a
tenth of a point; the rows are set with kerning and ligatures off, so that what is measured here
is what Pango lays out (measured against WeasyPrint: within 0.05 pt over a row). Each blank aims
at where the next text starts on the row, so errors never add up along it. (Tabs were tried:
WeasyPrint 70 places a tab stop at a distance that depends on the text before it.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from bisect import bisect_left
from functools import lru_cache
from pathlib import Path

UNITS_PER_EM = 2048
FIGURE = 1303  # a digit, and U+2007
POINT = 651  # period, comma, space, U+2008
ELLIPSIS = "…"
# Blanks of DejaVu Sans to pad with: figure space, then a few of the narrower ones for the rest.
_FINE = ((" ", 651), ("\u2005", 512), ("\u2009", 409), ("\u2006", 342), ("\u200a", 204))
_FONT_PATHS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/local/share/fonts/DejaVuSans.ttf",
)
_UNKNOWN = 2048  # a character the font has no glyph for: one em, generous


@lru_cache(maxsize=1)
def advances() -> dict[int, int]:
    """Code point -> advance (font units) of DejaVu Sans; digits and punctuation only if the
    font file cannot be read (then every other character counts as one em)."""
    for candidate in _FONT_PATHS:
        if Path(candidate).is_file():
            try:
                from fontTools.ttLib import TTFont  # WeasyPrint's own dependency

                font = TTFont(candidate, lazy=True)
                metrics = font["hmtx"].metrics
                return {code: metrics[glyph][0] for code, glyph in font.getBestCmap().items()}
            except Exception:  # noqa: S112 - an unreadable font file: try the next, else the fallback
                continue
    fallback = {ord(d): FIGURE for d in "0123456789\u2007$"}
    fallback.update({ord(c): POINT for c in ".,: \u2008"})
    fallback.update({0x2009: 409, 0x200A: 204, ord("%"): 1946, ord("-"): 739, ord("/"): 690})
    return fallback


class _Advances(dict[str, int]):
    """Character -> advance, one em for a character the font has no glyph for."""

    def __missing__(self, _char: str) -> int:
        return _UNKNOWN


@lru_cache(maxsize=1)
def _by_char() -> _Advances:
    return _Advances({chr(code): advance for code, advance in advances().items()})


def width(text: str) -> int:
    """The advance of ``text`` in font units (kerning and ligatures off). ``map`` over a dict's
    lookup keeps the loop in C: a statement measures ~100,000 characters."""
    return sum(map(_by_char().__getitem__, text))


@lru_cache(maxsize=1)
def _blanks() -> tuple[list[int], dict[int, str]]:
    """Every width up to two figures made of at most five fine blanks, with its shortest text."""
    found: dict[int, str] = {0: ""}
    for _ in range(5):
        for size, text in list(found.items()):
            for char, advance in _FINE:
                wider = size + advance
                if wider < 2 * FIGURE and (wider not in found or len(found[wider]) > len(text) + 1):
                    found[wider] = text + char
    return sorted(found), found


EM = 2048  # U+2003: the widest blank, so the fewest glyphs to lay out and draw (~0.5 ms a row)


@lru_cache(maxsize=4096)
def padding(units: int) -> tuple[str, int]:
    """Blank text about ``units`` wide (within ~32 font units above 650), and its exact width:
    em spaces, then a figure space or two, then the finer blanks."""
    sizes, texts = _blanks()
    ems, rest = divmod(max(0, units), EM)
    if ems and rest < FIGURE:  # the fine blanks are finer on a wider remainder
        ems, rest = ems - 1, rest + EM
    figures, rest = divmod(rest, FIGURE)
    if figures and rest < FIGURE // 2:
        figures, rest = figures - 1, rest + FIGURE
    at = bisect_left(sizes, rest)
    size = min(sizes[max(0, at - 1) : at + 1], key=lambda s: abs(s - rest))
    return "\u2003" * ems + "\u2007" * figures + texts[size], ems * EM + figures * FIGURE + size


def pad(units: int) -> str:
    return padding(units)[0]


def fit(text: str, units: int) -> str:
    """``text`` on one line no wider than ``units``, cut with an ellipsis."""
    return _fitted(text, units)[0]


def _fitted(text: str, units: int) -> tuple[str, int]:
    """``fit`` and the width of what it gives."""
    text = " ".join(str(text).split())
    size = width(text)
    if size <= units:
        return text, size
    if units < width(ELLIPSIS):
        return "", 0
    kept = _prefix(text, units - width(ELLIPSIS)).rstrip() + ELLIPSIS
    return kept, width(kept)


def _prefix(text: str, units: int) -> str:
    """The longest start of ``text`` no wider than ``units``."""
    table, budget = _by_char(), units
    for index, ch in enumerate(text):
        budget -= table[ch]
        if budget < 0:
            return text[:index]
    return text


def wrap(text: str, units: int, max_lines: int = 6) -> list[str]:
    """``text`` wrapped to lines no wider than ``units``, at most ``max_lines`` (the last cut)."""
    words = " ".join(str(text).split())
    if width(words) <= units:
        return [words]
    lines: list[str] = []
    current = ""
    for word in words.split(" "):
        candidate = f"{current} {word}" if current else word
        if width(candidate) <= units:
            current = candidate
            continue
        if current:
            lines.append(current)
        while width(word) > units:  # a word longer than the line: cut it where it overflows
            head = _prefix(word, units) or word[:1]
            lines.append(head)
            word = word[len(head):]
        current = word
    lines.append(current)
    if len(lines) > max_lines:
        lines = lines[: max_lines - 1] + [fit(" ".join(lines[max_lines - 1 :]), units)]
    return lines or [""]


@dataclass(frozen=True, slots=True)
class Column:
    """A column ``units`` wide; right-aligned (amounts) or left-aligned (text)."""

    units: int
    right: bool = False


def cell(text: str, column: Column) -> str:
    text, size = _fitted(text, column.units)
    gap = pad(column.units - size)
    return gap + text if column.right else text + gap


GAP = 2 * FIGURE  # between two columns


def row(cells: Sequence[str], columns: Sequence[Column], gap: int = GAP) -> str:
    """The cells in their columns, ``gap`` units apart. Each blank aims at where the text must
    start on the row (measured from the row's start), so the small errors of padding never add
    up along the row; nothing follows the last text."""
    parts: list[str] = []
    written = start = 0
    for index, (text, column) in enumerate(zip(cells, columns, strict=True)):
        if index:
            start += gap
        text, size = _fitted(text, column.units)
        if text:
            begin = start + column.units - size if column.right else start
            blank, blank_size = padding(begin - written)
            parts.append(blank + text)
            written += blank_size + size
        start += column.units
    return "".join(parts)


def widths(header: Sequence[str], rows: Sequence[Sequence[str]], minimum: int = 3 * FIGURE) -> list[int]:
    """Each column as wide as its widest cell or header (at least ``minimum`` units)."""
    found = [max(width(h), minimum) for h in header]
    for cells in rows:
        for index, text in enumerate(cells):
            size = width(text)
            if size > found[index]:
                found[index] = size
    return found


def units_of(points: float, size_pt: float) -> int:
    """``points`` of page width in font units at ``size_pt``."""
    return int(points * UNITS_PER_EM / size_pt)


def points_of(units: int, size_pt: float) -> float:
    return units * size_pt / UNITS_PER_EM
