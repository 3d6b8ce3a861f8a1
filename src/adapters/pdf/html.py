"""Document data + layout -> one HTML string, through the sandbox.

``HtmlComposer`` is built once per worker process: it reads the built-in templates and the
stylesheet from the package and compiles them, so a render only runs compiled code. Tenant
templates are compiled on first use and kept in a small LRU keyed by their source.

Templates see plain data only: dataclasses become dicts, enums their string value; ``Decimal``,
``date`` and ``str`` stay as they are (immutable values without side effects).
"""

from __future__ import annotations

import base64
import dataclasses
import re
import struct
import zlib
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from importlib import resources
from typing import Any
from urllib.parse import quote

import segno
from jinja2 import DictLoader, Template, TemplateSyntaxError, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from adapters.pdf import digests, formatting
from adapters.pdf import tables
from adapters.pdf.sandbox import DocumentSandbox, render_bounded
from application.pdf.documents import (
    ASSET_MIMES,
    DocumentType,
    InvoiceDocument,
    LegalStatus,
    PaperSize,
    PdfAsset,
    PdfDocument,
    PdfLayout,
    QuoteDocument,
    ReportDocument,
    StatementDocument,
)
from domain.pdf.errors import TemplateInvalid

MAX_HTML_CHARS = 20_000_000
MAX_TEMPLATE_CHARS = 100_000
BUILT_IN = (
    "base.html",
    "_head.html",
    "_lines.html",
    "_summary.html",
    "invoice.html",
    "quote.html",
    "statement.html",
    "report.html",
    "layout.css",
)
ASSET_SCHEME = "istmo-asset"
_BODY = {
    DocumentType.INVOICE: "invoice.html",
    DocumentType.CREDIT_NOTE: "invoice.html",
    DocumentType.QUOTE: "quote.html",
    DocumentType.STATEMENT: "statement.html",
    DocumentType.REPORT: "report.html",
}


@dataclass(frozen=True, slots=True)
class ComposedHtml:
    html: str
    layout_css: str  # the per-layout stylesheet (colours, paper, page labels), same for many documents
    title: str
    created: str  # W3C date of the document, also the PDF's creation and modification date


def asset_url(name: str, asset: PdfAsset) -> str:
    """``istmo-asset:<sha256>/<name>``: named for the fetcher, content-addressed for the image
    cache a worker keeps across renders (two tenants' logos never share a URL)."""
    return f"{ASSET_SCHEME}:{digests.sha256(asset.data).hex()}/{quote(name, safe='')}"


# --- plain data ----------------------------------------------------------------------------


def plain(value: Any) -> Any:
    """Dataclasses -> dicts, tuples/lists -> lists, enums -> str; scalars unchanged."""
    if isinstance(value, (str, int, Decimal, date, type(None))) and not isinstance(value, Enum):
        return value
    if isinstance(value, Enum):
        return str(value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [plain(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (float, time)):
        return value
    raise TypeError(f"{type(value).__name__} is not plain document data")


def css_string(text: str) -> Markup:
    """``text`` as a quoted CSS string, safe inside a ``<style>`` element."""
    escaped = "".join(ch if (ch.isalnum() or ch in " .,:;-_/()%") else f"\\{ord(ch):x} " for ch in text)
    return Markup(f'"{escaped}"')  # noqa: S704 - every character outside a safe set is a CSS escape


def safe_style(css: str) -> Markup:
    """Tenant CSS for a ``<style>`` element: it may not close the element."""
    return Markup(re.sub(r"<(?=\s*/|!)", r"\\3c ", css))  # noqa: S704 - "</" and "<!" escaped: it cannot end the element


QrMatrix = Callable[[str], Sequence[bytearray]]


def segno_matrix(text: str) -> tuple[bytearray, ...]:
    """Rows of modules (1 dark) of the QR code of ``text``: error level M, mask 0, no micro code."""
    code = segno.make(text, error="m", micro=False, mask=0, boost_error=False)
    return tuple(bytearray(row) for row in code.matrix)


def qr_png(url: str, qr_matrix: QrMatrix = segno_matrix) -> bytes:
    """The QR code of ``url`` as an 8-bit grey PNG, one pixel per module, 2-module quiet zone.

    Printed with ``image-rendering: pixelated`` it is as sharp as a vector, and far cheaper
    for WeasyPrint than an SVG path (its path parser takes ~140 ms on a QR code); 8-bit grey
    is embedded as it is, where a 1-bit image would be converted by Pillow first. Mask 0
    instead of segno's search over the eight masks: any mask gives a valid code, and the
    search is three quarters of segno's time (~20 ms per code in pure Python). The symbol is
    segno's, encoded by ``qr_matrix`` (the accelerator's takes ~0.6 ms instead of ~1.7 ms).
    """
    matrix = qr_matrix(url)
    border = 2
    size = len(matrix) + 2 * border
    quiet = b"\xff" * size
    margin = b"\xff" * border
    rows = [quiet] * border
    for cells in matrix:
        rows.append(margin + cells.translate(_QR_GREYS) + margin)
    rows.extend([quiet] * border)
    return _png(size, rows, colour=False)


_QR_GREYS = bytes([0xFF, 0x00]) + bytes(254)  # module 0 (light) -> white, 1 (dark) -> black


def _png(width: int, rows: list[bytes], *, colour: bool) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, len(rows), 8, 2 if colour else 0, 0, 0, 0)
    raw = b"".join(b"\x00" + line for line in rows)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", header),
            chunk(b"IDAT", zlib.compress(raw, 6)),
            chunk(b"IEND", b""),
        )
    )


