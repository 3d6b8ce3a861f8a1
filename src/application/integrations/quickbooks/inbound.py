"""QuickBooks -> Istmo: a webhook notification or the schedule queues a catch-up of a company;
the catch-up reads what changed there (CDC) and applies what Istmo maps.

- A Payment applied to an invoice that is synced from here is registered on that invoice, once:
  its link (``{payment Id}:{invoice Id}``, origin QUICKBOOKS) is claimed before it is registered,
  and the registration carries the reference ``QuickBooks payment {Id}``, which a catch-up that
  died half-way finds on the invoice instead of registering it again.
- A Payment deleted there: one that came from there is taken back from its invoice here; one
  sent from here is unlinked and its item FAILED (it stands here; the next full sync sends it again).
- A Customer linked to a client: a new email or phone there updates the client here, in the
  contact whose email (or phone) Istmo sends as the customer's (the first contact that has one,
  not always the first contact), unless the client was changed here after QuickBooks last
  changed the customer.
- An Invoice sent from here and changed there: Istmo's invoice is the fiscal document and is not
  changed. If what Istmo sent still stands (number, dates, customer, amounts) only the new
  ``SyncToken`` is kept; otherwise, or if it was deleted there, its item is FAILED saying what
  differs, and a retry sends Istmo's version again.
- Anything else (objects Istmo does not map) is ignored and counted.

One catch-up per company at a time (a lease on the connection); the cursor moves to when the run
started only once the whole run is applied, and each run re-reads a few minutes before it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import structlog

from application.integrations.quickbooks import bodies
from application.integrations.quickbooks.commands import (
    CatchUp,
    CatchUpAll,
    QueueRealmCatchUp,
    QuickbooksPolicy,
)
from application.integrations.quickbooks.handlers import system_actor
from application.integrations.quickbooks.outbound import INBOUND_REFERENCE, RealmCalls
from application.integrations.quickbooks.ports import (
    QuickbooksApi,
    QuickbooksUnitOfWork,
    RateGate,
    RealmRef,
)
from application.integrations.quickbooks.tokens import AccessTokens
from application.invoicing.commands import (
    GetClient,
    GetInvoice,
    RegisterInvoicePayment,
    RemoveInvoicePayment,
    UpdateClient,
)
from application.invoicing.views import ClientView, InvoiceView
from application.shared.actors import tenant_actor
from application.shared.modules import Messages
from application.shared.ports import Clock, DuplicateEntry
from domain.integrations.quickbooks.links import Origin, SyncKind, SyncLink, SyncStatus, ad_hoc_customer_id
from domain.invoicing.clients import ContactInput
from domain.shared.errors import DomainError, NotFound

log = structlog.get_logger(__name__)

CATCH_UP_JOB = "quickbooks.cdc"
CATCH_UP_ALL_JOB = "quickbooks.cdc_all"
ENTITIES = ("Payment", "Customer", "Invoice")
LEASE = timedelta(minutes=10)


class CatchUpBusy(Exception):
    """Another catch-up of this company is running."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CatchUpReport:
    applied: int = 0
    ignored: int = 0
    skipped: str | None = None


def catch_up_key(tenant_id: str, trigger: str) -> str:
    return f"{CATCH_UP_JOB}:{tenant_id}:{trigger}"[:200]


class QueueRealmCatchUpHandler:
    def __call__(self, cmd: QueueRealmCatchUp, uow: QuickbooksUnitOfWork) -> RealmRef | None:
        with uow:
            ref = uow.quickbooks_directory.by_realm(cmd.realm_id)
            if ref is None:
                return None
            uow.jobs.enqueue(
                CATCH_UP_JOB, {}, tenant_id=ref.tenant_id, idempotency_key=catch_up_key(ref.tenant_id, f"hook:{cmd.reference}")
            )
            uow.commit()
            return ref


class CatchUpAllHandler:
    def __call__(self, cmd: CatchUpAll, uow: QuickbooksUnitOfWork) -> int:
        with uow:
            refs = uow.quickbooks_directory.connected()
            for ref in refs:
                uow.jobs.enqueue(
                    CATCH_UP_JOB, {}, tenant_id=ref.tenant_id, idempotency_key=catch_up_key(ref.tenant_id, f"every:{cmd.slot}")
                )
            uow.commit()
            return len(refs)


