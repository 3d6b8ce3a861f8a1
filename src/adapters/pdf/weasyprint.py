"""``WeasyPrintPdfRenderer``: the ``PdfRenderer`` port on WeasyPrint, in a pool of worker processes.

The calling process only validates, checks templates and waits; composing the HTML (Jinja
sandbox) and laying it out (WeasyPrint) happen in warm worker processes (see ``pool.py`` and
``worker.py``) with a wall-clock timeout and an address-space cap, so a hostile template can
neither hang nor exhaust the service. Documents reach no file and no network: the URL fetcher
serves ``data:`` URIs and the assets passed in, nothing else (see ``fetcher.py``). The
workers render through the accelerator where it is usable, else through stock WeasyPrint
(see ``adapters.pdf.accelerated``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import tinycss2

from adapters.pdf.accelerated import usable
from adapters.pdf.fairness import FairShare
from adapters.pdf.html import FILTERS, compile_template
from adapters.pdf.pool import JobResult, PoolSettings, WorkerPool
from adapters.pdf.sandbox import DocumentSandbox
from adapters.pdf.worker import WorkerSettings
from application.pdf.documents import (
    ASSET_MIMES,
    InvoiceDocument,
    PdfAsset,
    PdfDocument,
    PdfLayout,
    QuoteDocument,
    ReportDocument,
    StatementDocument,
)
from domain.pdf.errors import TemplateInvalid
from domain.shared.errors import InvalidInput

_DOCUMENTS = (InvoiceDocument, QuoteDocument, StatementDocument, ReportDocument)
MAX_ASSET_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class RendererSettings:
    """Knobs of the renderer; the container reads them from ``ISTMO_PDF_*`` variables."""

    processes: int | None = None  # default: the number of CPUs
    timeout: float = 30.0  # seconds of wall clock per render
    memory_limit_mb: int | None = 768  # address space a render may add to a warm worker
    max_pages: int = 2_000
    max_pdf_mb: int = 50
    max_html_chars: int = 20_000_000
    start_method: str = "forkserver"
    accelerator: bool = True  # wanted; used only where it knows the WeasyPrint release
    tenant_share: int | None = None  # renders one tenant may run at once; default: half the workers
    tenant_waiting: int = 2  # renders one tenant may have waiting beyond those (then RENDER_BUSY)
    queue_timeout: float = 120.0  # seconds a render may wait for a worker (then RENDER_BUSY)
    slow_after: float | None = 5.0  # seconds after which a render yields the CPU to the others


class WeasyPrintPdfRenderer:
    def __init__(self, settings: RendererSettings | None = None) -> None:
        self.settings = settings = settings or RendererSettings()
        memory = settings.memory_limit_mb * 1024 * 1024 if settings.memory_limit_mb else None
        self.accelerated = usable(settings.accelerator)  # else the stock path
        self._pool = WorkerPool(
            PoolSettings(
                processes=settings.processes or os.cpu_count() or 1,
                timeout=settings.timeout,
                slow_after=settings.slow_after,
                start_method=settings.start_method,
                worker=WorkerSettings(
                    memory_limit_bytes=memory,
                    max_pages=settings.max_pages,
                    max_pdf_bytes=settings.max_pdf_mb * 1024 * 1024,
                    max_html_chars=settings.max_html_chars,
                    accelerated=self.accelerated,
                ),
            )
        )
        processes = self._pool.settings.processes
        self.fair_share = FairShare(
            slots=processes, share=settings.tenant_share or max(1, processes // 2),
            waiting=settings.tenant_waiting, patience=settings.queue_timeout,
        )
        self._sandbox: DocumentSandbox | None = None

    # --- PdfRenderer ----------------------------------------------------------------------

    def render(
        self, document: PdfDocument, layout: PdfLayout, assets: Mapping[str, PdfAsset], *, tenant_id: str | None = None
    ) -> bytes:
        return self.render_job(document, layout, assets, tenant_id=tenant_id).value  # type: ignore[no-any-return]

    def check_template(self, body_template: str | None, custom_css: str | None) -> None:
        if body_template:
            if self._sandbox is None:
                self._sandbox = DocumentSandbox(filters=FILTERS)
            compile_template(self._sandbox, body_template)
        if custom_css:
            check_css(custom_css)

    # --- beyond the port: warm-up, statistics, shutdown -------------------------------------

    def render_job(
        self, document: PdfDocument, layout: PdfLayout, assets: Mapping[str, PdfAsset], *, tenant_id: str | None = None
    ) -> JobResult:
        """``render`` with the worker's pid, time in the worker and peak RSS (bench and tests)."""
        if not isinstance(document, _DOCUMENTS):
            raise InvalidInput(f"cannot render a {type(document).__name__}", field="document")
        if not isinstance(layout, PdfLayout):
            raise InvalidInput("layout must be a PdfLayout", field="layout")
        checked: dict[str, PdfAsset] = {}
        for name, asset in assets.items():
            if not isinstance(asset, PdfAsset) or asset.mime not in ASSET_MIMES:
                raise InvalidInput(
                    f"asset {name!r} is not an image (png, jpeg, gif, webp, svg)", field="logo"
                )
            if len(asset.data) > MAX_ASSET_BYTES:
                raise InvalidInput(f"asset {name!r} is larger than {MAX_ASSET_BYTES} bytes", field="logo")
            checked[str(name)] = asset
        with self.fair_share.turn(tenant_id):  # a worker, within the tenant's share (see fairness.py)
            return self._pool.submit((document, layout, checked))

    def start(self) -> None:
        """Start and warm every worker now (otherwise the first renders do it)."""
        self._pool.start()

    def worker_pids(self) -> list[int]:
        return self._pool.pids()

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> WeasyPrintPdfRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_css(css: str, *, field: str = "customCss") -> None:
    """Raise ``TemplateInvalid`` at the first CSS syntax error, naming its line."""

    def fail(node: tinycss2.ast.ParseError, *, inside: bool = False) -> None:
        what = "invalid declaration" if inside else "invalid rule"
        raise TemplateInvalid(
            f"{field} line {node.source_line}: {what} ({node.message})", field=field, line=node.source_line
        )

    def check_block(nodes: list[object] | None, *, rules: bool) -> None:
        if nodes is None:
            return
        parsed = (
            tinycss2.parse_blocks_contents(nodes)
            if not rules
            else tinycss2.parse_rule_list(nodes, skip_comments=True, skip_whitespace=True)
        )
        for node in parsed:
            if isinstance(node, tinycss2.ast.ParseError):
                fail(node, inside=not rules)
            elif isinstance(node, (tinycss2.ast.QualifiedRule, tinycss2.ast.AtRule)):
                check_rule(node)

    def check_rule(rule: object) -> None:
        if isinstance(rule, tinycss2.ast.ParseError):
            fail(rule)
        elif isinstance(rule, tinycss2.ast.QualifiedRule):
            check_block(rule.content, rules=False)
        elif isinstance(rule, tinycss2.ast.AtRule) and rule.content is not None:
            nested = rule.lower_at_keyword in {"media", "supports", "layer", "container", "document"}
            check_block(rule.content, rules=nested)

    for rule in tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True):
        check_rule(rule)
