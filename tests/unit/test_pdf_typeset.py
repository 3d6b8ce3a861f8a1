"""Issue 18, typography: table rows in the document's typeface (DejaVu Sans) whose columns line
up. Properties over the measured advances: blanks are as wide as asked within a few font units,
and in any row every right-aligned cell ends, and every left-aligned cell starts, where its
column says, whatever came before it on the row."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.pdf import typeset
from adapters.pdf.typeset import FIGURE, GAP, Column, padding, row, width, wrap

EXACT = 32  # font units: 0.125 pt at 8 pt, for a blank of at least a space
COARSE = 102  # half a hair space: a blank narrower than a space

amount = st.decimals(min_value=0, max_value=10**9, places=2).map(lambda d: f"{d:,.2f}")
text = st.text(alphabet=st.characters(codec="latin-1", categories=("L", "N", "P", "Zs")), max_size=30)


def test_dejavu_sans_figures_are_tabular_and_the_blanks_match_them() -> None:
    assert {width(d) for d in "0123456789"} == {FIGURE} == {width("\u2007")}
    assert width(".") == width(",") == width(" ") == 651


@given(st.integers(min_value=0, max_value=200_000))
def test_a_blank_is_as_wide_as_asked(units: int) -> None:
    blank, size = padding(units)
    assert width(blank) == size
    assert abs(size - units) <= (EXACT if units >= 651 else COARSE)


@settings(deadline=None)
@given(st.lists(st.tuples(st.one_of(amount, text), st.booleans(), st.integers(min_value=3, max_value=30)), min_size=1, max_size=8))
def test_every_cell_sits_where_its_column_says(cells: list[tuple[str, bool, int]]) -> None:
    columns = [Column(max(FIGURE * chars, width(t) if right else FIGURE * chars), right) for t, right, chars in cells]
    line = row([t for t, _r, _c in cells], columns)
    start = 0
    for index, ((content, right, _c), column) in enumerate(zip(cells, columns)):
        if index:
            start += GAP
        shown = typeset.fit(content, column.units)
        if shown:
            begin = start + column.units - width(shown) if right else start
            at = _find(line, shown, begin, EXACT if index else COARSE)
            assert at is not None, (line, shown)
        start += column.units


def _find(line: str, shown: str, begin: int, tolerance: int) -> int | None:
    """Where ``shown`` starts in ``line`` if its measured position is ``begin`` (± ``tolerance``)."""
    position = line.find(shown)
    while position >= 0:
        if abs(width(line[:position]) - begin) <= tolerance:
            return position
        position = line.find(shown, position + 1)
    return None


@settings(deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "Zs")), max_size=300), st.integers(min_value=FIGURE * 3, max_value=FIGURE * 60))
def test_wrapped_lines_fit_their_width(content: str, units: int) -> None:
    lines = wrap(content, units)
    assert 1 <= len(lines) <= 6
    assert all(width(line) <= units for line in lines)


def test_a_long_word_is_cut_and_the_sixth_line_ends_with_an_ellipsis() -> None:
    lines = wrap("x" * 500, FIGURE * 10)
    assert len(lines) == 6 and lines[-1].endswith("…") and all(width(l) <= FIGURE * 10 for l in lines)