class CatchUpHandler:
    def __init__(
        self, api: QuickbooksApi, tokens: AccessTokens, gate: RateGate, messages: Messages, clock: Clock,
        policy: QuickbooksPolicy,
    ) -> None:
        self._api, self._tokens, self._gate, self._messages = api, tokens, gate, messages
        self._clock, self._policy = clock, policy

    def __call__(self, cmd: CatchUp, uow: QuickbooksUnitOfWork) -> CatchUpReport:
        actor = tenant_actor(cmd.actor)
        started = self._clock.now()
        with uow:
            connection = uow.quickbooks_connections.get()
            if connection is None or not connection.connected:
                return CatchUpReport(skipped="QuickBooks is not connected")
            if not uow.quickbooks_connections.claim_catch_up(now=started, until=started + LEASE):
                raise CatchUpBusy("another catch-up of this company is running")
            uow.commit()
            oldest = started - self._policy.cdc_lookback + timedelta(minutes=1)
            since = max(connection.cdc_since - self._policy.cdc_overlap, oldest) if connection.cdc_since else oldest
        try:
            realm = RealmCalls(self._api, self._tokens, self._gate, uow)
            changes = realm.call(self._api.changes, ENTITIES, since)
            apply = _Apply(uow, self._messages, self._clock, actor.tenant_id)
            for customer in changes.get("Customer", []):
                apply.customer(customer)
            for payment in changes.get("Payment", []):
                apply.payment(payment)
            for invoice in changes.get("Invoice", []):
                apply.invoice(invoice)
            with uow:
                connection = uow.quickbooks_connections.get()
                if connection is not None:
                    connection.caught_up(since=started, applied=apply.applied, ignored=apply.ignored, now=self._clock.now())
                uow.commit()
            log.info("quickbooks.caught_up", applied=apply.applied, ignored=apply.ignored)
            return CatchUpReport(applied=apply.applied, ignored=apply.ignored)
        finally:
            with uow:
                uow.quickbooks_connections.release_catch_up()
                uow.commit()


