"""The QuickBooks Online module: the connection (OAuth), outbound pushes on invoicing's events
(queued by reactions, so a push job commits with the change it sends or not at all), the backfill, inbound catch-ups (webhook and schedule), and their jobs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from application.integrations.quickbooks import backfill as b
from application.integrations.quickbooks import commands as c
from application.integrations.quickbooks import handlers as h
from application.integrations.quickbooks import inbound as i
from application.integrations.quickbooks import outbound as o
from application.integrations.quickbooks.ports import QboFault, QboUnavailable, QuickbooksUnitOfWork
from application.integrations.quickbooks.tokens import AccessTokens
from application.integrations.quickbooks.webhook import PROVIDER, QuickbooksWebhookProcessor
from application.jobs.errors import PermanentJobError, TransientJobError
from application.jobs.schedules import Schedule
from application.shared.modules import Dependencies, DomainModule, Messages, Registrations
from domain.integrations.quickbooks.connection import (
    MappingsMissing,
    QuickbooksNeedsReconnect,
    QuickbooksNotConnected,
    QuickbooksUnavailable,
)
from domain.invoicing.clients import ClientCreated, ClientUpdated
from domain.invoicing.invoices import InvoiceCreated, InvoicePaymentRegistered, InvoiceVoided
from domain.jobs.model import Job
from domain.shared.errors import DomainError


def register(deps: Dependencies) -> Registrations:
    clock, secrets, oauth, api, gate = deps.clock, deps.secrets, deps.quickbooks_oauth, deps.quickbooks_api, deps.quickbooks_gate
    policy = deps.get("quickbooks_policy", c.QuickbooksPolicy())
    tokens = AccessTokens(oauth, secrets, clock)
    queue = o.QueuePushHandler(clock)
    return Registrations(
        handlers={
            c.GetQboAuthorizationUrl: h.GetQboAuthorizationUrlHandler(oauth, deps.quickbooks_states, clock, policy),
            c.ExchangeQboAuthorizationCode: h.ExchangeQboAuthorizationCodeHandler(
                oauth, api, deps.quickbooks_states, secrets, clock, policy, deps.uow_factory
            ),
            c.GetQuickbooksConnection: h.GetQuickbooksConnectionHandler(),
            c.DisconnectQuickbooks: h.DisconnectQuickbooksHandler(oauth, secrets, clock),
            c.SetQuickbooksMappings: h.SetQuickbooksMappingsHandler(clock),
            c.QueuePush: queue,
            c.PushRecord: o.PushRecordHandler(api, tokens, gate, deps.messages, clock),
            c.PushRecords: o.PushRecordsHandler(api, tokens, gate, deps.messages, clock),
            c.SyncQuickbooks: b.SyncQuickbooksHandler(deps.messages, clock),
            c.RetryQuickbooksSync: b.RetryQuickbooksSyncHandler(clock),
            c.FindQuickbooksSyncItems: b.FindQuickbooksSyncItemsHandler(),
            c.QueueRealmCatchUp: i.QueueRealmCatchUpHandler(),
            c.CatchUpAll: i.CatchUpAllHandler(),
            c.CatchUp: i.CatchUpHandler(api, tokens, gate, deps.messages, clock, policy),
        },
        reactions={
            ClientCreated: [_on(queue, "CUSTOMER", lambda e: e.client_id, "created")],
            ClientUpdated: [_on(queue, "CUSTOMER", lambda e: e.client_id, "updated")],
            InvoiceCreated: [_on(queue, "INVOICE", lambda e: e.invoice_id, "created")],
            InvoiceVoided: [_on(queue, "INVOICE", lambda e: e.invoice_id, "voided")],
            InvoicePaymentRegistered: [
                _on(queue, "PAYMENT", lambda e: e.payment_id, "registered", parent=lambda e: e.invoice_id)
            ],
        },
        jobs=_jobs(deps.messages),
        schedules=[Schedule(kind=i.CATCH_UP_ALL_JOB, interval=deps.get("quickbooks_cdc_every", timedelta(minutes=15)))],
        provides={"webhook_processors": {PROVIDER: QuickbooksWebhookProcessor(deps.messages)}},
    )


def _on(
    queue: o.QueuePushHandler, kind: str, local_id: Callable[[Any], str], change: str,
    parent: Callable[[Any], str] | None = None,
) -> Callable[[Any, QuickbooksUnitOfWork], None]:
    """A reaction to an invoicing event: mark the record it names PENDING and queue its push, in
    invoicing's unit of work before it commits (a crash after that commit loses no push)."""

    def handle(event: Any, uow: QuickbooksUnitOfWork) -> None:
        queue.within(
            c.QueuePush(
                actor=h.system_actor(event.tenant_id), kind=kind, local_id=local_id(event), change=change,
                parent_id=parent(event) if parent else None,
            ),
            uow,
        )

    handle.__qualname__ = f"quickbooks.on_{kind.lower()}_{change}"
    return handle


