"""PDF: the renderer (a pool of WeasyPrint processes) of documents and template previews."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from dependency_injector import providers

from adapters.pdf.weasyprint import RendererSettings, WeasyPrintPdfRenderer
from entrypoints.config import Settings
from entrypoints.containers.base import DomainServices


def accelerator_wanted(settings: Settings) -> bool:
    """``ISTMO_PDF_ACCELERATOR`` (on unless ``off``): the PDF domain's own switch."""
    return settings.variables.switch("PDF_ACCELERATOR", default=True)


def _pdf_renderer(settings: Settings) -> Iterator[WeasyPrintPdfRenderer]:
    """Render workers start on the first render (or ``start()``): building the container stays cheap."""
    renderer = WeasyPrintPdfRenderer(
        RendererSettings(
            processes=settings.pdf_processes,
            timeout=settings.pdf_timeout.total_seconds(),
            memory_limit_mb=settings.pdf_memory_mb,
            accelerator=accelerator_wanted(settings),
            tenant_share=settings.variables.integer("PDF_TENANT_RENDERS", 0, minimum=0) or None,
            tenant_waiting=settings.variables.integer("PDF_TENANT_WAITING", 2, minimum=0),
            slow_after=settings.variables.duration("PDF_SLOW_AFTER", timedelta(seconds=5)).total_seconds() or None,
        )
    )
    try:
        yield renderer
    finally:
        renderer.close()


class Services(DomainServices):
    settings = providers.Dependency(instance_of=Settings)

    pdf_renderer = providers.Resource(_pdf_renderer, settings=settings)

    exports = providers.Dict(pdf_renderer=pdf_renderer)
