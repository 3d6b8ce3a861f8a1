"""``make bench`` (``python -m bench``): the files targets (issue 2, section 5) and the PDF ones (issue 3, section 4).

Figures are printed, one per line with its unit, each target marked MET or NOT MET; nothing is
asserted. MB = 10**6 bytes. The machine is shared: the load average is printed first, since
throughput figures move with it.

1. A 500 MB upload through the service to local storage (fresh subprocess: ``bench.upload``).
2. ``findFilesByEntity`` for 100 entities x 5 files in one request (``bench.entities``).
3. 1,000 uploads of 100 distinct files (``bench.dedupe``).
4. 2 and 3 again on PostgreSQL, when it is reachable (skipped, saying why, when it is not).
5. PDF rendering: one-page invoice p50, 200 invoices on both cores, a 4,000-line statement (``bench.pdf``).
6. WhatsApp: 500 queued messages to the local Graph API with two workers; 1,000 status webhooks (``bench.whatsapp``).
7. Inbox sync of 10,000 messages from the local Aurinko server, then again: nothing written (``bench.inbox``).
8. Webhooks: Polar-signed deliveries sent by wrk into gunicorn on PostgreSQL, beside a bare INSERT+COMMIT loop (``bench.webhooks``).
9. Emails (issue 4, section 6): 1,000 queued emails to a local SMTP server by two worker processes
   on PostgreSQL, duplicates counted by Message-ID at the server (``bench.emails``).
10. QuickBooks (issue 16): the 1,000-invoice backfill by two worker processes, the refresh storm (``bench.quickbooks``).
11. Document intake (issue 15, section 4): 10,000-line CAMT.053 and OFX imports and re-imports, 1,000
   DGI XML invoices with two workers, the DGI QR in a 3-page PDF (``bench.intake``).
12. Abuse (issue 19): webhooks through nginx beside gunicorn alone; a noisy neighbour's effect on
   another tenant's PDF renders (``bench.hardening``).
13. Signatures (issue 17, section 4): sealing a 2-page invoice; the audit chain check over 100,000
    entries (``bench.signatures``).
14. The AI assistant (issue 14, section 5): the tools on 100,000 invoices, the stream relay, concurrent turns (``bench.chats``).
15. Faults (issue 20): webhooks and e-mails through fault-injecting proxies, without and with faults (``bench.faults``).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import (
    MB,
    POSTGRES_ADMIN_URL,
    ROOT,
    build_service,
    busy_seconds,
    header,
    line,
    postgres_database,
    postgres_unavailable,
    wait_until_quiet,
)

UPLOAD_RATIO_TARGET = 0.50
RSS_TARGET = 64 * MB
STATEMENTS_TARGET = 3


def upload_section() -> None:
    header("[1] 500 MB upload through the service (GraphQL multipart addFile -> local storage, SQLite)")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "src"), str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    others, waited = wait_until_quiet()
    if others is not None:
        line(f"other processes' CPU at the start (after waiting {waited:.0f} s)", f"{others:.2f} CPUs")
    busy_before = busy_seconds()
    children_before = _children_cpu()
    started = time.perf_counter()
    process = subprocess.run(
        [sys.executable, "-m", "bench.upload"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    wall = time.perf_counter() - started
    busy_after = busy_seconds()
    if busy_before is not None and busy_after is not None:
        others = (busy_after - busy_before - (_children_cpu() - children_before)) / wall
        line("other processes' CPU while the uploads ran (average)", f"{max(others, 0):.2f} CPUs")
    if process.returncode != 0:
        line("upload benchmark", "FAILED")
        print(process.stderr[-3000:], flush=True)
        return
    out: dict[str, Any] = json.loads(process.stdout.strip().splitlines()[-1])
    runs = out["runs"]
    median_mbps = statistics.median(out["upload_mbps"])
    median_sha = statistics.median(out["sha_mbps"])
    ratio = out["median_ratio"]
    line(f"runs, each a new 500 MB file ({wall:.0f} s in all)", f"{len(runs)} runs")
    for index, (mbps, sha, each) in enumerate(
        zip(out["upload_mbps"], out["sha_mbps"], out["ratios"], strict=True), 1
    ):
        line(f"  run {index}: upload {mbps:.0f} MB/s, raw sha256 {sha:.0f} MB/s", f"{each * 100:.0f} %")
    line("upload throughput (median)", f"{median_mbps:.0f} MB/s")
    line("raw hashlib.sha256, same bytes (median)", f"{median_sha:.0f} MB/s")
    line(
        "upload / sha256 throughput (median of runs)",
        f"{ratio * 100:.0f} %",
        ">= 50 %",
        ratio >= UPLOAD_RATIO_TARGET,
    )
    line(
        "CPU time per upload, all threads (median)",
        f"{out['median_cpu_seconds']:.2f} s",
    )
    line("raw sha256 time on the same bytes, one thread (median)", f"{out['median_sha_seconds']:.2f} s")
    line(
        "peak RSS growth during the uploads",
        f"{out['rss_growth'] / MB:.1f} MB",
        "<= 64 MB",
        out["rss_growth"] <= RSS_TARGET,
    )
    print(f"    (RSS measured as {out['rss_method']})", flush=True)
    ok = sum(1 for run in runs if run["ok"])
    line(
        "responses READY with the right size and sha256",
        f"{ok}/{len(runs)}",
    )
    for run in runs:
        if not run["ok"]:
            print(f"    failed run: HTTP {run['status']}: {run['error']}", flush=True)
    line("staging files left behind", f"{out['staged_left']}")


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def entities_section(service: Any, label: str) -> None:
    from bench import entities

    header(f"[{label}] findFilesByEntity, 100 entities x 5 files in one GraphQL request")
    out = entities.run(service)
    for_fields = out["statements"] - out["auth_statements"]
    line(
        "SQL statements for the request",
        f"{out['statements']} statements",
        "<= 3",
        out["statements"] <= STATEMENTS_TARGET,
    )
    line(
        "  of which authentication (same as { me })",
        f"{out['auth_statements']} statements",
    )
    line("  of which the 100 findFilesByEntity fields", f"{for_fields} statements")
    line("all 100 entities answered with their 5 files", "yes" if out["complete"] else "NO")
    fresh = " (new tables, no planner statistics)" if out["analyzed_p50_ms"] is not None else ""
    line(f"latency p50 over {out['runs']} requests{fresh}", f"{out['p50_ms']:.1f} ms")
    line(f"latency p95 over {out['runs']} requests{fresh}", f"{out['p95_ms']:.1f} ms")
    if out["analyzed_p50_ms"] is not None:
        line(f"latency p50 over {out['runs']} requests after ANALYZE", f"{out['analyzed_p50_ms']:.1f} ms")
        line(f"latency p95 over {out['runs']} requests after ANALYZE", f"{out['analyzed_p95_ms']:.1f} ms")


def dedupe_section(service: Any, label: str) -> None:
    from bench import dedupe

    header(
        f"[{label}] dedupe: {dedupe.DISTINCT * dedupe.COPIES} uploads of {dedupe.DISTINCT} distinct "
        f"{dedupe.SIZE // 1024} KiB files through the API ({dedupe.THREADS} concurrent clients)"
    )
    out = dedupe.run(service)
    line("file rows", f"{out['rows']} rows", "100", out["rows"] == dedupe.DISTINCT)
    line("stored blobs", f"{out['blobs']} blobs", "100", out["blobs"] == dedupe.DISTINCT)
    line("throughput", f"{out['per_second']:.0f} uploads/s")
    line("failed uploads", f"{len(out['errors'])}")
    for error in out["errors"][:5]:
        print(f"    {error}", flush=True)
    line("staging files left behind", f"{out['staged_left']}")


def database_sections(database_url: str | None, labels: tuple[str, str]) -> None:
    with tempfile.TemporaryDirectory(prefix="istmo-bench-") as tmp:
        service = build_service(Path(tmp), database_url)
        try:
            entities_section(service, labels[0])
            dedupe_section(service, labels[1])
        finally:
            service.close()


def main() -> None:
    started = time.perf_counter()
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(
        f"Istmo benchmarks - files (issue 2, section 5). MB = 10^6 bytes. {os.cpu_count()} CPUs, "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (other work on the machine moves the "
        "throughput figures).",
        flush=True,
    )
    upload_section()
    database_sections(None, ("2", "3"))
    reason = postgres_unavailable()
    if reason:
        header("[4] PostgreSQL")
        print(f"  skipped: PostgreSQL not reachable at {_safe(POSTGRES_ADMIN_URL)} ({reason})", flush=True)
    else:
        with postgres_database() as url:
            database_sections(url, ("4a PostgreSQL", "4b PostgreSQL"))
    header("[5] PDF rendering (issue 3, section 4), beside naive weasyprint.HTML(string=...).write_pdf()")
    wait_until_quiet()
    from bench import pdf

    pdf.run()
    # WhatsApp (section 7)
    header("[6] WhatsApp (issue 5, section 7): 500 queued messages with two workers; 1,000 status webhooks")
    from bench import whatsapp

    whatsapp.run()
    # Aurinko: inbox sync (section 6)
    from bench import inbox

    wait_until_quiet()
    inbox.section(None, "7 SQLite")
    if reason:
        header("[7 PostgreSQL] inbox sync")
        print(f"  skipped: PostgreSQL not reachable ({reason})", flush=True)
    else:
        with postgres_database() as url:
            inbox.section(url, "7 PostgreSQL")
    wait_until_quiet()
    from bench import webhooks  # issue 6, section 6

    webhooks.section("8")
    emails_section()
    quickbooks_section()
    wait_until_quiet()
    from bench import intake  # issue 15, section 4

    intake.section("11")
    from bench import hardening  # issue 19

    wait_until_quiet()
    hardening.main()
    header("[13] signatures (issue 17, section 4): sealing a 2-page invoice; the audit chain check over 100,000 entries")
    from bench import signatures

    signatures.run()
    chats_section()
    from bench import faults  # issue 20

    wait_until_quiet()
    faults.section("15")
    print(f"\nbench done in {time.perf_counter() - started:.0f} s", flush=True)


def emails_section() -> None:
    from bench import emails

    header(
        f"[9] emails (issue 4, section 6): {emails.COUNT} queued emails to a local SMTP server (aiosmtpd), "
        f"{emails.WORKERS} worker processes on PostgreSQL"
    )
    reason = postgres_unavailable()
    if reason:
        print(f"  skipped: PostgreSQL not reachable at {_safe(POSTGRES_ADMIN_URL)} ({reason})", flush=True)
        return
    wait_until_quiet()
    with postgres_database() as url, tempfile.TemporaryDirectory(prefix="istmo-bench-emails-") as tmp:
        emails.report(emails.run(url, Path(tmp)))


def quickbooks_section() -> None:
    from bench import quickbooks

    header(
        f"[10] QuickBooks (issue 16, section 4): backfill of {quickbooks.INVOICES} invoices to the local QuickBooks by "
        f"{quickbooks.WORKERS} worker processes on PostgreSQL; the refresh storm"
    )
    reason = postgres_unavailable()
    if reason:
        print(f"  skipped: PostgreSQL not reachable at {_safe(POSTGRES_ADMIN_URL)} ({reason})", flush=True)
        return
    wait_until_quiet()
    with postgres_database() as url, tempfile.TemporaryDirectory(prefix="istmo-bench-qbo-") as tmp:
        quickbooks.report(quickbooks.run(url, Path(tmp)))
        quickbooks.report_storm(quickbooks.storm(url, Path(tmp)))


def chats_section() -> None:
    from bench import chats

    header("[14] the AI assistant (issue 14, section 5): 100,000 invoices on PostgreSQL; the stream relay")
    chats.relay_section("14")
    chats.concurrency_section("14 SQLite")
    reason = postgres_unavailable()
    if reason:
        print(f"  skipped: PostgreSQL not reachable at {_safe(POSTGRES_ADMIN_URL)} ({reason})", flush=True)
        return
    wait_until_quiet()
    with postgres_database() as url:
        chats.section(url, "14 PostgreSQL")


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    main()