def _run(messages: Messages, command: Any) -> Any:
    """Provider and business failures as the job runner's transient/permanent errors (no token in them)."""
    try:
        return messages.handle(command)
    except QboUnavailable as error:
        raise TransientJobError(f"quickbooks: {error.reason}", retry_after=error.retry_after) from None
    except QuickbooksUnavailable as error:
        raise TransientJobError(f"quickbooks: {error.message}") from None
    except i.CatchUpBusy:
        raise TransientJobError("quickbooks: another catch-up of this company is running", retry_after=30) from None
    except QboFault as error:
        raise PermanentJobError(error.reason) from None
    except (QuickbooksNeedsReconnect, QuickbooksNotConnected, MappingsMissing) as error:
        raise PermanentJobError(f"quickbooks: {error.message}") from None
    except DomainError as error:
        raise PermanentJobError(f"quickbooks: {error.code}: {error.message}") from None


def _jobs(messages: Messages) -> dict[str, Any]:
    def push(job: Job) -> None:
        payload = job.payload
        if job.tenant_id is None or not isinstance(payload.get("kind"), str) or not isinstance(payload.get("local_id"), str):
            raise PermanentJobError("quickbooks.push needs a tenant, a kind and a local_id")
        parent = payload.get("parent_id")
        _run(messages, c.PushRecord(
            actor=h.system_actor(job.tenant_id), kind=payload["kind"], local_id=payload["local_id"],
            parent_id=parent if isinstance(parent, str) else None,
        ))

    def push_batch(job: Job) -> None:
        payload = job.payload
        local_ids = payload.get("local_ids")
        if (job.tenant_id is None or not isinstance(payload.get("kind"), str) or not isinstance(local_ids, list)
                or not all(isinstance(local_id, str) for local_id in local_ids)):
            raise PermanentJobError("quickbooks.push_batch needs a tenant, a kind and a list of local_ids")
        _run(messages, c.PushRecords(actor=h.system_actor(job.tenant_id), kind=payload["kind"], local_ids=tuple(local_ids)))

    def catch_up(job: Job) -> None:
        if job.tenant_id is None:
            raise PermanentJobError("quickbooks.cdc needs a tenant")
        _run(messages, c.CatchUp(actor=h.system_actor(job.tenant_id)))

    def catch_up_all(job: Job) -> None:
        messages.handle(c.CatchUpAll(actor=None, slot=job.dedupe_key))

    def resume(job: Job) -> None:
        if job.tenant_id is None:
            raise PermanentJobError("quickbooks.resume needs a tenant")
        _run(messages, c.SyncQuickbooks(actor=h.system_actor(job.tenant_id), full=True))

    return {o.PUSH_JOB: push, o.PUSH_BATCH_JOB: push_batch, i.CATCH_UP_JOB: catch_up, i.CATCH_UP_ALL_JOB: catch_up_all, h.RESUME_JOB: resume}


MODULE = DomainModule(
    name="quickbooks",
    needs=("uow_factory", "clock", "secrets", "quickbooks_oauth", "quickbooks_api", "quickbooks_gate", "quickbooks_states"),
    requires=("invoicing",),
    register=register,
)
