"""The built-in layouts' tables as rows of proportional text (see typeset.py): invoice and quote
lines, label/amount pairs, the statement's summaries and ledger, and report rows, each row one line
of a text box whose blanks put every column where it belongs."""

from __future__ import annotations

from collections.abc import Mapping

from adapters.pdf import formatting, typeset
from adapters.pdf.columns import chunks
from application.pdf.documents import InvoiceDocument, QuoteDocument, ReportDocument, StatementDocument
from domain.pdf.layout import PaperSize

ROW_PT = 8.0  # size of table rows (base.css .mono)
_LINES_PER_BLOCK = 32
ROW_PADDING_PT = 2 * 72 / 25.4  # 1 mm each side of a row (base.css .lines, and right of .totals)
_EDGE = 64  # font units kept free at the end of a row: a blank may be 32 units too wide
# Rows of entries per page-sized block: first page (under the heading), then following pages.
# Rows are 11 pt; a block that still overflows splits and carries on, which is only cosmetic.
_ROWS_PER_PAGE = {PaperSize.A4: (38, 62), PaperSize.LETTER: (34, 57)}


def pairs(pairs: list[tuple[str, str]], amounts: list[str], width_pt: float) -> str:
    """Label and amount pairs, amounts flush right and aligned on their last digit (one text box
    for all of them)."""
    amount_units = max((typeset.width(a) for a in amounts), default=0)
    text_units = typeset.units_of(width_pt, ROW_PT) - _EDGE - amount_units - typeset.GAP
    columns = [typeset.Column(text_units), typeset.Column(amount_units, True)]
    return "\n".join(typeset.row([label, value], columns) for label, value in pairs)


def summary_table(labels: list[str], amounts: list[str], content_pt: float) -> str:
    """Two rows (labels, then amounts) across the full width, each column right-aligned (inside
    the 1 mm padding and 0.5 pt borders of base.css .boxed.mono)."""
    usable = typeset.units_of(content_pt - ROW_PADDING_PT - 1, ROW_PT) - _EDGE
    each = (usable - typeset.GAP * (len(labels) - 1)) // len(labels)
    columns = [typeset.Column(each, right=True)] * len(labels)
    return "\n".join((typeset.row(labels, columns), typeset.row(amounts, columns)))


def _numbers(header: list[str], cells: list[list[str]]) -> tuple[list[typeset.Column], int]:
    columns = [typeset.Column(units, True) for units in typeset.widths(header, cells)]
    return columns, sum(c.units for c in columns) + typeset.GAP * (len(columns) - 1)


