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

import http.client
import json
import multiprocessing
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from adapters.db.emails.tables import email_messages
from adapters.db.jobs.tables import jobs
from adapters.db.webhooks.tables import webhook_events
from entrypoints.http import outage
from tests.smtpserver import SmtpServer
from tests.support.fault_proxy import FaultProxy
from tests.webhook_signing import polar_headers

POLAR_SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
LEASE = timedelta(seconds=6)  # longer than the stall, so a stalled worker keeps its jobs
WORKER_CONCURRENCY = 4
SEND_EMAIL = (
    "mutation($to: [String!]!, $subject: String!) { sendEmail(input: {to: $to, subject: $subject, text: \"Adjunta\"}) "
    "{ emailMessage { id } error { code } } }"
)

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("faults")]


# --- the worker processes -------------------------------------------------------------------


def _worker(settings: Any, log_path: str, ready: Any) -> None:
    """``istmo worker`` in a process of its own, polling fast, retrying soon; its log in a file."""
    descriptor = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(descriptor, 2)
    from domain.jobs.model import RetryPolicy
    from entrypoints.container import build_container
    from entrypoints.worker import run_worker_process

    container = build_container(settings)
    policy = RetryPolicy(max_attempts=20, base=timedelta(seconds=0.2), cap=timedelta(seconds=2))
    container.worker.add_kwargs(concurrency=WORKER_CONCURRENCY, poll_interval=0.05, grace=5, policy=policy)
    ready.set()
    try:
        run_worker_process(container.worker())
    finally:
        container.shutdown_resources()


class Workers:
    def __init__(self, settings: Any, folder: Path) -> None:
        self.settings, self.folder = settings, folder
        self.context = multiprocessing.get_context("spawn")
        self.started: list[Any] = []

    def start(self) -> Any:
        ready = self.context.Event()
        log_path = str(self.folder / f"worker-{len(self.started)}.log")
        process = self.context.Process(target=_worker, args=(self.settings, log_path, ready), daemon=True)
        process.start()
        self.started.append(process)
        assert ready.wait(120), "the worker process did not start"
        return process

    def stop_all(self) -> None:
        for process in self.started:
            if process.is_alive():
                os.kill(process.pid, signal.SIGTERM)
        for process in self.started:
            process.join(30)
            if process.is_alive():
                process.kill()
                process.join(5)


# --- the load -------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int  # 0: no answer (the connection failed)
    retry_after: str | None = None
    code: str | None = None
    email_id: str | None = None


@dataclass
class Load:
    port: int
    token: str
    stop: threading.Event = field(default_factory=threading.Event)
    webhooks: dict[str, list[Answer]] = field(default_factory=dict)
    emails: list[Answer] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            payload = json.loads(response.read() or b"{}")
        except (OSError, http.client.HTTPException, ValueError):
            return Answer(0)
        finally:
            connection.close()
        error = payload.get("error") if isinstance(payload, dict) else None
        answer = Answer(response.status, response.headers.get("Retry-After"),
                        error.get("code") if isinstance(error, dict) else None)
        if response.status == 200 and path == "/graphql":
            sent = (payload.get("data") or {}).get("sendEmail") or {}
            answer.email_id = (sent.get("emailMessage") or {}).get("id")
        return answer

    def webhook(self, msg_id: str) -> Answer:
        body = json.dumps({"type": "order.created", "timestamp": "2026-12-07T10:00:00Z",
                           "data": {"id": f"ord_{msg_id}", "customer": {"external_id": "acme"}}}).encode()
        answer = self.post("/webhooks/polar", body, polar_headers(POLAR_SECRET, body, msg_id=msg_id))
        with self.lock:
            self.webhooks.setdefault(msg_id, []).append(answer)
        return answer

    def post_webhooks(self, name: str) -> None:
        n = 0
        while not self.stop.is_set():
            self.webhook(f"msg_{name}_{n}")
            n += 1
            time.sleep(0.01)

    def queue_emails(self) -> None:
        n = 0
        while not self.stop.is_set():
            body = json.dumps({"query": SEND_EMAIL,
                               "variables": {"to": [f"cliente{n}@example.com"], "subject": f"Factura {n}"}}).encode()
            answer = self.post("/graphql", body, {"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"})
            with self.lock:
                self.emails.append(answer)
            n += 1
            time.sleep(0.06)


