"""Faults (issue 20): the webhook and e-mail paths under load with faults injected, beside the same
load without faults, in the same run.

The scenario is the fault test's (``tests/support/fault_scenario.py``), longer: the service (an
HTTP server in this process) and two ``istmo worker`` processes reach PostgreSQL and a local SMTP
server through fault-injecting TCP proxies; three threads post signed Polar webhooks and one
queues e-mails (GraphQL ``sendEmail``) for about ``LOAD_SECONDS``. The faulted pass SIGKILLs one
worker mid-batch, resets every database and SMTP connection, stops the database for
``OUTAGE_SECONDS`` (connections refused), stalls it for ``STALL_SECONDS`` while the SMTP server
refuses, and resets the database's connections once more. Each pass has a fresh database. The
provider posts again what was refused (503), as Polar does after ``Retry-After``.

Printed: each pass's counts (acknowledged and stored, duplicates, e-mails lost, UNCERTAIN, jobs
left RUNNING) and figures (acknowledged webhooks per second, latencies, e-mail delivery time).

Run alone: ``python -m bench.faults``.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import build_service, header, line, percentile, postgres_database, postgres_unavailable

LOAD_SECONDS = 40.0
OUTAGE_SECONDS = 10.0
STALL_SECONDS = 3.0
SENT_BEFORE_KILL = 40


def _clean(f: Any) -> None:
    f.wait_for_sends(SENT_BEFORE_KILL)
    f.sleep(LOAD_SECONDS)


def _faulted(f: Any) -> None:
    f.wait_for_sends(SENT_BEFORE_KILL)
    f.kill_a_worker()
    f.sleep(3.0)
    f.database.drop()
    f.mail.drop()
    f.sleep(5.0)
    f.database.refuse()
    f.sleep(OUTAGE_SECONDS)
    f.database.restore()
    f.sleep(6.0)
    f.database.stall()
    f.mail.refuse()
    f.sleep(STALL_SECONDS)
    f.database.restore()
    f.mail.restore()
    f.sleep(6.0)
    f.database.drop()
    f.sleep(max(LOAD_SECONDS - (3.0 + 5.0 + OUTAGE_SECONDS + 6.0 + STALL_SECONDS + 6.0), 2.0))


class _CountingLog:
    """Passes the outage module's log lines on, counting them by event."""

    def __init__(self, log: Any) -> None:
        self.log, self.events = log, Counter[str]()

    def warning(self, event: str, **fields: Any) -> None:
        self.events[event] += 1
        self.log.warning(event, **fields)

    def info(self, event: str, **fields: Any) -> None:
        self.events[event] += 1
        self.log.info(event, **fields)


def _pass(script: Any) -> dict[str, Any]:
    from tests.smtpserver import SmtpServer
    from tests.support import fault_scenario

    from entrypoints.http import outage

    built: list[Any] = []
    counting, original = _CountingLog(outage.log), outage.log
    outage.log, outage.OUTAGE = counting, outage.Outage()
    with postgres_database() as url, tempfile.TemporaryDirectory(prefix="istmo-bench-faults-") as tmp, \
            SmtpServer() as smtp:
        folder = Path(tmp)

        def make_service(**overrides: Any) -> Any:
            database_url = overrides.pop("database_url")
            service = build_service(folder, database_url, **overrides)
            built.append(service)
            return service

        try:
            out = fault_scenario.run(make_service, url, smtp, folder, script, drain_timeout=300)
        finally:
            outage.log = original
            for service in built:
                service.close()
    figures = _figures(out)
    figures["outage_lines"] = f"{counting.events['database.unavailable']} / {counting.events['database.back']}"
    return figures


def _figures(out: Any) -> dict[str, Any]:
    first = [answers[0] for answers in out.webhooks.values()]
    all_answers = [a for answers in out.webhooks.values() for a in answers]
    acknowledged = {m for m, answers in out.webhooks.items() if any(200 <= a.status < 300 for a in answers)}
    ok_seconds = [a.seconds for a in all_answers if 200 <= a.status < 300]
    refused_seconds = [a.seconds for a in all_answers if a.status == 503]
    statuses = Counter(str(status) for status, _ in out.messages.values())
    accepted = {a.email_id for a in out.emails if a.status == 200 and a.email_id}
    return {
        "webhooks": len(out.webhooks),
        "first_2xx": sum(1 for a in first if 200 <= a.status < 300),
        "first_503": sum(1 for a in first if a.status == 503),
        "other": sum(1 for a in all_answers if a.status not in (200, 202, 503)),
        "ack_per_second": sum(1 for a in first if 200 <= a.status < 300) / out.load_seconds,
        "ok_p50_ms": percentile(ok_seconds, 0.5) * 1000 if ok_seconds else 0.0,
        "ok_p99_ms": percentile(ok_seconds, 0.99) * 1000 if ok_seconds else 0.0,
        "ok_max_ms": max(ok_seconds, default=0.0) * 1000,
        "refused_p50_ms": percentile(refused_seconds, 0.5) * 1000 if refused_seconds else None,
        "ack_not_stored": sum(1 for m in acknowledged if out.stored[m] == 0),
        "stored_twice": sum(1 for count in out.stored.values() if count > 1),
        "emails_posted": len(out.emails),
        "emails_accepted": len(accepted),
        "emails_refused": sum(1 for a in out.emails if a.status == 503),
        "emails_lost": len(accepted - set(out.messages))
        + sum(1 for s, _ in out.messages.values() if s not in ("SENT", "UNCERTAIN")),
        "sent": statuses["SENT"],
        "uncertain": statuses["UNCERTAIN"],
        "received": sum(out.delivered.values()),
        "duplicates": sum(count - 1 for count in out.delivered.values() if count > 1),
        "email_p50_s": percentile(out.email_seconds, 0.5) if out.email_seconds else 0.0,
        "email_p95_s": percentile(out.email_seconds, 0.95) if out.email_seconds else 0.0,
        "sent_per_second": statuses["SENT"] / (out.load_seconds + out.drain_seconds),
        "load_seconds": out.load_seconds,
        "drain_seconds": out.drain_seconds,
        "running_left": out.job_statuses["RUNNING"],
        "cut": f"{out.database_cut} / {out.mail_cut}",
        "killed": out.killed_exit,
    }


