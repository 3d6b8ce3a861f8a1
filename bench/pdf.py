"""PDF rendering benchmark (issue 3, section 4): ``run()`` prints one line per figure.

Invoices, quotes, credit notes and statements are written as tagged PDF/A-3b (issue 18): the
figures below are of those. What archiving costs is printed beside them: the same document
rendered plain and archival in one process, alternately, in CPU time (the machine is shared).

Each figure is printed with its target, whether it is met, and its ratio to the naive
baseline measured in the same run: ``weasyprint.HTML(string=html).write_pdf()`` with default
settings on the same HTML (the composed document, with its stylesheet inlined and its assets
as ``data:`` URIs so the baseline draws exactly the same page), in processes that import stock
WeasyPrint (not the modules our set-up compiles with Cython). Time targets are also judged
scaled to the machine they were set on (``REFERENCE_NAIVE_MS``), beside the verdict measured here.

    PYTHONPATH=src .venv/bin/python -c "import bench.pdf as b; b.run()"
"""

from __future__ import annotations

import base64
import io
import multiprocessing
import os
import statistics
import struct
import sys
import time
import zlib
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

INVOICE_P50_MS = 25.0
INVOICES_PER_SECOND = 60.0
STATEMENT_SECONDS = 3.0
STATEMENT_RSS_MB = 200.0
STATEMENT_LINES = 4_000
SAMPLES = 41
# Issue 3: "a one-page invoice takes [...] about 45 ms when Debian's libharfbuzz-subset0 is
# installed", naive WeasyPrint on the 2-core machine the targets were set on. Shared hosts here
# run from about that speed to 4x slower, so each time target is also judged scaled by this
# run's naive invoice p50 against that figure (our invoice HTML is leaner than a typical one, so
# its naive time there is likely under 45 ms, and the scaled figures err against us).
REFERENCE_NAIVE_MS = 45.0
BATCH = 200
ARCHIVAL_PAIRS = 61  # one-page invoice, plain and archival, alternately
STATEMENT_ARCHIVAL_PAIRS = 3


def _logo() -> bytes:
    """A 240x80 RGB PNG, the size of a typical tenant logo."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(
        b"\x00" + b"".join(bytes((x % 256, 58 + y % 64, 95)) for x in range(240)) for y in range(80)
    )
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 240, 80, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _naive_html(composed: object, assets: Mapping[str, object], composer: object) -> str:
    """The composed HTML made self-contained for the default WeasyPrint set-up: stylesheets
    inlined (the engine passes them pre-parsed), assets as ``data:`` URIs."""
    from adapters.pdf.html import asset_url

    html: str = composed.html  # type: ignore[attr-defined]
    for name, asset in assets.items():
        uri = f"data:{asset.mime};base64," + base64.b64encode(asset.data).decode()  # type: ignore[attr-defined]
        html = html.replace(asset_url(name, asset), uri)  # type: ignore[arg-type]
    css = f"{composer.base_css}\n{composed.layout_css}"  # type: ignore[attr-defined]
    return html.replace("</title>", f"</title>\n<style>\n{css}\n</style>", 1)


def _plain_weasyprint() -> None:
    """Pool initializer: this process imports WeasyPrint as installed from PyPI, every module that
    ``make pdf-modules`` compiled taken from its ``.py``; the naive baseline is stock."""
    from adapters.pdf.accelerated.modules import import_from_sources

    if "weasyprint" in sys.modules:
        raise RuntimeError("the naive baseline's process already imported WeasyPrint")
    import_from_sources()


def _naive_render(html: str) -> int:
    import weasyprint

    return len(weasyprint.HTML(string=html).write_pdf())


def _naive_time(html: str) -> float:
    """Seconds for one naive render in this process."""
    started = time.perf_counter()
    _naive_render(html)
    return time.perf_counter() - started


def _naive_timed(html: str) -> tuple[float, int]:
    """In a fresh process: seconds for one naive render, and the process's peak RSS in kB."""
    from adapters.pdf.worker import proc_status_kb

    _naive_render("<p>warm</p>")
    return _naive_time(html), proc_status_kb().get("VmHWM", 0)