@lru_cache(maxsize=64)
def zebra_data_uri(colour: str, strength: float = 0.09) -> str:
    """A 1x2 PNG, white over a light tint of ``colour``: tiled behind rows, it stripes them at
    the cost of one image (a CSS gradient costs a PDF function per stripe)."""
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    tint = bytes(round(255 + (c - 255) * strength) for c in rgb)
    png = _png(1, [b"\xff\xff\xff", tint], colour=True)
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def qr_data_uri(url: str, qr_matrix: QrMatrix = segno_matrix) -> str:
    return "data:image/png;base64," + base64.b64encode(qr_png(url, qr_matrix)).decode("ascii")


# --- filters (locale and currency come from the render context) -------------------------------


@pass_context
def _money(context: Context, value: Any, currency: str | None = None) -> str:
    return formatting.money(value, currency or context.get("currency") or "USD")


@pass_context
def _date(context: Context, value: Any) -> str:
    return formatting.format_date(value, context.get("locale") or "es-PA")


@pass_context
def _datetime(context: Context, value: Any) -> str:
    return formatting.format_datetime(value, context.get("locale") or "es-PA")


@pass_context
def _long_date(context: Context, value: Any) -> str:
    return formatting.long_date(value, context.get("locale") or "es-PA")


FILTERS = {
    "money": _money,
    "number": formatting.number,
    "qty": formatting.quantity,
    "percent": formatting.percent,
    "date": _date,
    "datetime": _datetime,
    "longdate": _long_date,
}


def template_line_of(error: BaseException) -> int | None:
    line = None
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