def run() -> dict[str, Any]:
    reason = postgres_unavailable()
    if reason:
        return {"skipped": f"PostgreSQL not reachable ({reason})"}
    return {"clean": _pass(_clean), "faulted": _pass(_faulted)}


def section(label: str) -> None:
    header(
        f"[{label}] faults (issue 20): webhooks and e-mails for ~{LOAD_SECONDS:.0f} s through fault-injecting proxies, "
        f"without faults / with a SIGKILLed worker, connection resets, a {OUTAGE_SECONDS:.0f} s database outage "
        f"and a {STALL_SECONDS:.0f} s stall"
    )
    out = run()
    if "skipped" in out:
        print(f"  skipped: {out['skipped']}", flush=True)
        return
    report(out)


def report(out: dict[str, Any]) -> None:
    clean, faulted = out["clean"], out["faulted"]

    def both(key: str, fmt: str = "{}") -> str:
        return " / ".join("-" if side[key] is None else fmt.format(side[key]) for side in (clean, faulted))

    print("  (each figure: without faults / with faults)", flush=True)
    line("load window", both("load_seconds", "{:.0f} s"))
    line("webhooks posted (distinct deliveries)", both("webhooks"))
    line("  answered 2xx / 503 at the first post", f"{clean['first_2xx']}/{clean['first_503']} / "
         f"{faulted['first_2xx']}/{faulted['first_503']}")
    line("  answered anything else (500, no answer)", both("other"), "0",
         clean["other"] == 0 and faulted["other"] == 0)
    line("acknowledged webhooks per second (first posts)", both("ack_per_second", "{:.0f} /s"))
    line("latency of a 2xx answer p50", both("ok_p50_ms", "{:.1f} ms"))
    line("latency of a 2xx answer p99", both("ok_p99_ms", "{:.0f} ms"))
    line("latency of a 2xx answer max (a stall shows here)", both("ok_max_ms", "{:.0f} ms"))
    line("latency of a 503 answer p50", both("refused_p50_ms", "{:.1f} ms"))
    line("acknowledged and not stored", both("ack_not_stored"), "0",
         clean["ack_not_stored"] == 0 and faulted["ack_not_stored"] == 0)
    line("stored twice", both("stored_twice"), "0", clean["stored_twice"] == 0 and faulted["stored_twice"] == 0)
    line("e-mails posted / accepted", f"{clean['emails_posted']}/{clean['emails_accepted']} / "
         f"{faulted['emails_posted']}/{faulted['emails_accepted']}")
    line("e-mails refused 503", both("emails_refused"))
    line("e-mails SENT / UNCERTAIN", f"{clean['sent']}/{clean['uncertain']} / {faulted['sent']}/{faulted['uncertain']}")
    line("e-mails lost (accepted, never SENT or UNCERTAIN)", both("emails_lost"), "0",
         clean["emails_lost"] == 0 and faulted["emails_lost"] == 0)
    line("duplicates at the SMTP server (same Message-ID twice)", both("duplicates"), "0",
         clean["duplicates"] == 0 and faulted["duplicates"] == 0)
    line("e-mail accepted -> SENT p50", both("email_p50_s", "{:.2f} s"))
    line("e-mail accepted -> SENT p95", both("email_p95_s", "{:.2f} s"))
    line("e-mails SENT per second (load + drain)", both("sent_per_second", "{:.1f} /s"))
    line("drain after the load (jobs left to run)", both("drain_seconds", "{:.1f} s"))
    line("jobs left RUNNING", both("running_left"), "0", clean["running_left"] == 0 and faulted["running_left"] == 0)
    line("connections cut (database / SMTP), faulted pass", faulted["cut"])
    line("log lines 'database.unavailable' / 'database.back', faulted pass", faulted["outage_lines"])
    print(f"    ({faulted['first_503'] + faulted['emails_refused']} requests answered 503 in that pass)", flush=True)


if __name__ == "__main__":
    section("faults")
