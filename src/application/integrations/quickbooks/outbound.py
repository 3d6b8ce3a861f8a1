"""Istmo -> QuickBooks: invoicing's events queue pushes (reactions, in invoicing's own transaction);
a push job sends one record.

Order: a customer before its invoice, an invoice before its payments. A push of an invoice first
makes sure its customer is in QuickBooks (pushing it in the same job if it is not), and a push of
a payment its invoice, so the order holds whatever order the jobs run in.

Idempotency: a create carries ``requestid`` = the operation, the record and how many times
QuickBooks refused it (a refusal created nothing, so the next try may carry a new one); a create
retried after a crash, a timeout or a lost answer carries the same one, and QuickBooks replays
its first answer instead of making a second object. Updates are sparse with the link's
``SyncToken``; a stale-object fault (5010) reads the object again and retries once. A customer
whose name QuickBooks has already (6240) is linked to that customer (found by ``DisplayName``).

Batches: the backfill queues its pushes in batches of one kind (``quickbooks.push_batch``). A
batch reads the connection and its token once, the records (``GetClients``/``GetInvoices``) and
their links (and an invoice's customer's) in one query each, and counts its requests in the
rate gate a block at a time under one slot; each record is still saved as soon as QuickBooks
answered for it, so a batch cut short by a crash or a 429 leaves what it did SYNCED.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import structlog

from application.integrations.quickbooks import bodies
from application.integrations.quickbooks.commands import PushRecord, PushRecords, QueuePush
from application.integrations.quickbooks.handlers import system_actor
from application.integrations.quickbooks.ports import (
    AccessRejected,
    QboFault,
    QuickbooksApi,
    QuickbooksUnitOfWork,
    RateGate,
)
from application.integrations.quickbooks.tokens import AccessTokens
from application.integrations.quickbooks.views import SyncItemView
from application.invoicing.commands import GetClient, GetClients, GetInvoice, GetInvoices
from application.invoicing.views import ClientView, InvoiceView, PaymentView
from application.shared.modules import Messages
from application.shared.ports import Clock, DuplicateEntry
from domain.integrations.quickbooks.connection import (
    ConnectionStatus,
    CurrencyNotEnabled,
    CurrencyPrefs,
    Mappings,
    MappingsMissing,
)
from domain.integrations.quickbooks.links import (
    EDITED_THERE,
    Origin,
    SyncKind,
    SyncLink,
    SyncStatus,
    ad_hoc_customer_id,
)
from domain.shared.errors import InvalidInput, NotFound
from domain.shared.model import parse_id

log = structlog.get_logger(__name__)

PUSH_JOB = "quickbooks.push"
PUSH_BATCH_JOB = "quickbooks.push_batch"
BATCH = 25
"""Records in one batch job of the backfill."""
BLOCK = 10
"""Requests a batch counts in the minute's budget at once, under one slot of the rate gate."""
HOLD = 30.0
"""Seconds a batch keeps one slot before it takes one again (the gate's lease is 2 minutes)."""
INBOUND_REFERENCE = "QuickBooks payment {}"
_INBOUND = re.compile(r"^QuickBooks payment ([0-9A-Za-z-]{1,40})$")
T = TypeVar("T")


def parse_kind(value: object) -> SyncKind:
    try:
        return SyncKind(value)
    except ValueError:
        raise InvalidInput(f"kind must be one of {', '.join(SyncKind)}, not {str(value)[:32]!r}", field="kind") from None


def push_key(kind: SyncKind, local_id: str, trigger: str) -> str:
    return f"{PUSH_JOB}:{kind}:{local_id}:{trigger}"[:200]


def queue_push(uow: QuickbooksUnitOfWork, link: SyncLink, trigger: str, *, parent_id: str | None = None) -> str:
    payload = {"kind": str(link.kind), "local_id": link.local_id}
    if parent_id is not None:
        payload["parent_id"] = parent_id
    return uow.jobs.enqueue(PUSH_JOB, payload, idempotency_key=push_key(SyncKind(link.kind), link.local_id or "", trigger))


def link_view(link: SyncLink) -> SyncItemView:
    return SyncItemView(
        id=link.id, kind=SyncKind(link.kind), local_id=link.local_id, qbo_id=link.qbo_id, sync_token=link.sync_token,
        status=SyncStatus(link.status), origin=Origin(link.origin), version=link.version, attempts=link.attempts,
        error_message=link.last_error, error_code=link.error_code, error_element=link.error_element,
        updated_at=link.updated_at, synced_at=link.synced_at,
    )