class HtmlComposer:
    """Compiles the built-in templates once; composes documents into HTML strings."""

    def __init__(
        self,
        *,
        max_html_chars: int = MAX_HTML_CHARS,
        custom_cache_size: int = 32,
        qr_matrix: QrMatrix = segno_matrix,
    ) -> None:
        folder = resources.files("adapters.pdf") / "templates"
        sources = {name: (folder / name).read_text("utf-8") for name in BUILT_IN}
        self.base_css = (folder / "base.css").read_text("utf-8")
        self.ua_css = (folder / "ua.css").read_text("utf-8")
        self.env = DocumentSandbox(loader=DictLoader(sources), filters=FILTERS)
        self._templates = {name: self.env.get_template(name) for name in BUILT_IN}
        self._custom: OrderedDict[str, Template] = OrderedDict()
        self._custom_cache_size = custom_cache_size
        self._max_html_chars = max_html_chars
        self._qr: OrderedDict[str, str] = OrderedDict()
        self._qr_matrix = qr_matrix
        self._layout_css: dict[tuple[str, ...], str] = {}

    # --- templates ----------------------------------------------------------------------

    def compile_custom(self, source: str) -> Template:
        """Compile a tenant body template (cached); ``TemplateInvalid`` names the line."""
        cached = self._custom.get(source)
        if cached is not None:
            self._custom.move_to_end(source)
            return cached
        template = compile_template(self.env, source)
        self._custom[source] = template
        if len(self._custom) > self._custom_cache_size:
            self._custom.popitem(last=False)
        return template

    # --- documents ----------------------------------------------------------------------

    def compose(
        self, document: PdfDocument, layout: PdfLayout, assets: Mapping[str, PdfAsset]
    ) -> ComposedHtml:
        context = self.context(document, layout, assets)
        if layout.custom_body_template:
            body_template = self.compile_custom(layout.custom_body_template)
        else:
            body_template = self._templates[_BODY[document.document_type]]
        body = render_bounded(body_template, context, self._max_html_chars)
        context["body"] = Markup(body)  # noqa: S704 - rendered by the autoescaping sandbox just above
        html = render_bounded(self._templates["base.html"], context, self._max_html_chars)
        return ComposedHtml(
            html=html, layout_css=self.layout_css(layout), title=context["title"], created=context["created"]
        )

    def layout_css(self, layout: PdfLayout) -> str:
        """The stylesheet of a layout's colours, paper size and page labels (memoised)."""
        key = (layout.primary_color, layout.secondary_color, layout.paper_size, layout.locale)
        css = self._layout_css.get(key)
        if css is None:
            labels = formatting.labels(str(layout.locale))
            css = self._templates["layout.css"].render(
                page_size=Markup("A4" if layout.paper_size == PaperSize.A4 else "letter"),  # noqa: S704 - a constant
                page_label=css_string(labels["page"] + " "),
                of_label=css_string(f" {labels['of']} "),
                # colours are #RRGGBB, checked by the PdfTemplate domain; the zebra is a data: URI of them
                primary=Markup(layout.primary_color),  # noqa: S704
                secondary=Markup(layout.secondary_color),  # noqa: S704
                zebra=Markup(zebra_data_uri(layout.secondary_color)),  # noqa: S704
            )
            if len(self._layout_css) > 64:
                self._layout_css.clear()
            self._layout_css[key] = css
        return css

    def context(
        self, document: PdfDocument, layout: PdfLayout, assets: Mapping[str, PdfAsset]
    ) -> dict[str, Any]:
        """Everything a body template sees: ``doc`` (the document as plain data), ``labels``,
        ``layout``, ``logo``/``assets`` (URLs), and ready-made strings for the built-in bodies."""
        locale = str(layout.locale)
        labels = formatting.labels(locale)
        kind = document.document_type
        doc = plain(document)
        doc["document_type"] = str(kind)
        heading = labels[str(kind)]
        urls = {name: asset_url(name, asset) for name, asset in assets.items() if asset.mime in ASSET_MIMES}
        content_pt = _CONTENT_WIDTH_PT[layout.paper_size]
        currency = getattr(document, "currency", "USD")
        context: dict[str, Any] = {
            "doc": doc,
            "kind": str(kind).lower(),
            "labels": labels,
            "locale": locale,
            "lang": "en" if locale == "en" else "es",
            "currency": currency,
            "layout": {
                "primary_color": layout.primary_color,
                "secondary_color": layout.secondary_color,
                "header_text": layout.header_text,
                "footer_text": layout.footer_text,
                "paper_size": str(layout.paper_size),
                "locale": locale,
            },
            "assets": urls,
            "logo": urls.get("logo"),
            "heading": heading,
            "number": getattr(document, "number", None),
            "custom_css": safe_style(layout.custom_css) if layout.custom_css else None,
            "fiscal": False,
            "qr": None,
        }
        fmt_date = formatting.format_date
        money = formatting.money
        if isinstance(document, (InvoiceDocument, QuoteDocument, StatementDocument)):
            context["issuer_lines"] = _party_lines(document.issuer, labels)
            context["issuer_missing"] = _missing(document.issuer, labels)
            context["client_lines"] = _party_lines(document.client, labels)
        elif isinstance(document, ReportDocument) and document.issuer is not None:
            context["issuer_lines"] = _party_lines(document.issuer, labels)
            context["issuer_missing"] = _missing(document.issuer, labels)
        if isinstance(document, (InvoiceDocument, QuoteDocument)):
            meta = [f"{labels['issue_date']}: {fmt_date(document.issue_date, locale)}"]
            if isinstance(document, InvoiceDocument):
                fiscal = document.legal_status == LegalStatus.DGI_AUTHORIZED
                context["fiscal"] = fiscal
                if fiscal and document.qr_url:
                    context["qr"] = self._qr_of(document.qr_url)
                if document.due_date:
                    meta.append(f"{labels['due_date']}: {fmt_date(document.due_date, locale)}")
                if document.legal_status != LegalStatus.NONE:
                    meta.append(f"{labels['legal_status']}: {labels['legal_' + document.legal_status]}")
                authorized_at = formatting.format_datetime(document.authorized_at, locale)
                context["fiscal_lines"] = [
                    f"{labels['protocol']}: {document.authorization_protocol or ''}",
                    f"{labels['authorized_at']}: {authorized_at}",
                    labels["qr_hint"],
                ]
            elif document.valid_until:
                meta.append(f"{labels['valid_until']}: {fmt_date(document.valid_until, locale)}")
            if isinstance(document, InvoiceDocument) and document.invoice_number:
                meta.append(f"{labels['credited_invoice']}: {document.invoice_number}")
            meta.append(f"{labels['status']}: {labels.get('status_' + document.status, document.status)}")
            meta.append(f"{labels['currency']}: {document.currency}")
            context["meta"] = meta
            taxes = [(t.rate, t.base, t.tax) for t in document.taxes] or _taxes_of(document)
            context["taxes"] = [{"rate": r, "base": b, "tax": t} for r, b, t in taxes]
            context["tax_lines"] = [
                f"{labels['tax']} {formatting.percent(r)}: {labels['tax_base']} {money(b, currency)}"
                f" · {labels['tax']} {money(t, currency)}"
                for r, b, t in taxes
            ]
            before = [(labels["subtotal"], money(document.subtotal, currency))]
            if document.discount_total:
                before.append((labels["discount_total"], money(document.discount_total, currency)))
            before.append((labels["tax_total"], money(document.tax_total, currency)))
            context["totals_before"] = before
            context["totals_after"] = (
                [
                    (labels["paid"], money(document.paid, currency)),
                    (labels["balance"], money(document.balance, currency)),
                ]
                if isinstance(document, InvoiceDocument) and document.document_type != DocumentType.CREDIT_NOTE
                else []
            )
            context["reason"] = getattr(document, "reason", None)
            totals_pt = content_pt * _TOTALS_SHARE - tables.ROW_PADDING_PT / 2
            amounts = [value for _label, value in context["totals_before"] + context["totals_after"]]
            context["totals_before_rows"] = tables.pairs(context["totals_before"], amounts, totals_pt)
            context["totals_after_rows"] = tables.pairs(context["totals_after"], amounts, totals_pt)
            header, blocks = tables.line_blocks(document, labels, content_pt)
            context["lines_header"], context["line_blocks"] = header, blocks
            title = f"{heading} {document.number}"
            created = document.issue_date
        elif isinstance(document, StatementDocument):
            period = f"{fmt_date(document.period_from, locale)} – {fmt_date(document.period_to, locale)}"
            as_of = fmt_date(document.as_of or document.period_to, locale)
            context["ageing_as_of"] = as_of
            context["meta"] = [
                f"{labels['period']}: {period}",
                f"{labels['ageing']} {labels['ageing_as_of']} {as_of}",
                f"{labels['currency']}: {document.currency}",
            ]
            charges = sum((e.debit for e in document.entries), Decimal("0.00"))
            payments = sum((e.credit for e in document.entries), Decimal("0.00"))
            context["charges"], context["payments"] = charges, payments
            context["balances_table"] = tables.summary_table(
                [labels["opening_balance"], labels["charges"], labels["payments"], labels["closing_balance"]],
                [
                    money(document.opening_balance, currency),
                    money(charges, currency),
                    money(payments, currency),
                    money(document.closing_balance, currency),
                ],
                content_pt,
            )
            ageing = document.ageing
            total = ageing.current + ageing.d1_30 + ageing.d31_60 + ageing.d61_90 + ageing.over_90
            context["ageing_total"] = total
            context["ageing_table"] = tables.summary_table(
                [labels[k] for k in ("current", "d1_30", "d31_60", "d61_90", "over_90", "total")],
                [
                    money(v, currency)
                    for v in (ageing.current, ageing.d1_30, ageing.d31_60, ageing.d61_90, ageing.over_90, total)
                ],
                content_pt,
            )
            context["entries_header"], pages = tables.entry_blocks(document, labels, locale, content_pt, layout.paper_size)
            context["entry_blocks"] = ["\n".join(page) for page in pages]  # a page of rows (tenant templates)
            context["entry_parts"] = [tables.parts(page) for page in pages]  # the same, in text boxes of 8 rows
            title = f"{heading} {document.client.name} {period}"
            created = document.period_to
        else:
            assert isinstance(document, ReportDocument)
            parts = [document.subtitle] if document.subtitle else []
            if document.generated_on:
                parts.append(f"{labels['generated_on']} {fmt_date(document.generated_on, locale)}")
            context["subtitle"] = " · ".join(parts)
            header, blocks, totals = tables.report_blocks(document, content_pt, layout.paper_size)
            context["rows_header"], context["row_blocks"], context["totals_row"] = header, blocks, totals
            title = document.title
            created = document.generated_on or date(2000, 1, 1)
        context["title"] = title
        context["author"] = document.issuer.name if document.issuer else ""
        context["created"] = f"{created.isoformat()}T00:00:00Z"
        return context

    def _qr_of(self, url: str) -> str:
        uri = self._qr.get(url)
        if uri is None:
            uri = qr_data_uri(url, self._qr_matrix)
            self._qr[url] = uri
            if len(self._qr) > 64:
                self._qr.popitem(last=False)
        return uri


