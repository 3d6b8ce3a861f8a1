"""The render itself, as it runs inside a worker process: HTML through the sandbox, then WeasyPrint.

Everything costly that does not depend on the document is done once, in ``PdfEngine()``:
templates compiled, the user-agent and base stylesheets parsed, the font configuration
(fontconfig + Pango font map) built, and a first render done so cffi types, fonts and the
HarfBuzz subsetter are loaded. A render then only composes the HTML and lays it out.
``PdfEngine(accelerated=True)`` installs the accelerator's patches and QR encoder (see
``adapters.pdf.accelerated``); without it, the engine renders with stock WeasyPrint and segno.

Determinism: the PDF's dates come from the document (``dcterms.created``), its identifier is a
digest of the HTML and assets, and nothing else varies (no clock, no random ids, same fonts).

Archival documents (``domain.pdf.layout.ARCHIVAL_TYPES``: invoices, credit notes, quotes,
statements) are written as PDF/A-3b and tagged: WeasyPrint adds the sRGB output intent, the XMP
metadata (pdfaid part 3, conformance B, the same title, author and dates as the info dictionary)
and the structure tree of the HTML; ``_archival_images`` turns off image interpolation, which
PDF/A forbids. Fonts are always embedded (subsets of DejaVu, or the tenant's web fonts). The text
of each page is drawn in the order of the HTML (see base.css), so the tags, a screen reader and
``pdftotext -raw`` read labels before their values. Reports stay plain PDFs, untagged.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import weasyprint
from jinja2 import TemplateError
from jinja2.exceptions import SecurityError
from weasyprint.text.fonts import FontConfiguration

from adapters.pdf import digests
from adapters.pdf.accelerated.qr import qr_matrix
from adapters.pdf.fetcher import AssetUrlFetcher, DocumentImageCache
from adapters.pdf.html import HtmlComposer, segno_matrix, template_line_of
from application.pdf.documents import DEFAULT_LAYOUT, PdfAsset, PdfDocument, PdfLayout, sample_invoice
from domain.pdf.errors import RenderFailed, RenderTooLarge, TemplateInvalid
from domain.pdf.layout import ARCHIVAL_TYPES, DocumentType

IMAGE_CACHE_ENTRIES = 64
ARCHIVAL_OPTIONS: dict[str, Any] = {"pdf_variant": "pdf/a-3b", "pdf_tags": True}


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderLimits:
    max_html_chars: int = 20_000_000
    max_pages: int = 2_000
    max_pdf_bytes: int = 50 * 1024 * 1024


class _DocumentHTML(weasyprint.HTML):
    """``weasyprint.HTML`` with the lean user-agent stylesheet (see templates/ua.css)."""

    ua_sheet: Any = None

    def _ua_stylesheets(self, forms: bool = False) -> list[Any]:
        return [self.ua_sheet]


def _installed_speedups() -> ModuleType:
    from adapters.pdf.accelerated import speedups

    speedups.install()
    return speedups


class _ImagesWithoutAltText(logging.Filter):
    """WeasyPrint logs an error for each image without alt text in a tagged PDF, naming its whole
    URL (a ``data:`` URI can be megabytes): in a tenant's template that is the tenant's choice, not
    a failure of the render, and the built-in layouts give every image its alt text."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != 'Image "%s" has no required alt description'


_WITHOUT_ALT_TEXT = _ImagesWithoutAltText()


def _archival_images(document: Any, pdf: Any) -> None:
    """PDF/A (ISO 19005-2 and -3, 6.2.8) forbids ``/Interpolate true`` on images; WeasyPrint sets
    it on every image whose ``image-rendering`` is ``auto`` (a logo, a tenant's picture)."""
    for item in pdf.objects:
        extra = getattr(item, "extra", None)
        if extra is not None and extra.get("Subtype") == "/Image" and "Interpolate" in extra:
            extra["Interpolate"] = "false"


