"""Twenty pushes that all find the access token expired cause exactly one refresh: the first takes
the connection's row lock (PostgreSQL: SELECT ... FOR UPDATE; SQLite: the write lock), refreshes and
stores the new pair; the others wait on the lock, read the row again and use the new token."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from application.integrations.quickbooks.commands import PushRecord
from application.integrations.quickbooks.handlers import system_actor
from tests.fakes.clock import FakeClock
from tests.integration.quickbooks_api import quickbooks_settings
from tests.integration.test_quickbooks_sync import client, connected, objects
from tests.providers.quickbooks import FakeQuickbooks
from tests.providers.server import ProviderServer, provider_server  # noqa: F401  (fixture)

JOBS = 20


@pytest.fixture
def fake(provider_server: ProviderServer) -> FakeQuickbooks:
    return FakeQuickbooks(provider_server)


def test_twenty_concurrent_jobs_with_an_expired_token_refresh_it_once(
    make_service: Callable[..., Any], fake: FakeQuickbooks
) -> None:
    service = make_service(**quickbooks_settings(fake, ISTMO_QBO_CONCURRENCY=str(JOBS)))
    clock = FakeClock()
    service.container.core.clock.override(clock)
    actor = connected(service, fake)
    clients = [client(service, actor, name=f"Cliente {n}", email=f"c{n}@pyme.pa") for n in range(JOBS)]
    clock.advance(timedelta(hours=1, minutes=30))  # every job finds the access token expired
    fake.refresh_delay = 0.3  # the first refresh is slow: every other job arrives while it runs
    bus = service.container.bus()
    start = threading.Barrier(JOBS)
    failures: list[BaseException] = []

    def push(client_id: str) -> None:
        start.wait()
        try:
            bus.handle(PushRecord(actor=system_actor(actor.tenant_id), kind="CUSTOMER", local_id=client_id))
        except BaseException as error:  # noqa: BLE001 - collected and asserted below
            failures.append(error)

    threads = [threading.Thread(target=push, args=(client_id,)) for client_id in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert fake.refresh_calls == 1
    assert len(objects(fake, "Customer")) == JOBS
    bearer = {r.header("Authorization") for r in fake.api_requests("POST", "customer")}
    assert len(bearer) == 1, "every job used the one new access token"
