"""The ``intake.process`` job: read the file, route it to a strategy, hand the result to the domain
that keeps it (banking, purchases) through the bus, and record how it ended on the intake.

Each domain writes its records in one transaction and finds them again by the intake's id when a
job runs twice, so a crash between the records and the intake's outcome loses nothing and doubles
nothing. A file that cannot be read ends FAILED (the job succeeds: trying again cannot help); an
unexpected error is raised so that the job runner retries it.
"""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

import structlog

from application.banking.commands import ImportBankStatement, ListBankImportProfiles
from application.chats.extraction import ExtractDocumentFields, ExtractedFields, ExtractionUnavailable
from application.files.commands import LinkFile
from application.files.keeping import blob_key
from application.files.ports import FileStorage
from application.intake.commands import BeginDocumentIntake, FinishDocumentIntake
from application.intake.extraction import INSTRUCTIONS, INVOICE_SCHEMA, invoice_from_extraction
from application.intake.handlers import IntakeWork
from application.intake.ports import (
    DgiLookup,
    DgiLookupUnavailable,
    DgiQr,
    IntakeContext,
    IntakeLimits,
    NeedsExtraction,
    Parsed,
    Strategies,
    Unmatched,
    UnreadableDocument,
)
from application.intake.router import route
from application.jobs.errors import PermanentJobError
from application.purchases.commands import RecordSupplierInvoice
from application.shared.modules import Messages
from domain.banking.statements import ImportResult, ParsedStatement
from domain.intake.model import IntakeOutcome, IntakeStatus, RecordRef
from domain.jobs.model import Job
from domain.purchases.invoices import DOCUMENT_TYPES, InvoiceSource, ParsedInvoice, cufe_parts, cufe_problems
from domain.shared.errors import NotFound

log = structlog.get_logger(__name__)

_LINKED_AS = {"BANK_STATEMENT": "BANK_STATEMENT", "SUPPLIER_INVOICE": "EXPENSE"}


