"""``syncQuickbooks``, ``retryQuickbooksSync`` and ``quickbooksSyncItems``: the backfill of every
client and invoice, a retry of what failed, and the list of sync items with their faults."""

from __future__ import annotations

from application.integrations.quickbooks.commands import (
    FindQuickbooksSyncItems,
    RetryQuickbooksSync,
    SyncQuickbooks,
)
from application.integrations.quickbooks.handlers import system_actor
from application.integrations.quickbooks.inbound import CATCH_UP_JOB
from application.integrations.quickbooks.outbound import BATCH, PUSH_BATCH_JOB, link_view, queue_push
from application.integrations.quickbooks.ports import QuickbooksUnitOfWork
from application.integrations.quickbooks.views import SyncItemCursor, SyncItemView, SyncQueued
from application.invoicing.commands import FindClients, FindInvoices
from application.shared.actors import tenant_actor
from application.shared.messages import Page, page_size
from application.shared.modules import Messages
from application.shared.ports import Clock
from domain.integrations.quickbooks.connection import (
    ConnectionStatus,
    QuickbooksConnection,
    QuickbooksNeedsReconnect,
    QuickbooksNotConnected,
)
from domain.integrations.quickbooks.links import Origin, SyncKind, SyncLink, SyncStatus
from domain.shared.errors import Conflict, InvalidInput, NotFound
from domain.shared.model import new_id, parse_id

PAGE = 100


def _connected(connection: QuickbooksConnection | None) -> QuickbooksConnection:
    if connection is None or ConnectionStatus(connection.status) is ConnectionStatus.DISCONNECTED:
        raise QuickbooksNotConnected("QuickBooks is not connected")
    if not connection.connected:
        raise QuickbooksNeedsReconnect("QuickBooks must be connected again before it can sync")
    return connection


class SyncQuickbooksHandler:
    """``full``: every client, then every invoice (with its payments and void), unless it is SYNCED
    at its current version, marked PENDING and queued in batches of ``BATCH`` (``quickbooks.push_batch``);
    page by page, a transaction per page. Without ``full``: a catch-up of what changed in QuickBooks."""

    def __init__(self, messages: Messages, clock: Clock) -> None:
        self._messages, self._clock = messages, clock

    def __call__(self, cmd: SyncQuickbooks, uow: QuickbooksUnitOfWork) -> SyncQueued:
        actor = tenant_actor(cmd.actor)
        with uow:
            _connected(uow.quickbooks_connections.get())
            if not cmd.full:
                slot = int(self._clock.now().timestamp()) // 10  # clicks within ten seconds: one catch-up
                job_id = uow.jobs.enqueue(CATCH_UP_JOB, {}, idempotency_key=f"{CATCH_UP_JOB}:{actor.tenant_id}:now:{slot}")
                uow.commit()
                return SyncQueued(customers=0, invoices=0, job_id=job_id)
        trigger = f"full:{new_id()}"  # each backfill queues again what is not in sync
        customers = self._queue_all(uow, SyncKind.CUSTOMER, actor.tenant_id, trigger)
        invoices = self._queue_all(uow, SyncKind.INVOICE, actor.tenant_id, trigger)
        return SyncQueued(customers=customers, invoices=invoices)

    def _queue_all(self, uow: QuickbooksUnitOfWork, kind: SyncKind, tenant_id: str, trigger: str) -> int:
        queued, after = 0, None
        while True:
            if kind is SyncKind.CUSTOMER:
                page: Page = self._messages.handle(FindClients(actor=system_actor(tenant_id), first=PAGE, after=after))  # type: ignore[type-arg]
            else:
                page = self._messages.handle(FindInvoices(actor=system_actor(tenant_id), first=PAGE, after=after))
            with uow:
                now = self._clock.now()
                links = uow.quickbooks_links.of_many(kind, [item.id for item in page.items])
                batch: list[str] = []
                for item in page.items:
                    link = links.get(item.id)
                    if link is None:
                        link = SyncLink.new(tenant_id=tenant_id, kind=kind, local_id=item.id, now=now)
                        uow.quickbooks_links.add(link)
                    elif _up_to_date(link, item):
                        continue
                    else:
                        link.queued(now=now)
                    batch.append(item.id)
                for start in range(0, len(batch), BATCH):
                    part = batch[start:start + BATCH]
                    uow.jobs.enqueue(
                        PUSH_BATCH_JOB, {"kind": str(kind), "local_ids": part},
                        idempotency_key=f"{PUSH_BATCH_JOB}:{kind}:{trigger}:{part[0]}"[:200],
                    )
                queued += len(batch)
                uow.commit()
            if not page.has_next_page:
                return queued
            after = page.end_cursor


def _up_to_date(link: SyncLink, item: object) -> bool:
    if SyncStatus(link.status) is not SyncStatus.SYNCED or link.synced_version < link.version:
        return False
    if SyncKind(link.kind) is SyncKind.INVOICE:  # a void or a payment not sent yet is still to do
        return (getattr(item, "voided_at", None) is None or link.voided) and not getattr(item, "payments", ())
    return True


class RetryQuickbooksSyncHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: RetryQuickbooksSync, uow: QuickbooksUnitOfWork) -> SyncItemView:
        tenant_actor(cmd.actor)
        item_id = parse_id(cmd.item_id, field="id")
        with uow:
            _connected(uow.quickbooks_connections.get())
            link = uow.quickbooks_links.get(item_id)
            if link is None:
                raise NotFound(f"sync item {item_id} not found", field="id")
            if SyncStatus(link.status) is not SyncStatus.FAILED:
                raise Conflict(f"sync item {item_id} is {link.status}, not FAILED: nothing to retry", field="id")
            if Origin(link.origin) is not Origin.ISTMO or link.local_id is None:
                raise Conflict("this item came from QuickBooks: it is applied again by the next catch-up", field="id")
            link.queued(now=self._clock.now())
            queue_push(uow, link, f"retry:{link.attempts}")
            uow.commit()
            return link_view(link)


class FindQuickbooksSyncItemsHandler:
    def __call__(self, query: FindQuickbooksSyncItems, uow: QuickbooksUnitOfWork) -> Page[SyncItemView]:
        tenant_actor(query.actor)
        first = page_size(query.first, default=50, maximum=200)
        after = SyncItemCursor.decode(query.after, field="after") if query.after else None
        status = None
        if query.status is not None:
            try:
                status = SyncStatus(query.status)
            except ValueError:
                raise InvalidInput(
                    f"status must be one of {', '.join(SyncStatus)}, not {str(query.status)[:32]!r}", field="status"
                ) from None
        with uow:
            rows = uow.quickbooks_views.items(status, first=first + 1, after=after)
        return Page.of(rows, first, lambda item: SyncItemCursor.of(item).encode())
