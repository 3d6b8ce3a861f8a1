"""WhatsApp targets (issue 5, section 7).

1. 500 queued messages delivered to the local Graph API server by two ``istmo worker`` processes:
   seconds from the workers' start to the last SENT, and duplicates at the server (must be 0).
2. 1,000 status webhooks (signed, one POST each) received and processed: per second.

PostgreSQL when it is reachable (two workers claim with SKIP LOCKED), else SQLite.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import build_service, header, line, postgres_database, postgres_unavailable

MESSAGES = 500
WEBHOOKS = 1000
SECRET_KEY = "x9mQ2f8v7LpV3cK1nR5tW0yZ4aB6dE8gH2jK4mN6pQ8="


def _worker(settings: Any, ready: Any) -> None:
    from entrypoints.container import build_container
    from entrypoints.worker import run_worker_process

    container = build_container(settings)
    worker = container.worker(poll_interval=0.05, schedules=())
    ready.set()
    run_worker_process(worker)
    container.shutdown_resources()


def _start(settings: Any, context: Any) -> list[Any]:
    """Two worker processes, once both are ready to claim."""
    workers = []
    for _ in range(2):
        ready = context.Event()
        process = context.Process(target=_worker, args=(settings, ready), daemon=True)
        process.start()
        workers.append((process, ready))
    for _process, ready in workers:
        ready.wait(60)
    return [process for process, _ready in workers]


def _stop(workers: list[Any]) -> None:
    for process in workers:
        if process.is_alive():
            os.kill(process.pid, signal.SIGTERM)
    for process in workers:
        process.join(30)


def _wait(condition: Callable[[], bool], timeout: float = 600) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _count(service: Any, where: str) -> int:
    from sqlalchemy import text

    with service.container.engine().connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM whatsapp_messages WHERE {where}")).scalar_one())


def _jobs_left(service: Any) -> int:
    from sqlalchemy import text

    with service.container.engine().connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM jobs WHERE status IN ('QUEUED', 'RUNNING')")).scalar_one())


def run_on(database_url: str | None, label: str) -> None:
    from adapters.webhooks.whatsapp import sign
    from application.whatsapp.commands import ConnectWhatsapp, SendWhatsapp, TemplateInput
    from tests.providers.graph import APP_SECRET, PHONE_NUMBER_ID, TOKEN, VERIFY_TOKEN, WABA_ID, GraphApi, status, status_payload
    from tests.providers.server import ProviderServer

    server = ProviderServer().start()
    graph = GraphApi(server)
    with tempfile.TemporaryDirectory(prefix="istmo-bench-wa-") as tmp:
        service = build_service(Path(tmp), database_url, secret_keys=(SECRET_KEY,), whatsapp_graph_url=server.url)
        try:
            bus = service.container.bus()
            actor = service.actor("bench")
            bus.handle(ConnectWhatsapp(actor=actor, phone_number_id=PHONE_NUMBER_ID, waba_id=WABA_ID,
                                       access_token=TOKEN, app_secret=APP_SECRET, verify_token=VERIFY_TOKEN))
            template = TemplateInput(name="factura_lista", language="es", parameters=("Ana", "F-000001"))
            for n in range(MESSAGES):
                bus.handle(SendWhatsapp(actor=actor, to=f"+5076{n:07d}", template=template))

            header(f"[{label}] {MESSAGES} queued WhatsApp messages, two worker processes, local Graph API")
            context = multiprocessing.get_context("spawn")
            settings = service.container.settings()
            started = time.perf_counter()
            workers = _start(settings, context)
            done = _wait(lambda: _count(service, "status = 'SENT'") == MESSAGES)
            seconds = time.perf_counter() - started
            duplicates = sum(count - 1 for count in graph.delivered.values() if count > 1)
            sent = _count(service, "status = 'SENT'")
            line("all delivered", "yes" if done else f"NO ({sent} sent)")
            line("seconds (workers' start to the last SENT, incl. process start)", f"{seconds:.1f} s")
            line("duplicates at the Graph API server", f"{duplicates}", "0", duplicates == 0)

            _stop(workers)
            header(f"[{label}] {WEBHOOKS} status webhooks (signed POSTs to /webhooks/whatsapp), processed")
            with service.container.engine().connect() as connection:
                from sqlalchemy import text

                wamids = list(connection.execute(text("SELECT wamid FROM whatsapp_messages WHERE wamid IS NOT NULL")).scalars())
            base = int(time.time())
            bodies = []
            for index in range(WEBHOOKS):
                state = "delivered" if index < len(wamids) else "read"
                bodies.append(json.dumps(status_payload(PHONE_NUMBER_ID, status(wamids[index % len(wamids)], state, base + index))).encode())
            client = service.app.test_client()
            started = time.perf_counter()
            refused = 0
            for body in bodies:
                response = client.post("/webhooks/whatsapp", data=body, headers={
                    "Content-Type": "application/json", "X-Hub-Signature-256": sign(APP_SECRET, body)})
                refused += response.status_code != 200
            received = time.perf_counter() - started
            workers = _start(settings, context)  # then two workers drain the inbox
            started = time.perf_counter()
            _wait(lambda: _jobs_left(service) == 0)
            processed = time.perf_counter() - started
            _stop(workers)
            read = _count(service, "status = 'READ'")
            line("webhooks answered 200", f"{WEBHOOKS - refused}/{WEBHOOKS}")
            line("received (one client; signature checked, inbox row + job)", f"{WEBHOOKS / received:.0f} /s")
            line("processed by two workers (statuses applied)", f"{WEBHOOKS / processed:.0f} /s")
            line("messages READ afterwards", f"{read}/{MESSAGES}")
        finally:
            service.close()
            server.stop()


def run() -> None:
    reason = postgres_unavailable()
    if reason:
        print(f"  PostgreSQL not reachable ({reason}): on SQLite", flush=True)
        run_on(None, "6 SQLite")
    else:
        with postgres_database() as url:
            run_on(url, "6 PostgreSQL")


if __name__ == "__main__":
    run()
