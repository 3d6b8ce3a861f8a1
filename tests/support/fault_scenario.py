"""The fault scenario the fault test asserts on and ``make bench`` measures: the service (an HTTP
server in this process) and two ``istmo worker`` processes reach PostgreSQL and the SMTP server
through ``FaultProxy``s; threads post signed Polar webhooks and queue e-mails (GraphQL
``sendEmail``) over HTTP while a script injects faults; then the provider posts again what was not
acknowledged, the workers finish, and everything that happened is gathered in an ``Outcome``.
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
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from entrypoints.config import Variables
from tests.smtpserver import SmtpServer
from tests.support.fault_proxy import FaultProxy
from tests.webhook_signing import polar_headers

POLAR_SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
LEASE = timedelta(seconds=6)  # longer than a stall, so a stalled worker keeps its jobs
WORKER_CONCURRENCY = 4
SEND_EMAIL = (
    'mutation($to: [String!]!, $subject: String!) { sendEmail(input: {to: $to, subject: $subject, text: "Adjunta"}) '
    "{ emailMessage { id } error { code } } }"
)


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
    seconds: float = 0.0
    at: float = field(default_factory=time.monotonic)  # when the answer came
    retry_after: str | None = None
    code: str | None = None
    email_id: str | None = None


@dataclass
class Load:
    port: int
    token: str
    webhook_pause: float = 0.01
    email_pause: float = 0.06
    stop: threading.Event = field(default_factory=threading.Event)
    webhooks: dict[str, list[Answer]] = field(default_factory=dict)
    emails: list[Answer] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        started = time.perf_counter()
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            payload = json.loads(response.read() or b"{}")
        except (OSError, http.client.HTTPException, ValueError):
            return Answer(0, seconds=time.perf_counter() - started)
        finally:
            connection.close()
        error = payload.get("error") if isinstance(payload, dict) else None
        answer = Answer(response.status, seconds=time.perf_counter() - started,
                        retry_after=response.headers.get("Retry-After"),
                        code=error.get("code") if isinstance(error, dict) else None)
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
            time.sleep(self.webhook_pause)

    def queue_emails(self) -> None:
        n = 0
        while not self.stop.is_set():
            body = json.dumps({"query": SEND_EMAIL,
                               "variables": {"to": [f"cliente{n}@example.com"], "subject": f"Factura {n}"}}).encode()
            answer = self.post("/graphql", body, {"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"})
            with self.lock:
                self.emails.append(answer)
            n += 1
            time.sleep(self.email_pause)


# --- the run --------------------------------------------------------------------------------


@dataclass
class Faults:
    """What a fault script gets: the two proxies, the SMTP server, the workers (the first started
    is ``doomed``), and a sleep."""

    database: FaultProxy
    mail: FaultProxy
    smtp: SmtpServer
    workers: Workers
    doomed: Any
    killed: bool = False
    marks: dict[str, float] = field(default_factory=dict)

    def mark(self, name: str) -> None:
        """Remember when the script got here (``time.monotonic()``), to place answers and log lines."""
        self.marks[name] = time.monotonic()

    def kill_a_worker(self) -> None:
        os.kill(self.doomed.pid, signal.SIGKILL)
        self.killed = True

    def wait_for_sends(self, count: int, timeout: float = 90) -> None:
        wait_until(lambda: len(self.smtp.received) >= count, timeout=timeout, what=f"{count} e-mails were sent")

    @staticmethod
    def sleep(seconds: float) -> None:
        time.sleep(seconds)


@dataclass
class Outcome:
    webhooks: dict[str, list[Answer]]
    emails: list[Answer]
    reposted: int
    stored: Counter[str]
    messages: dict[str, tuple[str, str]]  # row id -> (status, Message-ID)
    email_seconds: list[float]  # accepted -> SENT, per SENT message
    delivered: Counter[str]  # Message-ID -> times the SMTP server received it
    job_statuses: Counter[str]
    load_seconds: float
    drain_seconds: float
    database_cut: int
    mail_cut: int
    killed_exit: int | None
    marks: dict[str, float]


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.1)


@contextmanager
def _http_server(app: Any) -> Iterator[int]:
    from werkzeug.serving import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            pass

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()


def run(
    make_service: Callable[..., Any], database_url: str, smtp: SmtpServer, folder: Path,
    script: Callable[[Faults], None], *, webhook_threads: int = 3, email_pause: float = 0.06,
    drain_timeout: float = 180,
) -> Outcome:
    """The scenario: load while ``script`` runs (it decides the faults and how long), then the
    provider's second posts, then the workers' drain; ``make_service(**overrides)`` builds the
    service (an object with ``app``, ``container`` and ``token(slug)``) on the proxied database."""
    from adapters.db.emails.tables import email_messages
    from adapters.db.jobs.tables import jobs
    from adapters.db.webhooks.tables import webhook_events

    real = make_url(database_url)
    with FaultProxy((real.host or "127.0.0.1", real.port or 5432)) as database, \
            FaultProxy(("127.0.0.1", smtp.port)) as mail:
        proxied = real.set(host="127.0.0.1", port=database.port).render_as_string(hide_password=False)
        service = make_service(
            database_url=proxied, smtp_url=f"smtp://127.0.0.1:{mail.port}?starttls=false",
            polar_webhook_secret=POLAR_SECRET, job_lease=LEASE, job_max_attempts=20,
            # the load is one client address and one tenant, far past the rate limits: they have their own tests
            variables=Variables({"ISTMO_RATE_LIMIT_WEBHOOK_IP": "off", "ISTMO_RATE_LIMIT_TENANT": "off"}),
        )
        token = service.token("acme")
        workers = Workers(service.container.settings(), folder)
        with _http_server(service.app) as port:
            load = Load(port, token, email_pause=email_pause)
            try:
                faults = Faults(database, mail, smtp, workers, doomed=workers.start())
                workers.start()
                threads = [threading.Thread(target=load.post_webhooks, args=(f"t{i}",), daemon=True)
                           for i in range(webhook_threads)]
                threads.append(threading.Thread(target=load.queue_emails, daemon=True))
                started = time.perf_counter()
                for thread in threads:
                    thread.start()
                script(faults)
                load.stop.set()
                for thread in threads:
                    thread.join(90)
                load_seconds = time.perf_counter() - started
                database.restore()
                mail.restore()
                # The provider posts again what was not acknowledged (Retry-After); nothing restarted.
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

                wait_until(lambda: left_to_do() == 0, timeout=drain_timeout,
                           what="every job ran and every e-mail was sent")
                drain_seconds = time.perf_counter() - started - load_seconds
                with engine.connect() as connection:
                    stored = Counter(connection.execute(select(webhook_events.c.provider_event_id)).scalars())
                    rows = list(connection.execute(select(
                        email_messages.c.id, email_messages.c.status, email_messages.c.internet_message_id,
                        email_messages.c.created_at, email_messages.c.sent_at)))
                    job_statuses = Counter(str(s) for s in connection.execute(select(jobs.c.status)).scalars())
                if faults.killed:
                    faults.doomed.join(10)
            finally:
                load.stop.set()
                workers.stop_all()
    return Outcome(
        webhooks=load.webhooks, emails=load.emails, reposted=len(refused), stored=stored,
        messages={row.id: (str(row.status), row.internet_message_id) for row in rows},
        email_seconds=[(row.sent_at - row.created_at).total_seconds() for row in rows if row.sent_at is not None],
        delivered=smtp.counts_by_message_id(), job_statuses=job_statuses, load_seconds=load_seconds,
        drain_seconds=drain_seconds, database_cut=database.cut, mail_cut=mail.cut,
        killed_exit=faults.doomed.exitcode if faults.killed else None, marks=faults.marks,
    )
