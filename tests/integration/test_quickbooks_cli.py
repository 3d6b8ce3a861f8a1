"""``istmo qbo sync --tenant``: queues the backfill (or a catch-up) and follows the workers with a
progress bar until nothing is pending."""

from __future__ import annotations

import os
from typing import Any

import pytest

from application.invoicing.commands import CreateClient
from domain.tenancy.model import Actor, Role
from entrypoints.app import create_app
from entrypoints.config import Settings
from entrypoints.container import build_container
from tests.conftest import Service
from tests.integration.quickbooks_api import connect, quickbooks_settings, run_jobs
from tests.integration.test_cli import Cli, cli, migrated  # noqa: F401  (fixtures)
from tests.providers.quickbooks import FakeQuickbooks
from tests.providers.server import ProviderServer, provider_server  # noqa: F401  (fixture)


@pytest.fixture
def fake(provider_server: ProviderServer) -> FakeQuickbooks:
    return FakeQuickbooks(provider_server)


def test_qbo_sync_queues_the_backfill_and_reports_progress(
    migrated: Cli, fake: FakeQuickbooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in quickbooks_settings(fake)["variables"].values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ISTMO_JWT_SECRET", "cli-jwt-secret-that-is-long-enough-for-hs256")
    container = build_container(Settings.from_env(os.environ))
    service: Any = Service(app=create_app(container=container), container=container)
    try:
        tenant_id = service.tenant("acme")
        connect(service, service.headers("acme", role="owner"), fake)
        actor = Actor(tenant_id=tenant_id, user_id="u", role=Role.OWNER)
        for n in range(3):
            container.bus().handle(CreateClient(actor=actor, name=f"Cliente {n}", taxpayer_type="CONSUMIDOR_FINAL"))
        run_jobs(service)  # the three pushes queued by the clients' events

        queued = migrated.ok("qbo", "sync", "--tenant", tenant_id, "--no-wait")  # by id
        waited = migrated.ok("qbo", "sync", "--tenant", "acme")  # by slug, as the other commands
    finally:
        container.shutdown_resources()

    assert "queued 0 customers and 0 invoices" in queued.stderr, "the three are in sync already"
    assert "QuickBooks sync" in waited.stderr and "synced 3, failed 0" in waited.stderr
    assert len(fake.company("9130350001").of("Customer")) == 3


def test_qbo_sync_for_an_unknown_tenant_fails_clearly(migrated: Cli) -> None:
    result = migrated.fails("qbo", "sync", "--tenant", "ghost")

    assert "no tenant has the slug or id 'ghost'" in result.stderr
