"""Targets (issue 16, section 4): the backfill of 1,000 invoices (and their 200 customers) to the
local QuickBooks by two worker processes on PostgreSQL at >= 50 invoices/s (the fake answers at
once); the refresh storm: 20 concurrent pushes that find the token expired make 1 refresh call.

The books are made before QuickBooks is connected (nothing is queued for them), then
``syncQuickbooks(full: true)`` queues 1,200 pushes. Two ``istmo worker`` processes (the production
container, default concurrency) start, wait at a gate, and the clock runs from opening the gate
until every link is SYNCED. Beside it, the baseline measured in the same run: 1,000 invoice creates
sent straight to the fake by two threads (no database, no job): what the fake itself allows.
The per-realm budget is raised for the run (``ISTMO_QBO_REQUESTS_PER_MINUTE``): at QuickBooks' own
500 a minute, 1,200 requests take at least 2.4 minutes whatever the code does.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from bench.common import build_service, line

CUSTOMERS = 200
INVOICES = 1000
WORKERS = 2
TARGET_RATE = 50.0
STORM = 20
SECRET_KEY = "pK4cF8w3Z9m1Yq7dR2vT6nB0xL5hJ3sG8aE1uW4iO7k="  # a Fernet key for the bench's sealed tokens


def _worker(settings: Any, ready: Any, gate: Any, startup_cpu: Any) -> None:
    from entrypoints.container import build_container
    from entrypoints.worker import run_worker_process

    container = build_container(settings)
    worker = container.worker()
    startup_cpu.value = time.process_time()  # imports and the container: not the backfill's
    ready.set()
    gate.wait()
    try:
        run_worker_process(worker)
    finally:
        container.shutdown_resources()


def _variables(fake: Any, **extra: str) -> Any:
    from tests.providers.quickbooks import CLIENT_ID, CLIENT_SECRET, VERIFIER_TOKEN

    from entrypoints.config import Variables

    return Variables({
        "ISTMO_QBO_CLIENT_ID": CLIENT_ID, "ISTMO_QBO_CLIENT_SECRET": CLIENT_SECRET,
        "ISTMO_QBO_ENVIRONMENT": fake.discovery_url, "ISTMO_QBO_API_URL": fake.server.url,
        "ISTMO_QBO_WEBHOOK_VERIFIER": VERIFIER_TOKEN, **extra,
    })


def _connect(service: Any, fake: Any, slug: str, realm: str | None = None) -> None:
    from tests.providers.quickbooks import ITEM, REALM, TAX_CODES

    realm = realm or REALM

    client = service.app.test_client()
    headers = service.headers(slug)
    url = client.post("/graphql", json={"query": "{ getQboAuthorizationUrl { authorization { url } error { message } } }"},
                      headers=headers).get_json()["data"]["getQboAuthorizationUrl"]["authorization"]["url"]
    state = parse_qs(urlparse(url).query)["state"][0]
    exchange = ("mutation($c: String!, $s: String!, $r: String!) { exchangeQboAuthorizationCode(code: $c, state: $s, "
                "realmId: $r) { error { message } } }")
    answer = client.post("/graphql", json={"query": exchange, "variables": {"c": fake.issue_code(realm), "s": state, "r": realm}},
                         headers=headers).get_json()
    assert answer["data"]["exchangeQboAuthorizationCode"]["error"] is None, answer
    mappings = ("mutation($codes: [QuickbooksTaxCodeInput!]!) { setQuickbooksMappings(itemId: \"" + ITEM + "\", "
                "taxCodes: $codes) { error { message } } }")
    codes = [{"rate": int(rate), "taxCodeId": code} for rate, code in TAX_CODES.items()]
    client.post("/graphql", json={"query": mappings, "variables": {"codes": codes}}, headers=headers)


def _baseline(fake: Any) -> float:
    """1,000 invoice creates straight to the fake, two threads, no database: invoices/s."""
    import requests
    from tests.providers.quickbooks import REALM

    fake.company(REALM).of("Customer")["base"] = {"Id": "base", "SyncToken": "0", "DisplayName": "Baseline",
                                                 "MetaData": {"LastUpdatedTime": "2026-01-01T00:00:00Z"}}
    token = next(iter(fake.access))
    body = {"CustomerRef": {"value": "base"}, "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 10,
            "SalesItemLineDetail": {"ItemRef": {"value": "1"}, "TaxCodeRef": {"value": "TAX7"}}}]}

    def send(part: int) -> None:
        session = requests.Session()
        for n in range(part, INVOICES, 2):
            session.post(f"{fake.server.url}/v3/company/{REALM}/invoice", json=body, timeout=10,
                         params={"requestid": f"baseline-{n}", "minorversion": "75"},
                         headers={"Authorization": f"Bearer {token}"})

    started = time.perf_counter()
    threads = [threading.Thread(target=send, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rate = INVOICES / (time.perf_counter() - started)
    company = fake.company(REALM)
    for key in [k for k, v in company.of("Invoice").items() if v["CustomerRef"]["value"] == "base"]:
        del company.of("Invoice")[key]
    company.replies.clear()
    return rate


def run(database_url: str, data_dir: Path) -> dict[str, Any]:
    from sqlalchemy import func, select
    from tests.providers.quickbooks import REALM, FakeQuickbooks
    from tests.providers.server import ProviderServer

    from adapters.db.integrations.quickbooks.tables import qbo_links
    from application.invoicing.commands import CreateClient, CreateInvoice
    from domain.invoicing.lines import LineInput

    server = ProviderServer().start()
    fake = FakeQuickbooks(server)
    service = build_service(data_dir, database_url, secret_keys=(SECRET_KEY,),
                            variables=_variables(fake, ISTMO_QBO_REQUESTS_PER_MINUTE="1000000"))
    try:
        actor = service.actor("bench-qbo")
        bus = service.container.bus()
        clients = [bus.handle(CreateClient(actor=actor, name=f"Cliente {n:03d}, S.A.", taxpayer_type="CONSUMIDOR_FINAL")).id
                   for n in range(CUSTOMERS)]
        for n in range(INVOICES):
            bus.handle(CreateInvoice(
                actor=actor, client_id=clients[n % CUSTOMERS], issue_date=date(2026, 11, 1), due_date=date(2026, 12, 1),
                lines=(LineInput(description=f"Servicio {n}", quantity="1", unit_price="10", tax_rate=7),),
            ))
        _connect(service, fake, "bench-qbo")
        baseline = _baseline(fake)
        client = service.app.test_client()
        started = time.perf_counter()
        client.post("/graphql", json={"query": "mutation { syncQuickbooks(full: true) { invoicesQueued } }"},
                    headers=service.headers("bench-qbo"))
        queue_seconds = time.perf_counter() - started

        import resource

        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        context = multiprocessing.get_context("spawn")
        gate, processes, startups = context.Event(), [], []
        for _ in range(WORKERS):
            ready, startup = context.Event(), context.Value("d", 0.0)
            startups.append(startup)
            process = context.Process(
                target=_worker, args=(replace(service.container.settings()), ready, gate, startup), daemon=True
            )
            process.start()
            if not ready.wait(120):
                raise RuntimeError("a worker process did not start")
            processes.append(process)
        engine = service.container.engine()

        def synced() -> int:
            with engine.connect() as connection:
                return int(connection.execute(
                    select(func.count()).select_from(qbo_links).where(qbo_links.c.status == "SYNCED")
                ).scalar_one())

        started = time.perf_counter()
        gate.set()
        deadline = started + 600
        while synced() < CUSTOMERS + INVOICES and time.perf_counter() < deadline:
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        for process in processes:
            os.kill(process.pid, signal.SIGTERM)
        for process in processes:
            process.join(60)
        children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        worker_cpu = (children_after.ru_utime + children_after.ru_stime) - (
            children_before.ru_utime + children_before.ru_stime
        )
        invoices = [i for i in fake.company(REALM).of("Invoice").values()]
        out = {
            "seconds": seconds, "queue_seconds": queue_seconds, "synced": synced(), "baseline": baseline,
            "invoices": len(invoices), "distinct": len({i["DocNumber"] for i in invoices}),
            "customers": len(fake.company(REALM).of("Customer")) - 1,
            "worker_cpu": worker_cpu, "startup_cpu": sum(s.value for s in startups),
            "load": os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan"),
        }
    finally:
        service.close()
        server.stop()
    return out


def storm(database_url: str, data_dir: Path) -> int:
    """20 concurrent pushes, every one finding the access token expired: refresh calls made."""
    from tests.fakes.clock import FakeClock
    from tests.providers.quickbooks import FakeQuickbooks
    from tests.providers.server import ProviderServer

    from application.integrations.quickbooks.commands import PushRecord
    from application.integrations.quickbooks.handlers import system_actor
    from application.invoicing.commands import CreateClient

    server = ProviderServer().start()
    fake = FakeQuickbooks(server)
    service = build_service(data_dir, database_url, secret_keys=(SECRET_KEY,),
                            variables=_variables(fake, ISTMO_QBO_CONCURRENCY=str(STORM)))
    try:
        clock = FakeClock()
        service.container.core.clock.override(clock)
        _connect(service, fake, "bench-storm", realm="9130350002")
        actor = service.actor("bench-storm")
        bus = service.container.bus()
        clients = [bus.handle(CreateClient(actor=actor, name=f"Storm {n}", taxpayer_type="CONSUMIDOR_FINAL")).id
                   for n in range(STORM)]
        clock.advance(timedelta(hours=2))
        fake.refresh_delay = 0.2
        barrier = threading.Barrier(STORM)

        def push(client_id: str) -> None:
            barrier.wait()
            bus.handle(PushRecord(actor=system_actor(actor.tenant_id), kind="CUSTOMER", local_id=client_id))

        threads = [threading.Thread(target=push, args=(c,)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return fake.refresh_calls
    finally:
        service.close()
        server.stop()


def report(out: dict[str, Any]) -> None:
    rate = INVOICES / out["seconds"] if out["seconds"] else 0.0
    line("syncQuickbooks(full) queueing 1,200 pushes", f"{out['queue_seconds']:.1f} s")
    line(f"backfill: {INVOICES} invoices + {CUSTOMERS} customers, {WORKERS} workers", f"{out['seconds']:.1f} s")
    line("  invoices/s (the target)", f"{rate:.0f} /s", f">= {TARGET_RATE:.0f}/s",
         rate >= TARGET_RATE and out["synced"] == INVOICES + CUSTOMERS)
    line("  baseline: invoice creates straight to the fake, 2 threads", f"{out['baseline']:.0f} /s")
    line("CPU of the two worker processes (start-up included)", f"{out['worker_cpu']:.1f} s")
    line("  of which their start-up (imports, container)", f"{out['startup_cpu']:.1f} s")
    line("  CPU per pushed record (1,200), start-up included",
         f"{out['worker_cpu'] * 1000 / (INVOICES + CUSTOMERS):.1f} ms")
    backfill_cpu = out["worker_cpu"] - out["startup_cpu"]
    line("  CPU per pushed record (1,200), start-up excluded", f"{backfill_cpu * 1000 / (INVOICES + CUSTOMERS):.1f} ms")
    line("load average (1 min) at the end, on this machine", f"{out['load']:.2f}")
    line("links SYNCED", f"{out['synced']}/{INVOICES + CUSTOMERS}")
    line("invoices and customers in QuickBooks (duplicates)",
         f"{out['invoices']} + {out['customers']} ({out['invoices'] - out['distinct']})", "0 dup",
         out["invoices"] == out["distinct"] == INVOICES)


def report_storm(refreshes: int) -> None:
    line(f"refresh storm: {STORM} concurrent pushes, token expired", f"{refreshes} refresh", "1", refreshes == 1)


if __name__ == "__main__":
    import tempfile

    from bench.common import postgres_database, postgres_unavailable

    reason = postgres_unavailable()
    if reason:
        print(f"skipped: PostgreSQL not reachable ({reason})")
    else:
        with postgres_database() as url, tempfile.TemporaryDirectory(prefix="istmo-bench-qbo-") as tmp:
            report(run(url, Path(tmp)))
            report_storm(storm(url, Path(tmp)))