class _Apply:
    def __init__(self, uow: QuickbooksUnitOfWork, messages: Messages, clock: Clock, tenant_id: str) -> None:
        self._uow, self._messages, self._clock, self._tenant_id = uow, messages, clock, tenant_id
        self.applied = 0
        self.ignored = 0

    # --- customers ---

    def customer(self, found: dict[str, Any]) -> None:
        qbo_id = _text(found.get("Id"))
        with self._uow:
            link = self._uow.quickbooks_links.by_qbo_id(SyncKind.CUSTOMER, qbo_id) if qbo_id else None
            client_id = link.local_id if link is not None else None
        client = self._client(client_id) if client_id else None
        if client is None:
            self.ignored += 1
            return
        changed_there = _moment(found)
        if changed_there is None or changed_there <= client.updated_at:
            self.ignored += 1  # changed here later (or QuickBooks does not say when): Istmo's stands
            return
        email = _text(_path(found, "PrimaryEmailAddr", "Address"))
        phone = _text(_path(found, "PrimaryPhone", "FreeFormNumber"))
        contacts = [
            ContactInput(name=c.name, email=c.email, phone=c.phone, role=c.role) for c in client.contacts
        ] or [ContactInput(name=client.name)]
        before = list(contacts)
        if email:  # into the contact whose email Istmo sends as the customer's (bodies.customer_body)
            at = next((n for n, c in enumerate(contacts) if c.email), 0)
            c = contacts[at]
            contacts[at] = ContactInput(name=c.name, email=email, phone=c.phone, role=c.role)
        if phone:
            at = next((n for n, c in enumerate(contacts) if c.phone), 0)
            c = contacts[at]
            contacts[at] = ContactInput(name=c.name, email=c.email, phone=phone, role=c.role)
        if [(c.email, c.phone) for c in contacts] == [(c.email, c.phone) for c in before]:
            self.ignored += 1
            return
        try:
            self._messages.handle(
                UpdateClient(
                    actor=system_actor(self._tenant_id), client_id=client.id, name=client.name,
                    taxpayer_type=str(client.taxpayer_type), ruc=client.ruc, dv=client.dv, address=client.address,
                    contacts=tuple(contacts),
                )
            )
        except DomainError as error:  # an address or number Istmo does not take: left as it is here
            log.info("quickbooks.customer_not_applied", code=error.code, field=error.field)
            self.ignored += 1
            return
        self.applied += 1

    def _client(self, client_id: str) -> ClientView | None:
        try:
            return self._messages.handle(GetClient(actor=system_actor(self._tenant_id), client_id=client_id))
        except NotFound:
            return None

    # --- payments ---

    def payment(self, found: dict[str, Any]) -> None:
        payment_id = _text(found.get("Id"))
        if payment_id is None:
            self.ignored += 1
            return
        if _deleted(found):
            self._payment_deleted(payment_id)
            return
        with self._uow:
            ours = self._uow.quickbooks_links.by_qbo_id(SyncKind.PAYMENT, payment_id)
        if ours is not None:
            self.ignored += 1  # sent from here
            return
        for amount, invoice_qbo_id in _applied_to_invoices(found):
            self._apply_payment(found, payment_id, amount, invoice_qbo_id)

    def _apply_payment(self, found: dict[str, Any], payment_id: str, amount: Decimal, invoice_qbo_id: str) -> None:
        key = f"{payment_id}:{invoice_qbo_id}"
        with self._uow:
            invoice_link = self._uow.quickbooks_links.by_qbo_id(SyncKind.INVOICE, invoice_qbo_id)
            invoice_id = invoice_link.local_id if invoice_link is not None else None
        if invoice_id is None:
            self.ignored += 1  # an invoice Istmo does not know
            return
        link = self._claim(key)
        if link is None:
            return  # applied already
        reference = INBOUND_REFERENCE.format(payment_id)
        actor = system_actor(self._tenant_id)
        try:
            invoice = self._messages.handle(GetInvoice(actor=actor, invoice_id=invoice_id))
            registered = next((p for p in invoice.payments if p.reference == reference), None)
            if registered is None:
                registered = self._messages.handle(
                    RegisterInvoicePayment(
                        actor=actor, invoice_id=invoice_id, amount=amount, method="OTHER",
                        date=_date(found.get("TxnDate")), reference=reference,
                    )
                ).payment
        except DomainError as error:
            now, message, code, field = self._clock.now(), error.message, error.code, error.field
            self._save(link.id, lambda l: l.failed(
                f"the payment could not be registered here: {message}", code=code, element=field, now=now
            ))
            self.ignored += 1
            return
        with self._uow:
            # Registering it raised InvoicePaymentRegistered, whose reaction may have made an outbound
            # link for it already: this one, from QuickBooks, is the payment's link.
            self._uow.quickbooks_links.remove_unlinked(SyncKind.PAYMENT, registered.id)
            claimed = self._uow.quickbooks_links.get(link.id)
            if claimed is not None:
                claimed.local_id = registered.id
                claimed.synced(qbo_id=key, sync_token=_text(found.get("SyncToken")), fingerprint=None, now=self._clock.now())
            self._uow.commit()
        self.applied += 1

    def _payment_deleted(self, payment_id: str) -> None:
        with self._uow:
            links = [link.snapshot() for link in self._uow.quickbooks_links.of_qbo_payment(payment_id)]
        if not links:
            self.ignored += 1  # a payment Istmo never knew
            return
        now = self._clock.now()
        for link in links:
            if Origin(link.origin) is Origin.ISTMO:
                self._save(link.id, lambda l: l.deleted_there(
                    "deleted in QuickBooks; it is still registered here (the next full sync sends it again)", now=now
                ))
                self.ignored += 1  # nothing changed here
            elif link.local_id is None or link.voided or SyncStatus(link.status) is not SyncStatus.SYNCED:
                self.ignored += 1
            else:
                self._take_back(link)

    def _take_back(self, link: SyncLink) -> None:
        """A payment registered here from QuickBooks and deleted there: removed from its invoice."""
        invoice_qbo_id = (link.qbo_id or "").partition(":")[2]
        with self._uow:
            invoice_link = self._uow.quickbooks_links.by_qbo_id(SyncKind.INVOICE, invoice_qbo_id)
            invoice_id = invoice_link.local_id if invoice_link is not None else None
        if invoice_id is not None and link.local_id is not None:
            try:
                self._messages.handle(RemoveInvoicePayment(
                    actor=system_actor(self._tenant_id), invoice_id=invoice_id, payment_id=link.local_id
                ))
            except NotFound:
                pass  # removed already (a catch-up that died after it)
        now = self._clock.now()
        self._save(link.id, lambda l: l.taken_back(now=now))
        self.applied += 1

    # --- invoices ---

    def invoice(self, found: dict[str, Any]) -> None:
        qbo_id = _text(found.get("Id"))
        with self._uow:
            found_link = self._uow.quickbooks_links.by_qbo_id(SyncKind.INVOICE, qbo_id) if qbo_id else None
            link = found_link.snapshot() if found_link is not None else None
        if link is None or link.local_id is None:
            self.ignored += 1  # an invoice made in QuickBooks: Istmo does not take invoices from there
            return
        now = self._clock.now()
        if _deleted(found):
            self._save(link.id, lambda l: l.deleted_there(
                "deleted in QuickBooks; Istmo's invoice stands (retry makes it there again)", now=now
            ))
            self.ignored += 1
            return
        token = _text(found.get("SyncToken"))
        if token is None or token == link.sync_token:
            self.ignored += 1  # Istmo's own write
            return
        try:
            view = self._messages.handle(GetInvoice(actor=system_actor(self._tenant_id), invoice_id=link.local_id))
        except NotFound:
            self.ignored += 1
            return
        difference = self._difference(found, view)
        if difference is None:  # still what Istmo sent (a memo, an e-mail sent there): keep the token current
            self._save(link.id, lambda l: setattr(l, "sync_token", token))
        else:
            element, message = difference
            self._save(link.id, lambda l: l.edited_there(message, sync_token=token, element=element, now=now))
        self.ignored += 1  # Istmo's invoice, the fiscal document, is not changed from there

    def _difference(self, found: dict[str, Any], view: InvoiceView) -> tuple[str, str] | None:
        """The first of what Istmo sends (number, dates, customer, amounts) that QuickBooks says otherwise."""
        local = view.client_id or ad_hoc_customer_id(self._tenant_id, view.client_name, view.client_ruc)
        with self._uow:
            customer = self._uow.quickbooks_links.of(SyncKind.CUSTOMER, local)
            customer_id = customer.qbo_id if customer is not None else None
        lines = found.get("Line") if isinstance(found.get("Line"), list) else []
        sold = sum((_amount(line.get("Amount")) or Decimal(0)) for line in lines
                   if isinstance(line, dict) and line.get("DetailType") == "SalesItemLineDetail")
        discount = sum((_amount(line.get("Amount")) or Decimal(0)) for line in lines
                       if isinstance(line, dict) and line.get("DetailType") == "DiscountLineDetail")
        checks = (
            ("DocNumber", _text(found.get("DocNumber")), view.number[:bodies.MAX_DOC_NUMBER]),
            ("TxnDate", _text(found.get("TxnDate")), view.issue_date.isoformat()),
            ("DueDate", _text(found.get("DueDate")), view.due_date.isoformat()),
            ("CustomerRef", _text(_path(found, "CustomerRef", "value")), customer_id),
            ("Line", f"{sold:.2f}", f"{sum((line.amount for line in view.lines), Decimal(0)):.2f}"),
            ("DiscountLineDetail", f"{discount:.2f}", f"{view.discount_total:.2f}"),
        )
        for element, there, here in checks:
            if there != here:
                return element, (
                    f"changed in QuickBooks ({element}: {there or 'none'} there, {here or 'none'} here); Istmo's invoice "
                    "is the fiscal document and stays as it is: retry sends it there again"
                )
        return None

    def _claim(self, key: str) -> SyncLink | None:
        """The link of this payment line: a new claim, or one a run that died left PENDING; None once SYNCED."""
        for attempt in (1, 2):
            try:
                with self._uow:
                    link = self._uow.quickbooks_links.by_qbo_id(SyncKind.PAYMENT, key)
                    if link is not None:
                        return None if SyncStatus(link.status) is SyncStatus.SYNCED else link.snapshot()
                    link = SyncLink.new(
                        tenant_id=self._tenant_id, kind=SyncKind.PAYMENT, local_id=None, now=self._clock.now(),
                        origin=Origin.QUICKBOOKS, qbo_id=key,
                    )
                    self._uow.quickbooks_links.add(link)
                    self._uow.commit()
                    return link.snapshot()
            except DuplicateEntry:
                if attempt == 2:
                    raise
        return None

    def _save(self, link_id: str, change: Any) -> None:
        with self._uow:
            link = self._uow.quickbooks_links.get(link_id)
            if link is not None:
                change(link)
                self._uow.commit()