def _archival_cost(document: object, layout: object, assets: Mapping[str, object], pairs: int) -> tuple[float, float]:
    """In a fresh process, on the path the renderer's workers take (the accelerator where it is
    usable): median CPU seconds of this thread for one render of ``document`` as a plain PDF and
    as a tagged PDF/A-3b, rendered alternately (which goes first alternates too)."""
    from adapters.pdf.accelerated import usable
    from adapters.pdf.accelerated.modules import import_from_sources
    from adapters.pdf.engine import PdfEngine

    accelerated = usable(True)
    if not accelerated:
        import_from_sources()
    engines = {
        "plain": PdfEngine(accelerated=accelerated, archival=frozenset()),
        "archival": PdfEngine(accelerated=accelerated),
    }
    seconds: dict[str, list[float]] = {name: [] for name in engines}
    for name, engine in engines.items():
        engine.render(document, layout, assets)  # type: ignore[arg-type]
    for index in range(pairs):
        for name in ("plain", "archival") if index % 2 == 0 else ("archival", "plain"):
            started = time.thread_time()
            engines[name].render(document, layout, assets)  # type: ignore[arg-type]
            seconds[name].append(time.thread_time() - started)
    return statistics.median(seconds["plain"]), statistics.median(seconds["archival"])


def _archival_line(label: str, plain: float, archival: float, pairs: int) -> None:
    print(
        f"pdf {label}, CPU time of one render (median of {pairs} pairs, one process, alternating): "
        f"plain PDF {plain * 1000:.1f} ms, tagged PDF/A-3b {archival * 1000:.1f} ms: "
        f"{(archival / plain - 1) * 100:+.1f} % for archiving",
        flush=True,
    )


def _line(
    label: str,
    value: str,
    target: str,
    met: bool,
    naive: str,
    ratio: float,
    better: str,
    there: tuple[str, bool] | None = None,
) -> None:
    """``ratio`` > 1 means better than the naive baseline (faster, more per second, less memory).
    ``there``: the figure scaled to the reference machine (see ``REFERENCE_NAIVE_MS``), and whether
    it meets the target; printed after the verdict measured here, which it does not replace."""
    scaled = f"  there {there[0]}: {'met' if there[1] else 'NOT met'}" if there else ""
    print(
        f"pdf {label}: {value}  target {target}: {'met' if met else 'NOT met'}{scaled}  "
        f"naive {naive}  vs naive: {ratio:.2f}x ({better} is better)",
        flush=True,
    )