class IntakeJob:
    def __init__(
        self, messages: Messages, storage: FileStorage, strategies: Strategies, limits: IntakeLimits,
        dgi_lookup: DgiLookup | None,
    ) -> None:
        self._messages = messages
        self._storage = storage
        self._strategies = strategies
        self._limits = limits
        self._dgi = dgi_lookup

    def __call__(self, job: Job) -> None:
        intake_id = str(job.payload.get("intake_id") or "")
        if not intake_id or job.tenant_id is None:
            raise PermanentJobError("the job names no intake or tenant")
        tenant = job.tenant_id
        work: IntakeWork | None = self._messages.handle(BeginDocumentIntake(actor=None, intake_id=intake_id), tenant_id=tenant)
        if work is None:
            return  # finished by an earlier run
        try:
            outcome = self.run(work, tenant)
        except Exception as error:
            if job.attempts >= job.max_attempts:  # the last attempt: the intake ends, saying why
                reason = f"the intake failed {job.attempts} times; the last error: {type(error).__name__}: {error}"
                self._messages.handle(FinishDocumentIntake(
                    actor=None, intake_id=intake_id, run=work.intake.runs,
                    outcome=IntakeOutcome(status=IntakeStatus.FAILED, reasons=(reason,)),
                ), tenant_id=tenant)
            raise
        if outcome.status in (IntakeStatus.PARSED, IntakeStatus.NEEDS_REVIEW):
            self._link(work.intake.file_id, outcome.records, tenant)
        self._messages.handle(
            FinishDocumentIntake(actor=None, intake_id=intake_id, run=work.intake.runs, outcome=outcome), tenant_id=tenant
        )
        log.info("intake.finished", intake_id=intake_id, status=str(outcome.status), strategy=outcome.strategy)

    def _link(self, file_id: str, records: tuple[RecordRef, ...], tenant: str) -> None:
        """The file is linked to what it became (kept, even if it was a temporary upload, and found
        by ``findFilesByEntity``); linking again is harmless, so a job run twice does no harm."""
        for record in records:
            entity = _LINKED_AS.get(record.type)
            if entity is None:
                continue
            try:
                self._messages.handle(
                    LinkFile(actor=None, file_id=file_id, entity_type=entity, entity_id=record.id), tenant_id=tenant
                )
            except NotFound:  # the file was deleted meanwhile: the records stand on their own
                log.info("intake.file_gone", file_id=file_id)

    def run(self, work: IntakeWork, tenant: str) -> IntakeOutcome:
        if not work.sha256:
            return IntakeOutcome(status=IntakeStatus.FAILED, reasons=("the file was deleted before it was read",))
        if work.earlier is not None:  # the same bytes (files are kept once per content) made records before
            return IntakeOutcome(
                status=IntakeStatus.DUPLICATE, strategy=work.earlier.strategy, records=work.earlier.records,
                reasons=(f"this file was imported before (intake {work.earlier.id}); nothing new was recorded",),
            )
        if work.size > self._limits.max_bytes:
            return IntakeOutcome(
                status=IntakeStatus.UNSUPPORTED,
                reasons=(f"the file has {work.size} bytes, more than the {self._limits.max_bytes} intake reads",),
            )
        content = b"".join(self._storage.read(blob_key(tenant, work.sha256)))
        chosen = route(content, self._strategies, work.intake.kind)
        if chosen.strategy is None:
            return IntakeOutcome(status=IntakeStatus.UNSUPPORTED, reasons=(chosen.reason or "unknown format",))
        strategy = chosen.strategy
        context = IntakeContext()
        if strategy.uses_profiles:
            context = IntakeContext(profiles=self._messages.handle(ListBankImportProfiles(actor=None), tenant_id=tenant))
        try:
            parsed = strategy.parse(content, context)
        except UnreadableDocument as error:
            return IntakeOutcome(status=IntakeStatus.FAILED, strategy=strategy.name, reasons=(error.reason,))
        return self._keep(parsed, strategy.name, work, tenant)

    def _keep(self, parsed: Parsed, strategy: str, work: IntakeWork, tenant: str) -> IntakeOutcome:
        intake_id, file_id = work.intake.id, work.intake.file_id
        if isinstance(parsed, Unmatched):
            return IntakeOutcome(status=IntakeStatus.NEEDS_REVIEW, strategy=strategy, reasons=(parsed.reason,))
        if isinstance(parsed, ParsedStatement):
            return self._statement(parsed, strategy, intake_id, file_id, tenant)
        notes: tuple[str, ...] = ()
        if isinstance(parsed, DgiQr):
            parsed, notes = self._from_qr(parsed)
            strategy = "dgi-qr"
        elif isinstance(parsed, NeedsExtraction):
            extracted = self._extract(file_id, tenant)
            if isinstance(extracted, str):
                return IntakeOutcome(
                    status=IntakeStatus.NEEDS_REVIEW, strategy="ai-extraction", reasons=(parsed.reason, extracted)
                )
            parsed, strategy = extracted, "ai-extraction"
        recorded = self._messages.handle(
            RecordSupplierInvoice(actor=None, intake_id=intake_id, file_id=file_id, invoice=parsed, notes=notes),
            tenant_id=tenant,
        )
        records = (RecordRef("SUPPLIER_INVOICE", recorded.invoice_id),)
        if recorded.duplicate:
            return IntakeOutcome(
                status=IntakeStatus.DUPLICATE, strategy=strategy, records=records,
                reasons=(f"an invoice with CUFE {parsed.cufe} was recorded before",),
            )
        if recorded.problems:
            return IntakeOutcome(
                status=IntakeStatus.NEEDS_REVIEW, strategy=strategy, records=records, reasons=recorded.problems
            )
        return IntakeOutcome(status=IntakeStatus.PARSED, strategy=strategy, records=records)

    def _statement(self, parsed: ParsedStatement, strategy: str, intake_id: str, file_id: str, tenant: str) -> IntakeOutcome:
        if not parsed.transactions:
            reason = "no row of the statement could be read" if parsed.problems else "the statement has no transactions"
            return IntakeOutcome(
                status=IntakeStatus.FAILED if parsed.problems else IntakeStatus.NEEDS_REVIEW,
                strategy=strategy, reasons=(reason,), problems=parsed.problems,
            )
        result: ImportResult = self._messages.handle(
            ImportBankStatement(actor=None, intake_id=intake_id, file_id=file_id, statement=parsed), tenant_id=tenant
        )
        records = (RecordRef("BANK_ACCOUNT", result.account_id),)
        if result.statement_id is None:
            return IntakeOutcome(
                status=IntakeStatus.DUPLICATE, strategy=strategy, records=records, problems=parsed.problems,
                reasons=(f"all {result.known} transactions of the statement were imported before",),
            )
        records += (RecordRef("BANK_STATEMENT", result.statement_id),)
        review = []
        if result.difference is not None and result.difference != Decimal(0):
            moved = sum((t.amount for t in parsed.transactions), Decimal("0.00"))
            review.append(
                f"the opening balance {parsed.opening_balance} plus the transactions ({moved}) is "
                f"{parsed.opening_balance + moved}, but the closing balance is {parsed.closing_balance}: "  # type: ignore[operator]
                f"a difference of {result.difference}"
            )
        if parsed.problems:
            review.append(f"{len(parsed.problems)} row(s) could not be read and were left out (listed)")
        notes = []
        if result.known:
            notes.append(f"{result.known} transaction(s) were imported before and were skipped")
        if result.difference is None:
            notes.append("the file gives no opening balance, so the balance could not be checked")
        status = IntakeStatus.NEEDS_REVIEW if review else IntakeStatus.PARSED
        reasons = review + notes
        return IntakeOutcome(status=status, strategy=strategy, records=records, reasons=tuple(reasons), problems=parsed.problems)

    def _from_qr(self, qr: DgiQr) -> tuple[ParsedInvoice, tuple[str, ...]]:
        """The invoice the DGI has for the QR's CUFE; else a draft of what the CUFE itself carries
        (supplier's RUC and DV, number, date, kind), marked for the accountant to complete."""
        if cufe_problems(qr.cufe):
            found, note = None, "the QR's CUFE is not valid, so the DGI was not asked"
        else:
            try:
                if self._dgi is None:
                    raise DgiLookupUnavailable("none is configured")
                found, note = self._dgi.invoice(qr.cufe), "the DGI lookup found no invoice for the CUFE"
            except DgiLookupUnavailable as error:
                found, note = None, f"the DGI lookup is not available ({error.reason})"
        if found is not None:
            if found.cufe != qr.cufe:
                return found, (f"the DGI lookup answered for CUFE {found.cufe}, not the QR's {qr.cufe}",)
            return ParsedInvoice(**{**_fields(found), "source": InvoiceSource.QR}), ()
        parts = cufe_parts(qr.cufe)
        return ParsedInvoice(
            source=InvoiceSource.QR, supplier_name=None, supplier_ruc=parts.ruc if parts else None,
            supplier_dv=parts.dv if parts else None, receiver_ruc=None,
            number=f"{parts.point_of_sale}-{parts.number}" if parts else None, cufe=qr.cufe,
            document_type=DOCUMENT_TYPES.get(parts.document_type, "INVOICE") if parts else "INVOICE",
            issue_date=parts.issue_date if parts else None, lines=(), subtotal=None, itbms_total=None, total=None,
        ), (note + ": the QR gave the CUFE only; complete the draft",)

    def _extract(self, file_id: str, tenant: str) -> ParsedInvoice | str:
        request = ExtractDocumentFields(
            actor=None, file_id=UUID(file_id), json_schema=INVOICE_SCHEMA, instructions=INSTRUCTIONS,
            schema_name="supplier_invoice",
        )
        try:
            answer: ExtractedFields = self._messages.handle(request, tenant_id=tenant)
        except LookupError:
            return "the AI extraction is not available (no assistant module is installed)"
        except ExtractionUnavailable as error:
            return f"the AI extraction is not available: {error}"
        if not isinstance(answer, ExtractedFields) or not isinstance(answer.data, dict):
            return "the AI extraction answered something other than the invoice's fields"
        return invoice_from_extraction(answer.data)


def _fields(invoice: ParsedInvoice) -> dict[str, object]:
    return {name: getattr(invoice, name) for name in invoice.__dataclass_fields__}
