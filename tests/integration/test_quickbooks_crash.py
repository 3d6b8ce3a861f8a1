"""The backfill of 1,000 invoices and their 200 customers by two ``istmo worker`` processes on
PostgreSQL, one of them SIGKILLed mid-run and another started: QuickBooks (the local fake) ends with
exactly 200 customers and 1,000 invoices, each record mapped once. A create whose answer the killed
worker never stored is retried with the same ``requestid``, and QuickBooks replays it: the fake holds
its answers to the writes after the 300th invoice until the worker is killed, so the kill always
lands mid-run with creates stored and unanswered."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from adapters.db.integrations.quickbooks.tables import qbo_links
from application.invoicing.commands import CreateClient, CreateInvoice
from domain.invoicing.lines import LineInput
from tests.integration.api import data
from tests.integration.quickbooks_api import SYNC, connect, quickbooks_settings, set_mappings
from tests.integration.test_email_crash import Workers, wait_until
from tests.integration.test_quickbooks_sync import owner
from tests.providers.quickbooks import REALM, FakeQuickbooks
from tests.providers.server import ProviderServer, provider_server  # noqa: F401  (fixture)

CUSTOMERS = 200
INVOICES = 1000
HOLD_AFTER = 300


@pytest.fixture
def fake(provider_server: ProviderServer) -> FakeQuickbooks:
    return FakeQuickbooks(provider_server)


@pytest.fixture
def setup(make_service: Any, fake: FakeQuickbooks, database_url: str) -> Iterator[tuple[Any, Workers]]:
    if not database_url.startswith("postgresql"):
        pytest.skip("two worker processes share a backfill on PostgreSQL")
    service = make_service(
        job_lease=timedelta(seconds=2), job_max_attempts=20,
        **quickbooks_settings(fake, ISTMO_QBO_REQUESTS_PER_MINUTE="1000000"),
    )
    workers = Workers(service.container.settings())
    try:
        yield service, workers
    finally:
        workers.stop_all()


def synced(service: Any) -> Counter[str]:
    with service.container.engine().connect() as connection:
        rows = connection.execute(
            select(qbo_links.c.kind, func.count()).where(qbo_links.c.status == "SYNCED").group_by(qbo_links.c.kind)
        )
        return Counter({str(kind): int(count) for kind, count in rows})


def make_books(service: Any) -> None:
    actor = owner(service)
    bus = service.container.bus()
    clients = [
        bus.handle(CreateClient(actor=actor, name=f"Cliente {n:03d}, S.A.", taxpayer_type="CONSUMIDOR_FINAL")).id
        for n in range(CUSTOMERS)
    ]
    for n in range(INVOICES):
        bus.handle(CreateInvoice(
            actor=actor, client_id=clients[n % CUSTOMERS], issue_date=date(2026, 11, 1), due_date=date(2026, 12, 1),
            lines=(LineInput(description=f"Servicio {n}", quantity="1", unit_price="10", tax_rate=7),),
        ))


@pytest.mark.xdist_group("quickbooks-crash")
def test_a_worker_killed_mid_backfill_leaves_no_duplicate_and_maps_every_record_once(
    setup: tuple[Any, Workers], fake: FakeQuickbooks
) -> None:
    service, workers = setup
    make_books(service)  # before connecting: nothing is queued for them yet
    headers = service.headers("acme", role="owner")
    connect(service, headers, fake)
    set_mappings(service, headers)
    queued = data(service, SYNC, {"full": True}, headers=headers)["syncQuickbooks"]
    assert (queued["customersQueued"], queued["invoicesQueued"]) == (CUSTOMERS, INVOICES)

    fake.hold_after_invoices = HOLD_AFTER
    doomed = workers.start()
    workers.start()
    wait_until(lambda: fake.held >= 2)  # the workers wait for answers to creates QuickBooks has stored
    time.sleep(0.5)  # every thread of both: each holds one
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.join(30)
    assert doomed.exitcode == -signal.SIGKILL
    at_kill = len(fake.company(REALM).of("Invoice"))
    assert HOLD_AFTER <= at_kill < INVOICES, "the kill should land mid-run"
    fake.release()
    workers.start()
    wait_until(lambda: synced(service) == Counter({"CUSTOMER": CUSTOMERS, "INVOICE": INVOICES}), timeout=600)

    company = fake.company(REALM)
    assert len(company.of("Customer")) == CUSTOMERS
    assert len(company.of("Invoice")) == INVOICES
    assert len({i["DocNumber"] for i in company.of("Invoice").values()}) == INVOICES, "no invoice made twice"
    with service.container.engine().connect() as connection:
        rows = list(connection.execute(select(qbo_links.c.kind, qbo_links.c.local_id, qbo_links.c.qbo_id)))
    assert len(rows) == CUSTOMERS + INVOICES
    assert len({(kind, qbo_id) for kind, _, qbo_id in rows}) == len(rows), "every QuickBooks object mapped once"
    assert {qbo_id for kind, _, qbo_id in rows if kind == "INVOICE"} == set(company.of("Invoice"))
    creates = [r for r in fake.server.requests if r.method == "POST" and r.path.endswith("/invoice")]
    replays = len(creates) - INVOICES
    assert replays >= 1, "the killed worker's stored, unanswered creates were not sent again"
    print(f"invoices in QuickBooks at the kill: {at_kill}; invoice creates sent: {len(creates)} ({replays} replayed)")
