"""The render itself, as it runs inside a worker process: HTML through the sandbox, then WeasyPrint.

Everything costly that does not depend on the document is done once, in ``PdfEngine()``:
templates compiled, the user-agent and base stylesheets parsed, the font configuration
(fontconfig + Pango font map) built, and a first render done so cffi types, fonts and the
HarfBuzz subsetter are loaded. A render then only composes the HTML and lays it out.
``PdfEngine(accelerated=True)`` installs the accelerator's patches and QR encoder (see
``adapters.pdf.accelerated``); without it, the engine renders with stock WeasyPrint and segno.

Determinism: the PDF's dates come from the document (``dcterms.created``), its identifier is a
digest of the HTML and assets, and nothing else varies (no clock, no random ids, same fonts).
"""

from __future__ import annotations

import hashlib
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

IMAGE_CACHE_ENTRIES = 64


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


class PdfEngine:
    def __init__(self, limits: RenderLimits | None = None, *, accelerated: bool = False) -> None:
        self.limits = limits or RenderLimits()
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
        if self._speedups:
            self._speedups.start_document()
        try:
            rendering = html.render(
                stylesheets=[self._base_sheet, self._layout_sheet(composed.layout_css)],
                font_config=self._font_config,
                cache=DocumentImageCache(self._image_cache, fetcher),
                presentational_hints=False,
                optimize_images=False,
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
            pdf = rendering.write_pdf(pdf_identifier=digest.hexdigest()[:32].encode("ascii"))
        finally:
            if self._font_config._folder is not None:  # an @font-face was loaded: forget it
                self._new_font_config()
            if len(self._image_cache) > IMAGE_CACHE_ENTRIES:
                self._image_cache.clear()
        if len(pdf) > self.limits.max_pdf_bytes:
            raise RenderTooLarge(f"the PDF is {len(pdf)} bytes; the limit is {self.limits.max_pdf_bytes}")
        return pdf