class Recorder:
    """Stands in for the outage module's logger: the events it logged."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def warning(self, event: str, **_: object) -> None:
        self.events.append(event)

    info = warning


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.1)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        server.handler.delay = 0.02  # between keeping a message and answering: a kill may land here
        yield server


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_outages_drops_stalls_and_a_killed_worker_lose_nothing_and_duplicate_nothing(
    make_service: Any, database_url: str, smtp: SmtpServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str],
) -> None:
    from werkzeug.serving import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            pass

    recorder = Recorder()
    monkeypatch.setattr(outage, "log", recorder)
    monkeypatch.setattr(outage, "OUTAGE", outage.Outage())
    real = make_url(database_url)
    with FaultProxy((real.host or "127.0.0.1", real.port or 5432)) as database, \
            FaultProxy(("127.0.0.1", smtp.port)) as mail:
        proxied = real.set(host="127.0.0.1", port=database.port).render_as_string(hide_password=False)
        service = make_service(
            database_url=proxied, smtp_url=f"smtp://127.0.0.1:{mail.port}?starttls=false",
            polar_webhook_secret=POLAR_SECRET, job_lease=LEASE, job_max_attempts=20,
        )
        token = service.token("acme")
        server = make_server("127.0.0.1", 0, service.app, threaded=True, request_handler=Quiet)
        serving = threading.Thread(target=server.serve_forever, daemon=True)
        serving.start()
        workers = Workers(service.container.settings(), tmp_path)
        load = Load(server.server_port, token)
        try:
            doomed, _survivor = workers.start(), workers.start()
            threads = [threading.Thread(target=load.post_webhooks, args=(f"t{i}",), daemon=True) for i in range(3)]
            threads.append(threading.Thread(target=load.queue_emails, daemon=True))
            for thread in threads:
                thread.start()

            # The faults, one after the other, under load.
            wait_until(lambda: len(smtp.received) >= 15, timeout=90, what="the workers sent some e-mails")
            os.kill(doomed.pid, signal.SIGKILL)  # mid-batch: four jobs in flight
            time.sleep(1.0)
            database.drop()  # every connection reset, mid-transaction where one was open
            mail.drop()
            time.sleep(2.0)
            database.refuse()  # the database is away
            time.sleep(4.0)
            database.restore()
            time.sleep(2.0)
            database.stall()  # the database hangs
            mail.refuse()
            time.sleep(2.0)
            database.restore()
            mail.restore()
            time.sleep(2.0)
            load.stop.set()
            for thread in threads:
                thread.join(90)
            doomed.join(10)
            assert doomed.exitcode == -signal.SIGKILL

            # The provider posts again what was not acknowledged; the service is back on its own.
            refused = [msg_id for msg_id, answers in load.webhooks.items() if not 200 <= answers[-1].status < 300]
            for msg_id in refused:
                load.webhook(msg_id)
            engine = service.container.engine()

            def left_to_do() -> int:
                with engine.connect() as connection:
                    busy = connection.execute(select(func.count()).select_from(jobs).where(
                        jobs.c.status.in_(("QUEUED", "RUNNING")))).scalar_one()
                    unsent = connection.execute(select(func.count()).select_from(email_messages).where(
                        email_messages.c.status.not_in(("SENT", "UNCERTAIN")))).scalar_one()
                return int(busy) + int(unsent)

            wait_until(lambda: left_to_do() == 0, timeout=180, what="every job ran and every e-mail was sent")
            with engine.connect() as connection:
                stored = Counter(connection.execute(select(webhook_events.c.provider_event_id)).scalars())
                messages = {row.id: (str(row.status), row.internet_message_id) for row in connection.execute(
                    select(email_messages.c.id, email_messages.c.status, email_messages.c.internet_message_id))}
                job_statuses = Counter(str(s) for s in connection.execute(select(jobs.c.status)).scalars())
        finally:
            load.stop.set()
            workers.stop_all()
            server.shutdown()

    # Webhooks: 2xx or 503 with Retry-After, never 500; each acknowledged one stored exactly once.
    answers = [answer for per_id in load.webhooks.values() for answer in per_id]
    statuses = Counter(answer.status for answer in answers)
    assert set(statuses) <= {200, 202, 503}, f"answers during the faults: {statuses}"
    unavailable = [answer for answer in answers if answer.status == 503]
    assert unavailable, "the outage was not seen: no webhook was answered 503"
    assert all(a.retry_after == "5" and a.code == "DATABASE_UNAVAILABLE" for a in unavailable)
    acknowledged = {msg_id for msg_id, per_id in load.webhooks.items() if any(200 <= a.status < 300 for a in per_id)}
    assert acknowledged == set(load.webhooks), "a delivery posted again after the faults was refused"
    assert {msg_id: stored[msg_id] for msg_id in acknowledged if stored[msg_id] != 1} == {}
    assert set(stored) == acknowledged

    # One log line per outage (its start and its end), not one per request; no traceback at all.
    outages = recorder.events.count("database.unavailable")
    assert 1 <= outages <= 3 < len(unavailable), recorder.events
    assert recorder.events.count("database.back") == outages
    assert "Traceback" not in capfd.readouterr().err

    # E-mails: none lost, none twice, UNCERTAIN only where a send really was ambiguous.
    accepted = {a.email_id for a in load.emails if a.status == 200 and a.email_id}
    assert accepted and accepted <= set(messages), "an e-mail accepted over HTTP is not in the log"
    assert {a.status for a in load.emails} <= {200, 503, 0} and any(a.status == 503 for a in load.emails)
    delivered = smtp.counts_by_message_id()
    assert set(delivered) <= {message_id for _, message_id in messages.values()}, "a message nobody queued"
    for status, message_id in messages.values():
        if status == "SENT":
            assert delivered[message_id] == 1, f"{message_id} is SENT and was delivered {delivered[message_id]} times"
        else:
            assert status == "UNCERTAIN" and delivered[message_id] <= 1, f"{message_id}: {status}, {delivered[message_id]}"
    uncertain = sum(1 for status, _ in messages.values() if status == "UNCERTAIN")
    ambiguous_moments = WORKER_CONCURRENCY + database.cut + mail.cut
    assert uncertain <= ambiguous_moments, f"{uncertain} UNCERTAIN for {ambiguous_moments} ambiguous moments"
    assert job_statuses["RUNNING"] == 0 and job_statuses["QUEUED"] == 0
    print(
        f"webhooks {len(load.webhooks)} ({statuses[503]} answered 503 first, {len(refused)} posted again); "
        f"e-mails {len(messages)}: {Counter(s for s, _ in messages.values())}, {sum(delivered.values())} delivered; "
        f"connections cut: database {database.cut}, SMTP {mail.cut}; outage lines {recorder.events}"
    )