class PdfEngine:
    def __init__(
        self,
        limits: RenderLimits | None = None,
        *,
        accelerated: bool = False,
        archival: frozenset[DocumentType] = ARCHIVAL_TYPES,
    ) -> None:
        """``archival``: the document types written as tagged PDF/A-3b (the bench renders the
        same invoice with none, to measure what archiving costs)."""
        self.limits = limits or RenderLimits()
        self.archival = archival
        logging.getLogger("weasyprint").addFilter(_WITHOUT_ALT_TEXT)  # added once, however many engines
        self._speedups = _installed_speedups() if accelerated else None
        self.composer = HtmlComposer(
            max_html_chars=self.limits.max_html_chars, qr_matrix=qr_matrix if accelerated else segno_matrix
        )
        self._ua_sheet = weasyprint.CSS(string=self.composer.ua_css)
        self._new_font_config()
        self._image_cache: dict[str, Any] = {}
        self._layout_sheets: dict[str, Any] = {}

    def _new_font_config(self) -> None:
        self._font_config = FontConfiguration()
        self._base_sheet = weasyprint.CSS(string=self.composer.base_css, font_config=self._font_config)
        self._layout_sheets = {}

    def _layout_sheet(self, css: str) -> Any:
        sheet = self._layout_sheets.get(css)
        if sheet is None:
            if len(self._layout_sheets) >= 32:
                self._layout_sheets.clear()
            sheet = weasyprint.CSS(string=css, font_config=self._font_config, url_fetcher=AssetUrlFetcher({}))
            self._layout_sheets[css] = sheet
        return sheet

    def warm_up(self) -> None:
        """One render of sample data: loads cffi types, fonts, HarfBuzz and the image code."""
        self.render(sample_invoice(), DEFAULT_LAYOUT, {})

    def render(self, document: PdfDocument, layout: PdfLayout, assets: Mapping[str, PdfAsset]) -> bytes:
        try:
            return self._render(document, layout, assets)
        except (TemplateInvalid, RenderFailed):
            raise
        except SecurityError as error:
            line = template_line_of(error)
            where = f" (customBodyTemplate line {line})" if line else ""
            raise RenderFailed(f"the template tried an unsafe operation{where}: {error}") from None
        except TemplateError as error:
            line = template_line_of(error)
            where = f" at customBodyTemplate line {line}" if line else ""
            raise RenderFailed(f"the template failed{where}: {error}") from None
        except RecursionError:
            raise RenderTooLarge("the document is nested too deeply to render") from None
        except MemoryError:
            raise RenderTooLarge("the render ran out of its memory limit") from None

    def _render(self, document: PdfDocument, layout: PdfLayout, assets: Mapping[str, PdfAsset]) -> bytes:
        composed = self.composer.compose(document, layout, assets)
        fetcher = AssetUrlFetcher(assets)
        html = _DocumentHTML(string=composed.html, url_fetcher=fetcher)
        html.ua_sheet = self._ua_sheet
        archival = document.document_type in self.archival
        options = ARCHIVAL_OPTIONS if archival else {}
        if self._speedups:
            self._speedups.start_document()
        try:
            rendering = html.render(
                stylesheets=[self._base_sheet, self._layout_sheet(composed.layout_css)],
                font_config=self._font_config,
                cache=DocumentImageCache(self._image_cache, fetcher),
                presentational_hints=False,
                optimize_images=False,
                **options,
            )
            pages = len(rendering.pages)
            if pages > self.limits.max_pages:
                raise RenderTooLarge(f"the document has {pages} pages; the limit is {self.limits.max_pages}")
            digest = hashlib.sha256(composed.html.encode("utf-8", "surrogatepass"))
            digest.update(composed.layout_css.encode("utf-8"))
            for name in sorted(assets):
                digest.update(name.encode() + digests.sha256(assets[name].data))
            # Subsets of system fonts are memoised; never while a tenant's web font is loaded.
            if self._speedups:
                self._speedups.enabled = self._font_config._folder is None
            pdf = rendering.write_pdf(
                pdf_identifier=digest.hexdigest()[:32].encode("ascii"),
                finisher=_archival_images if archival else None,
                **options,
            )
        finally:
            if self._font_config._folder is not None:  # an @font-face was loaded: forget it
                self._new_font_config()
            if len(self._image_cache) > IMAGE_CACHE_ENTRIES:
                self._image_cache.clear()
        if len(pdf) > self.limits.max_pdf_bytes:
            raise RenderTooLarge(f"the PDF is {len(pdf)} bytes; the limit is {self.limits.max_pdf_bytes}")
        return pdf