# --- page geometry (the tables' rows: tables.py) ---------------------------------------------

_CONTENT_WIDTH_PT = {PaperSize.A4: (210 - 28) / 25.4 * 72, PaperSize.LETTER: (215.9 - 28) / 25.4 * 72}
_TOTALS_SHARE = 0.42  # width of the totals column (base.css .totals)


def _missing(party: Any, labels: Mapping[str, str]) -> str:
    """What the issuer's fiscal profile lacks, said on the document (empty when nothing does)."""
    if not party.missing:
        return ""
    return f"{labels['issuer_missing']} " + ", ".join(labels.get(f"missing_{m}", m) for m in party.missing)


def _party_lines(party: Any, labels: Mapping[str, str]) -> list[str]:
    lines = [party.trade_name] if getattr(party, "trade_name", "") else []
    if party.ruc:
        lines.append(f"{labels['ruc']} {party.ruc}" + (f" {labels['dv']} {party.dv}" if party.dv else ""))
    if party.address:
        lines.append(party.address)
    contact = " · ".join(x for x in (party.email, party.phone, getattr(party, "website", "")) if x)
    if contact:
        lines.append(contact)
    return lines


def _taxes_of(document: InvoiceDocument | QuoteDocument) -> list[tuple[Decimal, Decimal, Decimal]]:
    """Display-only grouping of line bases and taxes by rate, when the caller gave no summary."""
    rates: dict[Decimal, tuple[Decimal, Decimal]] = {}
    for line in document.lines:
        base, tax = rates.get(line.tax_rate, (Decimal("0.00"), Decimal("0.00")))
        rates[line.tax_rate] = (base + line.subtotal, tax + line.tax)
    return [(rate, base, tax) for rate, (base, tax) in sorted(rates.items())]


def compile_template(env: DocumentSandbox, source: str, *, field: str = "customBodyTemplate") -> Template:
    """Compile tenant Jinja source in the sandbox, or raise ``TemplateInvalid`` with its line."""
    if len(source) > MAX_TEMPLATE_CHARS:
        raise TemplateInvalid(f"{field} is longer than {MAX_TEMPLATE_CHARS} characters", field=field)
    try:
        return env.from_string(source)
    except TemplateSyntaxError as error:
        line = error.lineno
        raise TemplateInvalid(f"{field} line {line}: {error.message}", field=field, line=line) from None
    except RecursionError:
        raise TemplateInvalid(f"{field} is nested too deeply", field=field) from None