class QueuePushHandler:
    """The link of a record is marked PENDING (a new version) and its push queued, in one transaction.
    Nothing is queued while QuickBooks is not connected (a backfill catches up)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: QueuePush, uow: QuickbooksUnitOfWork) -> str | None:
        for attempt in (1, 2):
            try:
                with uow:
                    job_id = self.within(cmd, uow)
                    uow.commit()
                    return job_id
            except DuplicateEntry:
                if attempt == 2:
                    raise
        return None

    def within(self, cmd: QueuePush, uow: QuickbooksUnitOfWork) -> str | None:
        """The same in ``uow``, open, left to its owner to commit (a reaction to invoicing's events)."""
        kind = parse_kind(cmd.kind)
        local_id = parse_id(cmd.local_id, field="localId")
        connection = uow.quickbooks_connections.get()
        if connection is None or ConnectionStatus(connection.status) is ConnectionStatus.DISCONNECTED:
            return None
        now = self._clock.now()
        link = uow.quickbooks_links.of(kind, local_id)
        if link is None:
            link = SyncLink.new(tenant_id=connection.tenant_id, kind=kind, local_id=local_id, now=now)
            uow.quickbooks_links.add(link)
        elif Origin(link.origin) is Origin.QUICKBOOKS:
            return None  # it came from QuickBooks: nothing to send back
        else:
            link.changed(now=now)
        if not connection.connected:
            return None
        return queue_push(uow, link, f"v{link.version}:{cmd.change}", parent_id=cmd.parent_id)


class RealmCalls:
    """Calls to the tenant's company: through the rate gate, with a fresh token, refreshed once on 401.

    The connection and its token are read once, when this is made. Outside ``batch`` each call takes
    a slot of the gate and gives it back; inside, calls go one after another under one slot, counted
    in the minute's budget a block at a time (what a block did not use is given back)."""

    def __init__(self, api: QuickbooksApi, tokens: AccessTokens, gate: RateGate, uow: QuickbooksUnitOfWork) -> None:
        self.api, self._tokens, self._gate, self._uow = api, tokens, gate, uow
        self.realm_id, self._token, self.mappings, self.currency = tokens.current(uow)
        self._planned: int | None = None
        self._slot: str | None = None
        self._left = 0
        self._until = 0.0

    @contextmanager
    def batch(self, planned: int) -> Iterator[RealmCalls]:
        """About ``planned`` calls follow, one after another."""
        self._planned = max(1, planned)
        try:
            yield self
        finally:
            self._planned = None
            self._let_go()

    def call(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if self._planned is None:
            slot = self._gate.acquire(self.realm_id)
            try:
                return self._send(method, *args, **kwargs)
            finally:
                self._gate.release(self.realm_id, slot)
        self._count_one()
        return self._send(method, *args, **kwargs)

    def _send(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return method(self.realm_id, self._token, *args, **kwargs)
        except AccessRejected:
            self.realm_id, self._token = self._tokens.refreshed(self._uow, rejected=self._token)
            return method(self.realm_id, self._token, *args, **kwargs)

    def _count_one(self) -> None:
        assert self._planned is not None
        if self._slot is None or self._left == 0 or time.monotonic() >= self._until:
            self._let_go()
            block = min(BLOCK, self._planned)
            self._slot = self._gate.acquire(self.realm_id, requests=block)
            self._left, self._until = block, time.monotonic() + HOLD
        self._left -= 1
        self._planned = max(1, self._planned - 1)

    def _let_go(self) -> None:
        if self._slot is not None:
            slot, unused, self._slot, self._left = self._slot, self._left, None, 0
            self._gate.release(self.realm_id, slot, unused=unused)


class PushRecordHandler:
    def __init__(self, api: QuickbooksApi, tokens: AccessTokens, gate: RateGate, messages: Messages, clock: Clock) -> None:
        self._api, self._tokens, self._gate, self._messages, self._clock = api, tokens, gate, messages, clock

    def __call__(self, cmd: PushRecord, uow: QuickbooksUnitOfWork) -> SyncItemView | None:
        kind = parse_kind(cmd.kind)
        local_id = parse_id(cmd.local_id, field="localId")
        tenant_id = _tenant(cmd)
        realm = RealmCalls(self._api, self._tokens, self._gate, uow)
        push = _Push(realm, uow, self._messages, self._clock, tenant_id, realm.mappings)
        if kind is SyncKind.CUSTOMER:
            link = push.customer(local_id)
        elif kind is SyncKind.INVOICE:
            link = push.invoice(local_id)
        else:
            invoice_id = parse_id(cmd.parent_id, field="parentId") if cmd.parent_id else None
            link = push.payment_by_id(local_id, invoice_id)
        return link_view(link) if link is not None else None


class PushRecordsHandler:
    """A batch of one kind (customers or invoices, an invoice with its void and payments): a record
    QuickBooks refuses is marked FAILED with its fault and the rest go on; a 429, an outage or a
    refused connection stops the batch (the job runs again; what was saved is not sent again)."""

    def __init__(self, api: QuickbooksApi, tokens: AccessTokens, gate: RateGate, messages: Messages, clock: Clock) -> None:
        self._api, self._tokens, self._gate, self._messages, self._clock = api, tokens, gate, messages, clock

    def __call__(self, cmd: PushRecords, uow: QuickbooksUnitOfWork) -> int:
        """How many records of the batch failed."""
        kind = parse_kind(cmd.kind)
        if kind is SyncKind.PAYMENT:
            raise InvalidInput("payments are pushed with their invoice, not in batches", field="kind")
        if not 1 <= len(cmd.local_ids) <= 4 * BATCH:
            raise InvalidInput(f"a batch has 1 to {4 * BATCH} records, not {len(cmd.local_ids)}", field="localIds")
        local_ids = list(dict.fromkeys(parse_id(local_id, field="localIds") for local_id in cmd.local_ids))
        tenant_id = _tenant(cmd)
        realm = RealmCalls(self._api, self._tokens, self._gate, uow)
        push = _Push(realm, uow, self._messages, self._clock, tenant_id, realm.mappings)
        push.preload(kind, local_ids)
        failed = 0
        with realm.batch(len(local_ids)):
            for local_id in local_ids:
                try:
                    push.customer(local_id) if kind is SyncKind.CUSTOMER else push.invoice(local_id)
                except (QboFault, MappingsMissing, CurrencyNotEnabled, NotFound) as error:  # its link says why
                    failed += 1
                    log.info("quickbooks.batch_item_failed", kind=str(kind), local_id=local_id, error=type(error).__name__)
        return failed


def _tenant(cmd: PushRecord | PushRecords) -> str:
    if cmd.actor is None:
        raise PermissionError("a tenant's actor is required")
    return cmd.actor.tenant_id


class _Push:
    """One push job's work on one company."""

    def __init__(
        self, realm: RealmCalls, uow: QuickbooksUnitOfWork, messages: Messages, clock: Clock, tenant_id: str,
        mappings: Mappings | None,
    ) -> None:
        self._realm, self._uow, self._messages, self._clock = realm, uow, messages, clock
        self._tenant_id, self._mappings = tenant_id, mappings
        self._links: dict[tuple[SyncKind, str], SyncLink] = {}
        """What this job read or wrote of the links (a batch reads them at once)."""
        self._clients: dict[str, ClientView | None] = {}
        self._invoices: dict[str, InvoiceView | None] = {}
        self._currency_read = False

    def preload(self, kind: SyncKind, local_ids: Sequence[str]) -> None:
        """A batch's records and links, in a query or two each instead of several per record."""
        actor = system_actor(self._tenant_id)
        customers: list[str] = []
        payments: list[str] = []
        if kind is SyncKind.CUSTOMER:
            self._clients.update(self._messages.handle(GetClients(actor=actor, client_ids=tuple(local_ids))))
            customers = list(local_ids)
        else:
            self._invoices.update(self._messages.handle(GetInvoices(actor=actor, invoice_ids=tuple(local_ids))))
            found = [v for v in self._invoices.values() if v is not None]
            customers = [self._customer_id(v) for v in found]
            payments = [p.id for v in found for p in v.payments]
        with self._uow:
            wanted = [(SyncKind.CUSTOMER, customers)]
            if kind is SyncKind.INVOICE:
                wanted += [(SyncKind.INVOICE, list(local_ids)), (SyncKind.PAYMENT, payments)]
            for of_kind, ids in wanted:
                for local_id, link in self._uow.quickbooks_links.of_many(of_kind, ids).items():
                    self._links[(of_kind, local_id)] = link.snapshot()

    def _customer_id(self, invoice: InvoiceView) -> str:
        if invoice.client_id is not None:
            return invoice.client_id
        return ad_hoc_customer_id(self._tenant_id, invoice.client_name, invoice.client_ruc)

    def _known(self, link: SyncLink) -> SyncLink:
        if link.local_id is not None:
            self._links[(SyncKind(link.kind), link.local_id)] = link
        return link

    # --- links ---

    def _link(self, kind: SyncKind, local_id: str) -> SyncLink:
        known = self._links.get((kind, local_id))
        if known is not None:
            return known
        for attempt in (1, 2):
            try:
                with self._uow:
                    link = self._uow.quickbooks_links.of(kind, local_id)
                    if link is None:
                        link = SyncLink.new(tenant_id=self._tenant_id, kind=kind, local_id=local_id, now=self._clock.now())
                        self._uow.quickbooks_links.add(link)
                        self._uow.commit()
                    return self._known(link.snapshot())
            except DuplicateEntry:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _save(self, link_id: str, change: Callable[[SyncLink], None]) -> SyncLink:
        with self._uow:
            link = self._uow.quickbooks_links.get(link_id)
            if link is None:
                raise NotFound("the sync link was deleted meanwhile (QuickBooks was reconnected)")
            change(link)
            self._uow.commit()
            return self._known(link.snapshot())

    def _failed(self, link: SyncLink, fault: QboFault) -> SyncLink:
        log.warning("quickbooks.push_refused", kind=str(link.kind), link_id=link.id, code=fault.code)
        now = self._clock.now()
        return self._save(link.id, lambda l: l.failed(fault.message, code=fault.code, element=fault.element, now=now))

    # --- customers ---

    def customer(self, client_id: str) -> SyncLink | None:
        if client_id in self._clients:
            client = self._clients[client_id]
        else:
            try:
                client = self._messages.handle(GetClient(actor=system_actor(self._tenant_id), client_id=client_id))
            except NotFound:
                client = None
        if client is None:
            return None  # deleted meanwhile: nothing to send
        return self._customer(client_id, bodies.customer_body(client))

    def _customer(self, local_id: str, body: dict[str, Any]) -> SyncLink:
        link = self._link(SyncKind.CUSTOMER, local_id)
        stamp = bodies.fingerprint(body)
        if link.linked and link.fingerprint == stamp:
            if SyncStatus(link.status) is not SyncStatus.SYNCED:
                now = self._clock.now()
                link = self._save(link.id, lambda l: l.synced(qbo_id=l.qbo_id or "", sync_token=l.sync_token,
                                                              fingerprint=stamp, now=now))
            return link
        try:
            if not link.linked:
                found = self._create_customer(link, body)
            else:
                found = self._update(link, "Customer", {**body, "Id": link.qbo_id})
        except QboFault as fault:
            self._failed(link, fault)
            raise
        now = self._clock.now()
        return self._save(
            link.id, lambda l: l.synced(qbo_id=str(found["Id"]), sync_token=_token(found), fingerprint=stamp, now=now)
        )

    def _create_customer(self, link: SyncLink, body: dict[str, Any]) -> dict[str, Any]:
        try:
            return self._realm.call(self._realm.api.create, "Customer", body, request_id=link.request_id("c"))
        except QboFault as fault:
            if not fault.has(QboFault.DUPLICATE_NAME):
                raise
            statement = bodies.select_where("Customer", "DisplayName", body["DisplayName"], limit=1)
            found = self._realm.call(self._realm.api.query, statement)
            if not found:
                raise
            log.info("quickbooks.customer_linked_by_name", link_id=link.id)
            return found[0]

    def _update(self, link: SyncLink, entity: str, body: dict[str, Any], *, operation: str | None = None) -> dict[str, Any]:
        """A sparse update (or ``operation``) with the link's SyncToken; stale: read it again, once."""
        sparse = {**body, "SyncToken": link.sync_token or "0", "sparse": True}
        op = "v" if operation == "void" else "u"
        try:
            return self._realm.call(
                self._realm.api.update, entity, sparse, request_id=link.request_id(op), operation=operation
            )
        except QboFault as fault:
            if not fault.has(QboFault.STALE_OBJECT):
                raise
        current = self._realm.call(self._realm.api.read, entity, str(body["Id"]))
        sparse["SyncToken"] = _token(current) or "0"
        return self._realm.call(
            self._realm.api.update, entity, sparse, request_id=link.request_id(op + "r"), operation=operation
        )

    # --- invoices ---

    def _invoice_view(self, invoice_id: str) -> InvoiceView | None:
        if invoice_id in self._invoices:
            return self._invoices[invoice_id]
        try:
            return self._messages.handle(GetInvoice(actor=system_actor(self._tenant_id), invoice_id=invoice_id))
        except NotFound:
            return None

    def _customer_of(self, invoice: InvoiceView) -> SyncLink | None:
        """The invoice's customer in QuickBooks, pushed first if it is not there yet (a later change
        of the client is its own push, queued by its own event)."""
        if invoice.client_id is not None:
            known = self._links.get((SyncKind.CUSTOMER, invoice.client_id))
            if known is None:
                with self._uow:
                    found = self._uow.quickbooks_links.of(SyncKind.CUSTOMER, invoice.client_id)
                    known = self._known(found.snapshot()) if found is not None else None
            if known is not None and known.linked:
                return known
            return self.customer(invoice.client_id)
        return self._customer(self._customer_id(invoice), bodies.ad_hoc_customer_body(invoice))

    def invoice(self, invoice_id: str, *, with_payments: bool = True) -> SyncLink | None:
        invoice = self._invoice_view(invoice_id)
        if invoice is None:
            return None
        link = self._link(SyncKind.INVOICE, invoice_id)
        if not link.linked:
            if self._mappings is None:
                now = self._clock.now()
                message = "set the QuickBooks mappings (item, income account, tax codes) before invoices can sync"
                self._save(link.id, lambda l: l.failed(message, code=MappingsMissing.code, element="mappings", now=now))
                raise MappingsMissing(message)
            customer = self._customer_of(invoice)
            if customer is None or customer.qbo_id is None:
                raise NotFound(f"the client of invoice {invoice.number} is gone")
            body = {**bodies.invoice_body(invoice, customer_id=customer.qbo_id, mappings=self._mappings),
                    **self._currency(str(invoice.currency), link)}
            try:
                found = self._create_invoice(link, body)
            except QboFault as fault:
                self._failed(link, fault)
                raise
            now = self._clock.now()
            link = self._save(
                link.id, lambda l: l.synced(qbo_id=str(found["Id"]), sync_token=_token(found), fingerprint=None, now=now)
            )
        if invoice.voided_at is not None and not link.voided:
            link = self._void(link)
        elif link.fingerprint == EDITED_THERE:
            link = self._restore(link, invoice)
        elif SyncStatus(link.status) is not SyncStatus.SYNCED:
            now = self._clock.now()
            link = self._save(link.id, lambda l: l.synced(qbo_id=l.qbo_id or "", sync_token=l.sync_token,
                                                          fingerprint=l.fingerprint, now=now))
        if with_payments:
            for payment in invoice.payments:
                self.payment(payment, invoice, link)
        return link

    def _restore(self, link: SyncLink, invoice: InvoiceView) -> SyncLink:
        """The invoice was changed in QuickBooks: Istmo's version (the fiscal document) goes again."""
        if self._mappings is None:
            raise MappingsMissing("set the QuickBooks mappings (item, income account, tax codes) before invoices can sync")
        customer = self._customer_of(invoice)
        if customer is None or customer.qbo_id is None:
            raise NotFound(f"the client of invoice {invoice.number} is gone")
        body = {**bodies.invoice_body(invoice, customer_id=customer.qbo_id, mappings=self._mappings),
                **self._currency(str(invoice.currency), link)}
        try:
            found = self._update(link, "Invoice", {**body, "Id": link.qbo_id})
        except QboFault as fault:
            self._failed(link, fault)
            raise
        now = self._clock.now()
        return self._save(
            link.id, lambda l: l.synced(qbo_id=l.qbo_id or "", sync_token=_token(found), fingerprint=None, now=now)
        )

    def _currency(self, currency: str, link: SyncLink) -> dict[str, object]:
        """``CurrencyRef`` (and ``ExchangeRate``) of a transaction in ``currency``. The company's
        settings are read at the first invoice after connecting, and again before a transaction is
        refused for them (multicurrency may have been turned on since): the refusal marks the item
        FAILED, naming what to change in QuickBooks."""
        prefs = self._realm.currency
        if prefs is None or (not prefs.can_take(currency) and not self._currency_read):
            prefs = self._read_currency()
        try:
            return prefs.reference(currency)
        except CurrencyNotEnabled as error:
            now, message = self._clock.now(), error.message
            self._save(link.id, lambda l: l.failed(message, code=error.code, element="CurrencyRef", now=now))
            raise

    def _read_currency(self) -> CurrencyPrefs:
        prefs = self._realm.call(self._realm.api.currency)
        with self._uow:
            connection = self._uow.quickbooks_connections.get()
            if connection is not None:
                connection.set_currency(prefs, now=self._clock.now())
                self._uow.commit()
        self._realm.currency, self._currency_read = prefs, True
        return prefs

    def _create_invoice(self, link: SyncLink, body: dict[str, Any]) -> dict[str, Any]:
        try:
            return self._realm.call(self._realm.api.create, "Invoice", body, request_id=link.request_id("i", versioned=False))
        except QboFault as fault:
            if not fault.duplicate_doc_number:
                raise
            statement = bodies.select_where("Invoice", "DocNumber", body["DocNumber"], limit=2)
            found = [f for f in self._realm.call(self._realm.api.query, statement)
                     if str(f.get("PrivateNote", "")).endswith(body["PrivateNote"].rsplit(" ", 1)[-1])]
            if len(found) != 1:
                raise  # another invoice has the number there: the accountant decides
            return found[0]

    def _void(self, link: SyncLink) -> SyncLink:
        try:
            found = self._update(link, "Invoice", {"Id": link.qbo_id}, operation="void")
        except QboFault as fault:
            self._failed(link, fault)
            raise
        now = self._clock.now()

        def voided(l: SyncLink) -> None:
            l.voided = True
            l.synced(qbo_id=l.qbo_id or "", sync_token=_token(found) or l.sync_token, fingerprint=l.fingerprint, now=now)

        return self._save(link.id, voided)

    # --- payments ---

    def payment_by_id(self, payment_id: str, invoice_id: str | None) -> SyncLink | None:
        if invoice_id is None:
            with self._uow:
                link = self._uow.quickbooks_links.of(SyncKind.PAYMENT, payment_id)
                return link.snapshot() if link is not None else None  # nothing says which invoice: only a backfill of the invoice sends it
        invoice = self._invoice_view(invoice_id)
        if invoice is None:
            return None
        payment = next((p for p in invoice.payments if p.id == payment_id), None)
        if payment is None:
            return None
        invoice_link = self.invoice(invoice_id, with_payments=False)
        if invoice_link is None or invoice_link.qbo_id is None:
            return None
        return self.payment(payment, invoice, invoice_link)

    def payment(self, payment: PaymentView, invoice: InvoiceView, invoice_link: SyncLink) -> SyncLink | None:
        if self._came_from_quickbooks(payment, invoice_link):
            return None
        link = self._link(SyncKind.PAYMENT, payment.id)
        if link.linked:
            if SyncStatus(link.status) is not SyncStatus.SYNCED:
                now = self._clock.now()
                link = self._save(link.id, lambda l: l.synced(qbo_id=l.qbo_id or "", sync_token=l.sync_token,
                                                              fingerprint=None, now=now))
            return link
        customer = self._customer_of(invoice)
        if customer is None or customer.qbo_id is None:
            return None
        body = {**bodies.payment_body(payment, customer_id=customer.qbo_id, invoice_qbo_id=invoice_link.qbo_id or ""),
                **self._currency(str(invoice.currency), link)}
        try:
            found = self._realm.call(self._realm.api.create, "Payment", body, request_id=link.request_id("p", versioned=False))
        except QboFault as fault:
            self._failed(link, fault)
            raise
        now = self._clock.now()
        return self._save(
            link.id, lambda l: l.synced(qbo_id=str(found["Id"]), sync_token=_token(found), fingerprint=None, now=now)
        )

    def _came_from_quickbooks(self, payment: PaymentView, invoice_link: SyncLink) -> bool:
        """A payment registered here from QuickBooks (its reference and its link say so)."""
        match = _INBOUND.match(payment.reference or "")
        if match is None:
            return False
        with self._uow:
            return self._uow.quickbooks_links.by_qbo_id(
                SyncKind.PAYMENT, f"{match.group(1)}:{invoice_link.qbo_id}"
            ) is not None


def _token(found: dict[str, Any]) -> str | None:
    value = found.get("SyncToken")
    return str(value) if value is not None else None
