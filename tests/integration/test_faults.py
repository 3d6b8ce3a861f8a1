"""Faults under load: the service and two ``istmo worker`` processes reach PostgreSQL and the SMTP
server through fault-injecting proxies (``tests.support.fault_proxy``) while signed webhooks are
posted and e-mails queued over HTTP. The database's connections are reset mid-transaction, then it
refuses connections for a while, then stalls; the SMTP server's connections are reset and refused;
and one worker is SIGKILLed mid-batch. Then, with the faults over and nothing restarted:

- every webhook answered 2xx is stored exactly once; every answer was 2xx or 503 with
  ``Retry-After`` (never 500), the log has one line per outage and no traceback; the deliveries
  refused during the faults, posted again as the provider does, are taken;
- every e-mail accepted over HTTP is in the log and ends SENT or UNCERTAIN (none lost); the SMTP
  server received no message twice; a SENT one exactly once; UNCERTAIN only as often as there
  were ambiguous moments (jobs in flight at the kill, connections cut);
- no job is left RUNNING.

Bounds are generous and no timing is asserted: the machine is shared.
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from entrypoints.http import outage
from tests.smtpserver import SmtpServer
from tests.support import fault_scenario
from tests.support.fault_scenario import WORKER_CONCURRENCY, Faults

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("faults")]


class Recorder:
    """Stands in for the outage module's logger: the events it logged."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.times: list[float] = []

    def warning(self, event: str, **_: object) -> None:
        self.events.append(event)
        self.times.append(time.monotonic())

    info = warning


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        server.handler.delay = 0.02  # between keeping a message and answering: a kill may land here
        yield server


def faults(f: Faults) -> None:
    """One of each, under load."""
    f.wait_for_sends(15)
    f.kill_a_worker()  # mid-batch: its jobs in flight
    f.sleep(1.0)
    f.database.drop()  # every connection reset, mid-transaction where one was open
    f.mail.drop()
    f.sleep(2.0)
    f.mark("away")
    f.database.refuse()  # the database is away
    f.sleep(4.0)
    f.database.restore()
    f.mark("back")
    f.sleep(2.0)
    f.database.stall()  # the database hangs
    f.mail.refuse()
    f.sleep(2.0)
    f.database.restore()
    f.mail.restore()
    f.sleep(2.0)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_outages_drops_stalls_and_a_killed_worker_lose_nothing_and_duplicate_nothing(
    make_service: Any, database_url: str, smtp: SmtpServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str],
) -> None:
    recorder = Recorder()
    monkeypatch.setattr(outage, "log", recorder)
    monkeypatch.setattr(outage, "OUTAGE", outage.Outage())

    out = fault_scenario.run(make_service, database_url, smtp, tmp_path, faults)

    assert out.killed_exit == -signal.SIGKILL
    # Webhooks: 2xx or 503 with Retry-After, never 500; each acknowledged one stored exactly once.
    answers = [answer for per_id in out.webhooks.values() for answer in per_id]
    statuses = Counter(answer.status for answer in answers)
    assert set(statuses) <= {200, 202, 503}, f"answers during the faults: {statuses}"
    unavailable = [answer for answer in answers if answer.status == 503]
    assert unavailable, "the outage was not seen: no webhook was answered 503"
    kinds = Counter((a.retry_after, a.code) for a in unavailable)
    assert set(kinds) == {("5", "DATABASE_UNAVAILABLE")}, kinds
    acknowledged = {msg_id for msg_id, per_id in out.webhooks.items() if any(200 <= a.status < 300 for a in per_id)}
    assert acknowledged == set(out.webhooks), "a delivery posted again after the faults was refused"
    assert {msg_id: out.stored[msg_id] for msg_id in acknowledged if out.stored[msg_id] != 1} == {}
    assert set(out.stored) == acknowledged

    # One log line per outage (its start and its end), not one per request; no traceback at all.
    # While the database was away (refusing) for 4 s, many requests were answered 503 and at most
    # one line said so (none if the outage the resets began had not ended yet). A reset may end in
    # a few short outages, one line each: the whole run's count is bounded generously.
    away, back = out.marks["away"], out.marks["back"]
    assert sum(1 for a in unavailable if away <= a.at <= back) > 10
    lines = [t for e, t in zip(recorder.events, recorder.times, strict=True) if e == "database.unavailable"]
    assert sum(1 for t in lines if away <= t <= back) <= 1, recorder.events
    assert 1 <= len(lines) <= 6 and len(lines) * 10 < len(unavailable), recorder.events
    assert recorder.events == ["database.unavailable", "database.back"] * len(lines)  # each outage ends once
    assert "Traceback" not in capfd.readouterr().err

    # E-mails: none lost, none twice, UNCERTAIN only where a send really was ambiguous.
    accepted = {a.email_id for a in out.emails if a.status == 200 and a.email_id}
    assert accepted and accepted <= set(out.messages), "an e-mail accepted over HTTP is not in the log"
    assert {a.status for a in out.emails} <= {200, 503} and any(a.status == 503 for a in out.emails)
    assert set(out.delivered) <= {message_id for _, message_id in out.messages.values()}, "a message nobody queued"
    for status, message_id in out.messages.values():
        times = out.delivered[message_id]
        if status == "SENT":
            assert times == 1, f"{message_id} is SENT and was delivered {times} times"
        else:
            assert status == "UNCERTAIN" and times <= 1, f"{message_id}: {status}, delivered {times} times"
    uncertain = sum(1 for status, _ in out.messages.values() if status == "UNCERTAIN")
    ambiguous_moments = WORKER_CONCURRENCY + out.database_cut + out.mail_cut
    assert uncertain <= ambiguous_moments, f"{uncertain} UNCERTAIN for {ambiguous_moments} ambiguous moments"
    assert out.job_statuses["RUNNING"] == 0 and out.job_statuses["QUEUED"] == 0
    print(
        f"webhooks {len(out.webhooks)} ({statuses[503]} answered 503, {out.reposted} posted again); "
        f"e-mails {len(out.messages)}: {Counter(s for s, _ in out.messages.values())}, "
        f"{sum(out.delivered.values())} delivered; connections cut: database {out.database_cut}, "
        f"SMTP {out.mail_cut}; outage lines {recorder.events}"
    )
