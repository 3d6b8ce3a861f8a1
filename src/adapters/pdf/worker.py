"""The loop of a render worker process, and the wire format between it and the pool.

A worker builds one ``PdfEngine`` (templates compiled, stylesheets parsed, fonts loaded, one
warm-up render), then caps its own address space (``RLIMIT_AS`` = what it uses once warm plus
the memory budget) and answers render requests until it is told to stop or has to go:

- request: ``(document, layout, assets)``, or ``None`` to stop;
- reply: ``("ok", pdf_bytes, stats)`` or ``("error", (kind, message, field, line), stats)``,
  ``stats`` being ``{"pid", "seconds", "peak_rss_kb", "rss_kb", "retire"}``.

Garbage collection is done between renders, not during them: once warm, the worker's objects
are frozen out of the collector (``gc.freeze``), the threshold of automatic collections is
raised so that a one-page render triggers none (a long one still collects every
``GC_THRESHOLD`` allocations, so its memory stays bounded), and a collection runs after each
reply is sent, while the caller reads the PDF. Measured on the bench invoice: ~2.5 ms of
collections (1.5 ms once frozen) move out of the render.

A worker that ran out of memory, or whose resident size grew past ``retire_rss_kb``, says
``retire`` and exits after replying, so the pool starts a fresh one. A worker that hangs is
killed by the pool. Nothing here runs at import time.
"""

from __future__ import annotations

import gc
import os
import resource
import signal
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from domain.shared.errors import DomainError


GC_THRESHOLD = 50_000  # allocations between automatic young-generation collections


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerSettings:
    memory_limit_bytes: int | None = 768 * 1024 * 1024
    retire_rss_kb: int = 400 * 1024
    max_html_chars: int = 20_000_000
    max_pages: int = 2_000
    max_pdf_bytes: int = 50 * 1024 * 1024
    accelerated: bool = False  # the accelerator's patches; else stock WeasyPrint, from its sources


def proc_status_kb(pid: int | str = "self") -> dict[str, int]:
    """VmSize, VmRSS, VmHWM... of a process in kB, from ``/proc/<pid>/status`` (Linux)."""
    values: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                key, _, rest = line.partition(":")
                if key.startswith("Vm") and rest.strip().endswith("kB"):
                    values[key] = int(rest.split()[0])
    except OSError:
        pass
    return values


def _limit_memory(budget: int | None) -> None:
    if budget is None:
        return
    used = proc_status_kb().get("VmSize", 0) * 1024
    limit = used + budget
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _error(error: BaseException) -> tuple[str, str, str | None, int | None]:
    if isinstance(error, DomainError):
        return type(error).__name__, error.message, error.field, getattr(error, "line", None)
    return "RenderFailed", f"{type(error).__name__}: {error}"[:2000], None, None


def serve(conn: Connection, settings: WorkerSettings) -> None:
    """Entry point of a worker process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when workers stop
    if not settings.accelerated:
        from adapters.pdf.accelerated.modules import import_from_sources

        import_from_sources()
    from adapters.pdf.engine import PdfEngine, RenderLimits

    try:
        engine = PdfEngine(
            RenderLimits(
                max_html_chars=settings.max_html_chars,
                max_pages=settings.max_pages,
                max_pdf_bytes=settings.max_pdf_bytes,
            ),
            accelerated=settings.accelerated,
        )
        engine.warm_up()
        _limit_memory(settings.memory_limit_bytes)
        gc.collect()
        gc.freeze()  # what the warm engine holds is never garbage
        gc.set_threshold(GC_THRESHOLD, 20, 100)
    except BaseException as error:  # report why the worker cannot start, then go
        conn.send(("failed", _error(error), {"pid": os.getpid()}))
        return
    conn.send(("ready", None, {"pid": os.getpid()}))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        started = time.perf_counter()
        retire = False
        reply: tuple[str, Any]
        try:
            reply = ("ok", engine.render(*job))
        except MemoryError:
            reply = ("error", ("RenderTooLarge", "the render ran out of its memory limit", None, None))
            retire = True
        except BaseException as error:  # every failure goes back to the caller as a domain error
            reply = ("error", _error(error))
        status = proc_status_kb()
        retire = retire or status.get("VmRSS", 0) > settings.retire_rss_kb
        stats = {
            "pid": os.getpid(),
            "seconds": time.perf_counter() - started,
            "peak_rss_kb": status.get("VmHWM", 0),
            "rss_kb": status.get("VmRSS", 0),
            "retire": retire,
        }
        try:
            conn.send((*reply, stats))
        except MemoryError:
            conn.send(
                (
                    "error",
                    ("RenderTooLarge", "the PDF is too large to hand back", None, None),
                    {**stats, "retire": True},
                )
            )
            return
        if retire:
            return
        gc.collect()  # the render's garbage, while the caller reads the reply
