"""The PAC (Alanube) side of invoicing: keeping an invoice or a credit note in step with the PAC
(legal status, CUFE, QR, authorisation protocol, the authorised PDF and XML). Its settings and the
check of its webhooks' signatures are ``pac_settings``.

Three ways lead to ``SyncPacDocument``: the PAC's webhook (``POST /webhooks/pac/{company_id}``,
through the inbox), a retry or replay of it, and the polling fallback (``pac.poll`` finds invoices
and credit notes still waiting after ``ISTMO_PAC_POLL_AFTER`` and queues a ``pac.sync`` for each).
They may run at once: the document is locked while it changes, its legal status only moves
forward (``ElectronicFiscalDocument.apply_legal_status``), and the PDF and XML are kept through
``FileKeeper``, whose SHA-256 dedupe under the content lock leaves one file and one blob each
whoever gets there first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

import structlog

from application.files.commands import FilePolicy
from application.files.keeping import FileKeeper
from application.files.ports import FileStorage
from application.files.staging import stage_chunks
from application.files.views import EntityRef
from application.jobs.errors import PermanentJobError, TransientJobError
from application.invoicing.ports import PacUnitOfWork
from application.shared.bus import MessageBus
from application.shared.messages import Command
from application.shared.ports import Clock, UnitOfWorkFactory
from application.shared.secrets import SecretBox, SecretUnreadable
from application.webhooks.payloads import json_object, text
from application.webhooks.ports import WebhookOutcome
from application.webhooks.views import WebhookEventView
from domain.files.model import EntityType
from domain.jobs.model import Job
from domain.invoicing.credit_notes import CreditNote
from domain.invoicing.invoices import Invoice, LegalStatus
from domain.shared.errors import InvalidInput, PermissionDenied
from domain.tenancy.model import Actor, Role
from domain.invoicing.pac import (
    PacSettings,
    SignatureMode,
    api_key_context,
)

log = structlog.get_logger(__name__)

PROVIDER = "pac"
SYNC_JOB = "pac.sync"
POLL_JOB = "pac.poll"
SEND_JOB = "pac.send_authorized_invoice"
AUTHORISED = frozenset({LegalStatus.PAC_AUTHORIZED, LegalStatus.DGI_AUTHORIZED})


def pac_actor(tenant_id: str, user: str | None = None) -> Actor:
    """Who acts when the PAC reports: the tenant, as the PAC (or the user its X-User-Id names)."""
    return Actor(tenant_id=tenant_id, user_id=(f"pac:{user}" if user else "pac")[:254], role=Role.ADMIN)


@dataclass(frozen=True, slots=True, kw_only=True)
class PacPolicy:
    """The instance's PAC settings (``ISTMO_PAC_*``); a tenant's own settings win over them."""

    webhook_secret: str | None = None
    signature_mode: SignatureMode = SignatureMode.SECRET
    api_key: str | None = None
    poll_after: timedelta = timedelta(minutes=10)
    poll_batch: int = 100


# --- the PAC's API -------------------------------------------------------------------------------


class PacDocumentKind(StrEnum):
    """What the PAC certifies: its API keeps each kind under its own path."""

    INVOICE = "INVOICE"
    CREDIT_NOTE = "CREDIT_NOTE"


@dataclass(frozen=True, slots=True, kw_only=True)
class PacDocument:
    document_id: str
    legal_status: str | None
    cufe: str | None = None
    pdf_url: str | None = None
    xml_url: str | None = None
    qr_url: str | None = None
    authorization_protocol: str | None = None
    authorized_at: datetime | None = None
    message: str | None = None


class PacUnavailable(Exception):
    """Timeout, 5xx, 429: try again later (``retry_after`` is the PAC's floor)."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class PacRefused(Exception):
    """A 4xx other than 429 (bad key, unknown document): trying again cannot help."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PacClient(Protocol):
    def document(
        self, *, api_key: str, company_id: str, document_id: str, kind: PacDocumentKind = PacDocumentKind.INVOICE
    ) -> PacDocument:
        """``GET /pan/v1/invoices/{id}`` (or ``/credit-notes/{id}``) ``?idCompany=&documents=pdf``;
        raises PacUnavailable, PacRefused."""
        ...

    def download(self, url: str, *, max_bytes: int) -> bytes:
        """The bytes at a short-lived document URL (fetched at once); raises PacUnavailable, PacRefused."""
        ...


# --- messages ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncPacDocument(Command):
    """Bring the tenant's invoice (or, failing one, credit note) with this PAC document id in step
    with the PAC (see the module)."""

    document_id: str
    notice_status: str | None = None  # what the webhook said, applied before asking the PAC
    cufe: str | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class PacSynced:
    invoice_id: str | None  # None: no invoice of the tenant has this document id
    legal_status: LegalStatus | None
    file_id: str | None  # the authorised PDF, when there is one
    credit_note_id: str | None = None  # the credit note it matched instead of an invoice
    xml_file_id: str | None = None  # the authorised XML, when there is one


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueStalePacDocuments(Command):
    """The poller: queue a ``pac.sync`` for each invoice and credit note still waiting on the PAC."""

    slot: str


# --- handlers ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PacConfig:
    """What a handler keeps of a tenant's PAC settings once its unit of work is closed."""

    tenant_id: str
    company_id: str
    webhook_secret_sealed: str | None
    api_key_sealed: str | None
    signature_mode: SignatureMode
    send_authorized_invoice: bool


def pac_config(settings: PacSettings) -> PacConfig:
    return PacConfig(
        tenant_id=settings.tenant_id,
        company_id=settings.company_id,
        webhook_secret_sealed=settings.webhook_secret_sealed,
        api_key_sealed=settings.api_key_sealed,
        signature_mode=SignatureMode(settings.signature_mode),
        send_authorized_invoice=bool(settings.send_authorized_invoice),
    )


class SyncPacDocumentHandler:
    def __init__(
        self,
        clock: Clock,
        secrets: SecretBox,
        client: PacClient,
        keeper: FileKeeper,
        storage: FileStorage,
        file_policy: FilePolicy,
        policy: PacPolicy,
    ) -> None:
        self._clock = clock
        self._secrets = secrets
        self._client = client
        self._keeper = keeper
        self._storage = storage
        self._file_policy = file_policy
        self._policy = policy

    def __call__(self, cmd: SyncPacDocument, uow: PacUnitOfWork) -> PacSynced:
        actor = cmd.actor
        if actor is None:
            raise PermissionDenied("a PAC document belongs to a tenant")
        document_id = (cmd.document_id or "").strip()
        if not document_id or len(document_id) > 128:
            raise InvalidInput("id must be the PAC document id (1-128 characters)", field="id")
        with uow:
            stored = uow.pac_settings.get(actor.tenant_id)
            settings = None if stored is None else pac_config(stored)
            found = _certified(uow, document_id)
            if found is None:
                return PacSynced(invoice_id=None, legal_status=None, file_id=None)
            before = LegalStatus(found.document.legal_status)
            if cmd.notice_status is not None:
                found.document.apply_legal_status(cmd.notice_status, cufe=cmd.cufe, message=cmd.message)
            status = LegalStatus(found.document.legal_status)
            self._queue_sending(uow, settings, found, before)
            uow.commit()
            kind, entity_id, number = found.kind, found.document.id, found.number
        if status not in AUTHORISED and cmd.notice_status is not None:
            return _synced(kind, entity_id, status)
        if settings is None:
            raise PermanentJobError("the PAC is not configured for this tenant (no company id)")
        answer = self._fetch(settings, document_id, kind)
        with uow:
            found = _certified(uow, document_id)
            if found is None or found.kind is not kind or found.document.id != entity_id:
                raise TransientJobError("the document changed while the PAC was asked; trying again")
            before = LegalStatus(found.document.legal_status)
            if answer.legal_status:
                found.document.apply_legal_status(answer.legal_status, cufe=answer.cufe, message=answer.message)
            found.document.record_authorization(
                cufe=answer.cufe,
                qr_url=answer.qr_url,
                authorization_protocol=answer.authorization_protocol,
                authorized_at=answer.authorized_at,
            )
            status = LegalStatus(found.document.legal_status)
            self._queue_sending(uow, settings, found, before)
            uow.commit()
        if status not in AUTHORISED:
            return _synced(kind, entity_id, status)
        entity = EntityRef(_ENTITY[kind], entity_id)
        name = f"{_TITLE[kind]} {number.replace('/', '-')} (PAC)"
        pdf = self._keep(uow, actor, entity, f"{name}.pdf", answer.pdf_url, what="PDF", looks_like=_is_pdf)
        xml = self._keep(uow, actor, entity, f"{name}.xml", answer.xml_url, what="XML", looks_like=_is_xml)
        return _synced(kind, entity_id, status, pdf=pdf, xml=xml)

    def _queue_sending(
        self, uow: PacUnitOfWork, settings: PacConfig | None, found: _Certified, before: LegalStatus
    ) -> None:
        """Contract E: once, when an invoice first becomes authorised and the tenant asked for it."""
        if found.kind is not PacDocumentKind.INVOICE:
            return
        invoice = found.document
        now_status = LegalStatus(invoice.legal_status)
        if settings is None or not settings.send_authorized_invoice:
            return
        if before in AUTHORISED or now_status not in AUTHORISED:
            return
        uow.jobs.enqueue(SEND_JOB, {"invoice_id": invoice.id}, idempotency_key=f"{SEND_JOB}:{invoice.id}",
                         run_at=self._clock.now() + timedelta(seconds=30))

    def _fetch(self, settings: PacConfig, document_id: str, kind: PacDocumentKind) -> PacDocument:
        api_key = self._api_key(settings)
        try:
            return self._client.document(
                api_key=api_key, company_id=settings.company_id, document_id=document_id, kind=kind
            )
        except PacUnavailable as error:
            raise TransientJobError(f"PAC: {error.reason}", retry_after=error.retry_after) from None
        except PacRefused as error:
            raise PermanentJobError(f"PAC: {error.reason}") from None

    def _api_key(self, settings: PacConfig) -> str:
        if settings.api_key_sealed is not None:
            try:
                return self._secrets.open(settings.api_key_sealed, context=api_key_context(settings.tenant_id))
            except SecretUnreadable:
                raise PermanentJobError("the tenant's PAC API key cannot be read; set it again") from None
        if self._policy.api_key:
            return self._policy.api_key
        raise PermanentJobError("no PAC API key is configured (tenant apiKey or ISTMO_PAC_API_KEY)")

    def _keep(
        self, uow: PacUnitOfWork, actor: Actor, entity: EntityRef, name: str, url: str | None, *,
        what: str, looks_like: Callable[[bytes], bool],
    ) -> str | None:
        """The PAC's authorised PDF or XML at ``url`` (None: the PAC gave none), kept as a file of
        ``entity``; the same bytes again are the same file."""
        if not url:
            return None
        try:
            content = self._client.download(url, max_bytes=self._file_policy.max_upload_bytes)
        except PacUnavailable as error:
            raise TransientJobError(f"PAC {what}: {error.reason}", retry_after=error.retry_after) from None
        except PacRefused as error:
            raise PermanentJobError(f"PAC {what}: {error.reason}") from None
        if not looks_like(content):
            raise PermanentJobError(f"what the PAC's {what} link gave is not {what}")
        staged = stage_chunks(self._storage, [content], max_size=self._file_policy.max_upload_bytes)
        return self._keeper.keep(uow, actor, staged, name=name, entity=entity, temporary=False).id


@dataclass(frozen=True, slots=True)
class _Certified:
    """The tenant's document the PAC knows by an id (locked for the rest of the transaction)."""

    kind: PacDocumentKind
    document: Invoice | CreditNote

    @property
    def number(self) -> str:
        return self.document.number


def _certified(uow: PacUnitOfWork, document_id: str) -> _Certified | None:
    """The invoice with this PAC document id, else the credit note, locked; None: nobody's."""
    invoice = uow.invoices.by_pac_document_id(document_id, for_update=True)
    if invoice is not None:
        return _Certified(PacDocumentKind.INVOICE, invoice)
    note = uow.credit_notes.by_pac_document_id(document_id, for_update=True)
    return None if note is None else _Certified(PacDocumentKind.CREDIT_NOTE, note)


def _synced(
    kind: PacDocumentKind, entity_id: str, status: LegalStatus, *, pdf: str | None = None, xml: str | None = None
) -> PacSynced:
    invoice = kind is PacDocumentKind.INVOICE
    return PacSynced(
        invoice_id=entity_id if invoice else None, legal_status=status, file_id=pdf,
        credit_note_id=None if invoice else entity_id, xml_file_id=xml,
    )


_ENTITY = {PacDocumentKind.INVOICE: EntityType.INVOICE, PacDocumentKind.CREDIT_NOTE: EntityType.CREDIT_NOTE}
_TITLE = {PacDocumentKind.INVOICE: "Factura", PacDocumentKind.CREDIT_NOTE: "Nota de crédito"}


def _is_pdf(content: bytes) -> bool:
    return content.startswith(b"%PDF-")


def _is_xml(content: bytes) -> bool:
    """An XML document (the DGI's signed ``rFE``): markup, not an HTML page the link led to."""
    start = content.removeprefix(b"\xef\xbb\xbf").lstrip()[:64].lower()
    return start.startswith(b"<") and not start.startswith((b"<!doctype html", b"<html"))


class QueueStalePacDocumentsHandler:
    """For each tenant with PAC settings: its invoices and credit notes with a PAC document id still
    NONE or PAC_AUTHORIZED ``poll_after`` after they were created (or PAC-authorised) get a
    ``pac.sync`` job, one per document and poll slot (at most ``poll_batch`` of each kind a tenant)."""

    def __init__(self, clock: Clock, uow_factory: UnitOfWorkFactory[PacUnitOfWork], policy: PacPolicy) -> None:
        self._clock = clock
        self._uow_factory = uow_factory
        self._policy = policy

    def __call__(self, cmd: QueueStalePacDocuments, uow: PacUnitOfWork) -> int:
        cutoff = self._clock.now() - self._policy.poll_after
        with uow:
            tenant_ids = uow.pac_settings.tenant_ids()
        queued = 0
        for tenant_id in tenant_ids:
            tenant_uow = self._uow_factory(tenant_id)
            with tenant_uow:
                waiting = [
                    *tenant_uow.invoices.awaiting_pac(cutoff=cutoff, limit=self._policy.poll_batch),
                    *tenant_uow.credit_notes.awaiting_pac(cutoff=cutoff, limit=self._policy.poll_batch),
                ]
                for entity_id, document_id in waiting:
                    tenant_uow.jobs.enqueue(
                        SYNC_JOB, {"document_id": document_id},
                        idempotency_key=f"{SYNC_JOB}:{entity_id}:{cmd.slot}",
                    )
                tenant_uow.commit()
            queued += len(waiting)
        return queued


# --- the webhook processor and the jobs ----------------------------------------------------------

COMPANY_HEADER = "x-istmo-pac-company"  # stored beside the delivery's headers by the route


def pac_event_id(company_id: str, body: object) -> str | None:
    """Alanube sends no event id: document id + legal status is one notice (None if unreadable)."""
    if not isinstance(body, dict):
        return None
    document_id, status = body.get("id"), body.get("legalStatus")
    if not isinstance(document_id, str | int) or not isinstance(status, str) or not str(document_id).strip():
        return None
    return f"{company_id}:{str(document_id).strip()}:{status.strip().upper()}"[:200]


class PacWebhookProcessor:
    def __init__(self, bus: MessageBus) -> None:
        self._bus = bus

    def __call__(self, event: WebhookEventView) -> WebhookOutcome:
        if event.tenant_id is None:
            company = event.headers.get(COMPANY_HEADER, "?")
            return WebhookOutcome.unmatched(f"no tenant has the PAC company id {company[:64]!r}")
        body = json_object(event)
        document_id = text(body, "id", required=True, max_length=128) or ""
        status = (text(body, "legalStatus", required=True, max_length=32) or "").upper()
        if status not in LegalStatus.__members__ or status == LegalStatus.NONE:
            raise PermanentJobError(f"the field legalStatus is not a PAC status: {status[:32]!r}")
        result: PacSynced = self._bus.handle(
            SyncPacDocument(
                actor=pac_actor(event.tenant_id, event.headers.get("x-user-id")),
                document_id=document_id,
                notice_status=status,
                cufe=text(body, "cufe", max_length=128),
                message=text(body, "message", max_length=2000),
            )
        )
        kept = "".join(
            f", {what} {file_id}" for what, file_id in (("PDF", result.file_id), ("XML", result.xml_file_id)) if file_id
        )
        if result.credit_note_id is not None:
            return WebhookOutcome.processed(f"credit note {result.credit_note_id} is {result.legal_status}{kept}")
        if result.invoice_id is None:
            return WebhookOutcome.unmatched(
                f"no invoice or credit note has the PAC document id {document_id[:64]!r}"
            )
        return WebhookOutcome.processed(f"invoice {result.invoice_id} is {result.legal_status}{kept}")


def sync_job(bus: MessageBus):  # type: ignore[no-untyped-def]
    """``pac.sync``: the poller's job, one per invoice or credit note."""

    def run(job: Job) -> None:
        if job.tenant_id is None or not job.payload.get("document_id"):
            raise PermanentJobError("a pac.sync job names a tenant and a document id")
        bus.handle(SyncPacDocument(actor=pac_actor(job.tenant_id), document_id=str(job.payload["document_id"])))

    return run


def poll_job(bus: MessageBus):  # type: ignore[no-untyped-def]
    def run(job: Job) -> None:
        bus.handle(QueueStalePacDocuments(actor=None, slot=job.idempotency_key or job.id))

    return run