def _applied_to_invoices(payment: dict[str, Any]) -> Iterable[tuple[Decimal, str]]:
    lines = payment.get("Line")
    for line in lines if isinstance(lines, list) else []:
        if not isinstance(line, dict):
            continue
        amount = _amount(line.get("Amount"))
        linked = line.get("LinkedTxn")
        for txn in linked if isinstance(linked, list) else []:
            if isinstance(txn, dict) and txn.get("TxnType") == "Invoice" and _text(txn.get("TxnId")) and amount:
                yield amount, str(txn["TxnId"]).strip()


def _deleted(found: dict[str, Any]) -> bool:
    """CDC reports a deleted object as ``{"Id", "status": "Deleted"}``."""
    return str(found.get("status", "")).lower() == "deleted"


def _path(found: dict[str, Any], *steps: str) -> Any:
    value: Any = found
    for step in steps:
        value = value.get(step) if isinstance(value, dict) else None
    return value


def _text(value: Any) -> str | None:
    if isinstance(value, str | int) and not isinstance(value, bool):
        text = str(value).strip()
        return text[:320] or None
    return None


def _amount(value: Any) -> Decimal | None:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return None
    return amount if amount > 0 else None


def _moment(found: dict[str, Any]) -> datetime | None:
    value = _path(found, "MetaData", "LastUpdatedTime")
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None
