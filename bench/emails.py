"""Target (issue 4, section 6): 1,000 queued emails delivered to a local SMTP server by two worker
processes on PostgreSQL in <= 20 s, with zero duplicates counted by Message-ID at the server.

The messages are queued first (``SendEmail`` through the bus: the row and its ``emails.send`` job
in one transaction each). Two ``istmo worker`` processes (the production container, its default
concurrency and poll interval, ``ISTMO_SMTP_URL`` pointed at an aiosmtpd server in this process)
start, wait at a gate, and the clock runs from opening the gate until every message is SENT.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.common import build_service, line

COUNT = 1000
WORKERS = 2
TARGET_SECONDS = 20.0


def _worker(settings: Any, ready: Any, gate: Any) -> None:
    from entrypoints.container import build_container
    from entrypoints.worker import run_worker_process

    container = build_container(settings)
    worker = container.worker()
    ready.set()
    gate.wait()
    try:
        run_worker_process(worker)
    finally:
        container.shutdown_resources()


def run(database_url: str, data_dir: Path) -> dict[str, Any]:
    from sqlalchemy import func, select

    from adapters.db.emails.tables import email_messages
    from application.emails.commands import SendEmail
    from tests.smtpserver import SmtpServer

    with SmtpServer() as smtp:
        service = build_service(data_dir, database_url, smtp_url=smtp.url(starttls="false"))
        try:
            actor = service.actor("bench-emails")
            bus = service.container.bus()
            started = time.perf_counter()
            for n in range(COUNT):
                bus.handle(
                    SendEmail(actor=actor, to=(f"cliente{n}@example.com",), subject=f"Factura F-{n:06d}", text="Adjunta su factura.")
                )
            queued_seconds = time.perf_counter() - started

            import resource

            children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
            context = multiprocessing.get_context("spawn")
            gate = context.Event()
            processes = []
            settings = replace(service.container.settings())
            for _ in range(WORKERS):
                ready = context.Event()
                process = context.Process(target=_worker, args=(settings, ready, gate), daemon=True)
                process.start()
                if not ready.wait(120):
                    raise RuntimeError("a worker process did not start")
                processes.append(process)

            engine = service.container.engine()

            def sent() -> int:
                with engine.connect() as connection:
                    return int(
                        connection.execute(
                            select(func.count()).select_from(email_messages).where(email_messages.c.status == "SENT")
                        ).scalar_one()
                    )

            started = time.perf_counter()
            gate.set()
            deadline = started + 300
            while sent() < COUNT and time.perf_counter() < deadline:
                time.sleep(0.02)
            seconds = time.perf_counter() - started
            done = sent()
            for process in processes:
                os.kill(process.pid, signal.SIGTERM)
            for process in processes:
                process.join(60)
            children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
            worker_cpu = (children_after.ru_utime + children_after.ru_stime) - (
                children_before.ru_utime + children_before.ru_stime
            )
            counts = smtp.counts_by_message_id()
            with engine.connect() as connection:
                statuses = Counter(
                    str(s) for s in connection.execute(select(email_messages.c.status)).scalars()
                )
        finally:
            service.close()
    return {
        "queued_seconds": queued_seconds,
        "seconds": seconds,
        "sent": done,
        "received": sum(counts.values()),
        "distinct": len(counts),
        "duplicates": sum(count - 1 for count in counts.values() if count > 1),
        "statuses": dict(statuses),
        "worker_cpu": worker_cpu,
        "load": os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan"),
    }


def report(out: dict[str, Any]) -> None:
    line(f"queueing {COUNT} emails (sendEmail through the bus)", f"{out['queued_seconds']:.1f} s")
    line(
        f"{COUNT} emails delivered by {WORKERS} worker processes",
        f"{out['seconds']:.1f} s",
        f"<= {TARGET_SECONDS:.0f} s",
        out["sent"] == COUNT and out["seconds"] <= TARGET_SECONDS,
    )
    line("  throughput", f"{out['sent'] / out['seconds']:.0f} emails/s" if out["seconds"] else "-")
    line("CPU of the two worker processes (start-up included)", f"{out['worker_cpu']:.1f} s")
    line("load average (1 min) at the end, on this machine", f"{out['load']:.2f}")
    line("messages SENT in the log", f"{out['sent']}/{COUNT}")
    line("messages the SMTP server received", f"{out['received']}")
    line("duplicates at the server (same Message-ID twice)", f"{out['duplicates']}", "0", out["duplicates"] == 0)
    line("message statuses", ", ".join(f"{k} {v}" for k, v in sorted(out["statuses"].items())))


if __name__ == "__main__":
    import tempfile

    from bench.common import postgres_database, postgres_unavailable

    reason = postgres_unavailable()
    if reason:
        print(f"skipped: PostgreSQL not reachable ({reason})")
    else:
        with postgres_database() as url, tempfile.TemporaryDirectory(prefix="istmo-bench-emails-") as tmp:
            report(run(url, Path(tmp)))
