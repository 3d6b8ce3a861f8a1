"""QuickBooks queues its pushes as reactions to invoicing's events, in invoicing's own transaction
(SQLAlchemy unit of work, SQLite and PostgreSQL): the invoice and its push job commit together or
not at all, and a crash after invoicing's commit (in the after-commit dispatch) loses no push."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from adapters.db.integrations.quickbooks.tables import qbo_links
from adapters.db.invoicing.tables import invoices
from application.invoicing.commands import CreateInvoice
from application.modules import DOMAINS, MODULES, build_service
from application.shared.bus import MessageBus
from application.shared.modules import DomainModule, Registrations, domain_parts
from domain.integrations.quickbooks.links import SyncKind
from domain.invoicing.invoices import InvoiceCreated
from domain.invoicing.lines import LineInput
from domain.tenancy.model import Actor
from tests.integration.quickbooks_api import quickbooks_settings
from tests.integration.test_quickbooks_sync import client, connected
from tests.providers.quickbooks import FakeQuickbooks
from tests.providers.server import ProviderServer, provider_server  # noqa: F401  (fixture)


class Refused(Exception):
    pass


@pytest.fixture
def fake(provider_server: ProviderServer) -> FakeQuickbooks:
    return FakeQuickbooks(provider_server)


@pytest.fixture
def service(make_service: Callable[..., Any], fake: FakeQuickbooks) -> Any:
    return make_service(**quickbooks_settings(fake))


def bus_with(service: Any, extra: Registrations, *, first: bool = False) -> MessageBus:
    """The service's own modules and dependencies (its SQLAlchemy units of work), plus one module
    (``first``: listed before the others, so its handlers of an event run before theirs)."""
    container = service.container
    dependencies = dict(container.core.exports())
    for name, _ in domain_parts("entrypoints.containers.{domain}", DOMAINS):
        dependencies.update(getattr(container, name.rpartition(".")[2]).exports())
    module = DomainModule(name="extra", register=lambda deps: extra)
    modules = (module, *MODULES) if first else (*MODULES, module)
    return build_service(modules=modules, **dependencies).bus


def invoice(bus: MessageBus, actor: Actor, client_id: str) -> Any:
    line = LineInput(description="Tornillos", quantity="10", unit_price="1.25", tax_rate=7)
    return bus.handle(CreateInvoice(actor=actor, client_id=client_id, lines=(line,), issue_date=date(2026, 11, 20)))


def counts(service: Any) -> tuple[int, int, int]:
    """Invoices, QuickBooks links of invoices, and QuickBooks push jobs in the database."""
    with service.container.engine().connect() as connection:
        invoice_rows = connection.execute(select(func.count()).select_from(invoices)).scalar_one()
        links = connection.execute(
            select(func.count()).select_from(qbo_links).where(qbo_links.c.kind == "INVOICE")
        ).scalar_one()
    return invoice_rows, links, len(service.container.job_queue().find(kind="quickbooks.push"))


def test_an_invoice_and_its_push_job_are_committed_together(service: Any, fake: FakeQuickbooks) -> None:
    actor = connected(service, fake)
    client_id = client(service, actor)
    before = counts(service)

    created = invoice(service.container.bus(), actor, client_id)

    assert counts(service) == (before[0] + 1, before[1] + 1, before[2] + 1)
    [job] = [j for j in service.container.job_queue().find(kind="quickbooks.push") if j.payload["kind"] == "INVOICE"]
    assert job.payload["local_id"] == created.id and job.tenant_id == actor.tenant_id


def test_a_reaction_that_fails_leaves_neither_the_invoice_nor_its_push_job(service: Any, fake: FakeQuickbooks) -> None:
    actor = connected(service, fake)
    client_id = client(service, actor)
    before = counts(service)
    reached: list[InvoiceCreated] = []

    def refuse(event: InvoiceCreated, uow: Any) -> None:
        assert uow.quickbooks_links.of(SyncKind.INVOICE, event.invoice_id) is not None, "QuickBooks reacted first, in this uow"
        reached.append(event)
        raise Refused("no")

    bus = bus_with(service, Registrations(reactions={InvoiceCreated: [refuse]}))
    with pytest.raises(Refused):
        invoice(bus, actor, client_id)

    assert len(reached) == 1
    assert counts(service) == before, "the invoice, its link and its push job were all rolled back"
    created = invoice(service.container.bus(), actor, client_id)  # the service without that reaction still works
    assert counts(service) == (before[0] + 1, before[1] + 1, before[2] + 1) and created.id != reached[0].invoice_id


def test_a_crash_in_the_after_commit_dispatch_loses_no_push(service: Any, fake: FakeQuickbooks) -> None:
    actor = connected(service, fake)
    client_id = client(service, actor)
    before = counts(service)
    handled: list[InvoiceCreated] = []

    def crash(event: InvoiceCreated, uow: Any) -> None:
        handled.append(event)
        raise Refused("the process died here")

    bus = bus_with(service, Registrations(event_handlers={InvoiceCreated: [crash]}), first=True)
    with pytest.raises(Refused):
        invoice(bus, actor, client_id)

    assert len(handled) == 1, "after-commit event handlers still run"
    assert counts(service) == (before[0] + 1, before[1] + 1, before[2] + 1)