def run() -> None:
    from pypdf import PdfReader

    from adapters.pdf.html import HtmlComposer
    from adapters.pdf.weasyprint import RendererSettings, WeasyPrintPdfRenderer
    from application.pdf.documents import PdfAsset, PdfLayout, sample_invoice, sample_statement

    layout = PdfLayout(
        header_text="Ferretería El Istmo, S.A. — Factura electrónica",
        footer_text="Documento generado por Istmo. Conserve este documento para sus registros.",
    )
    assets = {"logo": PdfAsset(name="logo", mime="image/png", data=_logo())}
    invoices = [sample_invoice(number=f"FE-{n:010d}") for n in range(max(SAMPLES, BATCH))]
    composer = HtmlComposer()
    # Spawned, not forked from the renderer's forkserver, which has the compiled WeasyPrint loaded.
    plain = multiprocessing.get_context("spawn")

    # --- one-page invoice, warm worker --------------------------------------------------------
    with WeasyPrintPdfRenderer(RendererSettings(processes=os.cpu_count() or 2)) as renderer:
        renderer.start()
        for invoice in invoices[:3]:
            renderer.render(invoice, layout, assets)
        naive_htmls = [
            _naive_html(composer.compose(invoice, layout, assets), assets, composer)
            for invoice in invoices[:BATCH]
        ]
        # Ours and the naive baseline alternate, sample by sample, so that the host's speed,
        # which drifts on a shared machine, weighs on both alike. The naive time is taken inside
        # its process (no IPC); ours includes the round trip to the worker.
        times, naive_times = [], []
        with plain.Pool(1, initializer=_plain_weasyprint) as pool:
            pool.apply(_naive_render, (naive_htmls[0],))
            for invoice, html in zip(invoices[:SAMPLES], naive_htmls[:SAMPLES]):
                started = time.perf_counter()
                renderer.render(invoice, layout, assets)
                times.append(time.perf_counter() - started)
                naive_times.append(pool.apply(_naive_time, (html,)))
        p50 = statistics.median(times) * 1000
        naive_p50 = statistics.median(naive_times) * 1000
        host = naive_p50 / REFERENCE_NAIVE_MS
        print(
            f"pdf host speed: naive WeasyPrint renders the invoice in {naive_p50:.1f} ms here, "
            f"{REFERENCE_NAIVE_MS:g} ms on the machine issue 3's targets were set on: this host is "
            f"{host:.2f}x as slow; 'there' below is a figure divided by that (times) or multiplied (rates)",
            flush=True,
        )
        _line(
            "one-page invoice p50, warm worker",
            f"{p50:.1f} ms",
            f"<= {INVOICE_P50_MS:g} ms",
            p50 <= INVOICE_P50_MS,
            f"{naive_p50:.1f} ms",
            naive_p50 / p50,
            "higher",
            there=(f"{p50 / host:.1f} ms", p50 / host <= INVOICE_P50_MS),
        )

        # --- 200 invoices on every core -------------------------------------------------------
        processes = os.cpu_count() or 2
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=processes * 2) as threads:
            list(threads.map(lambda invoice: renderer.render(invoice, layout, assets), invoices[:BATCH]))
        rate = BATCH / (time.perf_counter() - started)
        with plain.Pool(processes, initializer=_plain_weasyprint) as pool:
            pool.map(_naive_render, ["<p>warm</p>"] * processes)
            started = time.perf_counter()
            pool.map(_naive_render, naive_htmls[:BATCH], chunksize=1)
            naive_rate = BATCH / (time.perf_counter() - started)
        _line(
            f"{BATCH} one-page invoices on {processes} processes",
            f"{rate:.1f} invoices/s",
            f">= {INVOICES_PER_SECOND:g}/s",
            rate >= INVOICES_PER_SECOND,
            f"{naive_rate:.1f} invoices/s",
            rate / naive_rate,
            "higher",
            there=(f"{rate * host:.1f} invoices/s", rate * host >= INVOICES_PER_SECOND),
        )

    # --- what archiving (PDF/A-3b, tagged) costs, in CPU time ------------------------------------
    with plain.Pool(1) as pool:
        plain_s, archival_s = pool.apply(_archival_cost, (invoices[0], layout, assets, ARCHIVAL_PAIRS))
    _archival_line("one-page invoice", plain_s, archival_s, ARCHIVAL_PAIRS)

    # --- 4,000-line statement: time, and peak RSS of a fresh worker ---------------------------
    statement = sample_statement(entries=STATEMENT_LINES)
    with WeasyPrintPdfRenderer(RendererSettings(processes=1, timeout=120)) as renderer:
        renderer.start()
        started = time.perf_counter()
        job = renderer.render_job(statement, layout, assets)
        seconds = time.perf_counter() - started
    pages = len(PdfReader(io.BytesIO(job.value)).pages)
    rss_mb = job.peak_rss_kb / 1024
    naive_html = _naive_html(composer.compose(statement, layout, assets), assets, composer)
    with plain.Pool(1, initializer=_plain_weasyprint) as pool:
        naive_seconds, naive_rss_kb = pool.apply(_naive_timed, (naive_html,))
    naive_rss_mb = naive_rss_kb / 1024
    _line(
        f"{STATEMENT_LINES:,}-line statement ({pages} pages)",
        f"{seconds:.2f} s",
        f"<= {STATEMENT_SECONDS:g} s",
        seconds <= STATEMENT_SECONDS,
        f"{naive_seconds:.2f} s",
        naive_seconds / seconds,
        "higher",
        there=(f"{seconds / host:.2f} s", seconds / host <= STATEMENT_SECONDS),
    )
    _line(
        f"{STATEMENT_LINES:,}-line statement peak RSS (worker)",
        f"{rss_mb:.0f} MB",
        f"<= {STATEMENT_RSS_MB:g} MB",
        rss_mb <= STATEMENT_RSS_MB,
        f"{naive_rss_mb:.0f} MB",
        naive_rss_mb / rss_mb,
        "higher",
    )
    with plain.Pool(1) as pool:
        plain_s, archival_s = pool.apply(
            _archival_cost, (statement, layout, assets, STATEMENT_ARCHIVAL_PAIRS)
        )
    _archival_line(f"{STATEMENT_LINES:,}-line statement", plain_s, archival_s, STATEMENT_ARCHIVAL_PAIRS)


if __name__ == "__main__":
    run()