def line_blocks(
    document: InvoiceDocument | QuoteDocument, labels: Mapping[str, str], content_pt: float
) -> tuple[str, list[str]]:
    """Every line as one row: the description (wrapped to the width the amounts leave, continued
    on rows of its own), then the amounts right-aligned in their columns. One text box per block
    of rows."""
    header = [labels[k] for k in ("quantity", "unit_price", "discount", "tax_rate", "tax", "total")]
    cells = [
        [
            formatting.quantity(line.quantity),
            formatting.number(line.unit_price),
            formatting.number(line.discount) if line.discount else "",
            formatting.percent(line.tax_rate),
            formatting.number(line.tax),
            formatting.number(line.total),
        ]
        for line in document.lines
    ]
    numbers, numbers_units = _numbers(header, cells)
    usable = typeset.units_of(content_pt - ROW_PADDING_PT, ROW_PT) - _EDGE
    columns = [typeset.Column(max(usable // 4, usable - numbers_units - typeset.GAP)), *numbers]
    blocks: list[str] = []
    rows: list[str] = []
    for line, values in zip(document.lines, cells, strict=True):
        texts = typeset.wrap(line.description, columns[0].units)
        if rows and len(rows) + len(texts) > _LINES_PER_BLOCK:
            blocks.append("\n".join(rows))
            rows = []
        rows.append(typeset.row([texts[0], *values], columns))
        rows.extend(texts[1:])
    blocks.append("\n".join(rows))
    return typeset.row([labels["description"], *header], columns), blocks


def entry_blocks(
    document: StatementDocument, labels: Mapping[str, str], locale: str, content_pt: float, paper: PaperSize
) -> tuple[str, list[list[str]]]:
    """Entries as rows across the full width: date, type, reference and description, then debit,
    credit and balance right-aligned; in page-sized blocks."""
    number = formatting.number
    fmt_date = formatting.format_date
    kinds = {k: labels[f"kind_{k}"] for k in ("INVOICE", "PAYMENT", "CREDIT_NOTE")}
    header = [labels[k] for k in ("date", "kind", "reference", "description", "debit", "credit", "balance")]
    opening = [fmt_date(document.period_from, locale), "", "", labels["opening_balance"], "", "", number(document.opening_balance)]
    cells = [opening] + [
        [
            fmt_date(e.date, locale),
            kinds.get(str(e.kind), str(e.kind)),
            e.reference,
            e.description,
            number(e.debit) if e.debit else "",
            number(e.credit) if e.credit else "",
            number(e.balance),
        ]
        for e in document.entries
    ]
    numbers, numbers_units = _numbers(header[4:], [c[4:] for c in cells])
    usable = typeset.units_of(content_pt - ROW_PADDING_PT, ROW_PT) - _EDGE
    text_units = max(usable // 3, usable - numbers_units - typeset.GAP)
    fixed = [min(units, text_units // 5) for units in typeset.widths(header[:3], [c[:3] for c in cells])]
    description = max(typeset.FIGURE * 4, text_units - sum(fixed) - 3 * typeset.GAP)
    columns = [*(typeset.Column(units) for units in (*fixed, description)), *numbers]
    lines = [typeset.row(values, columns) for values in cells]
    first, rest = _ROWS_PER_PAGE[paper]
    return typeset.row(header, columns), chunks(lines, first, rest)  # type: ignore[return-value]


_PART_ROWS = 8  # even: the zebra's two-row stripes keep their phase from one box to the next


def parts(rows: list[str]) -> list[str]:
    """A page of rows as text boxes of 8 rows: WeasyPrint re-encodes the rest of a box's text
    for each line it lays out, so a box's cost grows with the square of its length once the text
    is not ASCII (figure and fine spaces, accents), while each box costs its own layout: 8 rows
    a box measured best (a 600-row statement, callgrind: 16 rows or 4 rows a box each cost ~2 %
    more instructions)."""
    return ["\n".join(rows[i : i + _PART_ROWS]) for i in range(0, len(rows), _PART_ROWS)] or [""]


def report_blocks(
    document: ReportDocument, content_pt: float, paper: PaperSize
) -> tuple[str, list[str], str | None]:
    """Report rows: columns as wide as their content (numeric ones right-aligned), the widest
    text column shrunk until the row fits the width."""
    usable = typeset.units_of(content_pt - ROW_PADDING_PT, ROW_PT) - _EDGE
    rows_and_totals = [*document.rows, *([document.totals] if document.totals else [])]
    numeric = set(document.numeric_columns)
    found = typeset.widths(document.columns, rows_and_totals)
    budget = usable - typeset.GAP * (len(found) - 1)
    while sum(found) > budget:
        widest = max((i for i in range(len(found)) if i not in numeric), key=lambda i: found[i], default=None)
        if widest is None or found[widest] <= typeset.FIGURE * 3:
            break
        found[widest] -= typeset.FIGURE
    if sum(found) < budget:  # the last text column takes what is left: amounts end at the right
        texts = [i for i in range(len(found)) if i not in numeric]
        if texts:
            found[texts[-1]] += budget - sum(found)
    columns = [typeset.Column(units, index in numeric) for index, units in enumerate(found)]
    lines = [typeset.row(list(cells), columns) for cells in document.rows]
    first, rest = _ROWS_PER_PAGE[paper]
    blocks = ["\n".join(block) for block in chunks(lines, first + 8, rest)]  # type: ignore[arg-type]
    totals = typeset.row(list(document.totals), columns) if document.totals else None
    return typeset.row(list(document.columns), columns), blocks, totals
