"""Document intake through the bus on in-memory fakes: the job's steps, what each outcome writes,
and that a failure part-way leaves nothing half-written (the job runs again and finishes)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest

from adapters.intake.strategies import default_strategies
from adapters.storage.mime import SniffingMimeDetector
from application.banking.commands import ImportBankStatement
from application.chats.extraction import ExtractDocumentFields, ExtractedFields
from application.files.commands import AddFile, FilePolicy
from application.files.staging import stage_chunks
from application.intake.commands import PROCESS_JOB, GetDocumentIntake, IngestFile, RetryDocumentIntake
from application.intake.ports import IntakeLimits
from application.invoicing.profiles import GetTenantProfile, UpdateTenantProfile
from application.modules import MODULES, build_service
from application.purchases.company import KEPT_FOR
from application.shared.modules import DomainModule, Registrations
from application.tenancy.handlers import CreateTenant
from domain.intake.model import IntakeStatus
from domain.jobs.model import JobStatus
from domain.shared.errors import DomainError
from domain.tenancy.model import Actor, Role
from tests.fakes.clock import FakeClock
from tests.fakes.storage import FakeFileStorage
from tests.fakes.uow import FakeStore, fake_uow_factory
from tests.intake_documents import COMPANY_PROFILE, camt053, dgi_xml, lines, total

OPENING = Decimal("100.00")


class World:
    def __init__(
        self, *, extracted: dict[str, Any] | None = None, fail_import: int = 0, limits: IntakeLimits | None = None,
        sharing: World | None = None,
    ) -> None:
        """``sharing``: another process of the same service (its database, files and time)."""
        self.clock = sharing.clock if sharing else FakeClock()
        self.store = sharing.store if sharing else FakeStore()
        self.storage = sharing.storage if sharing else FakeFileStorage(self.clock)
        self.fail_import = fail_import
        extra = []
        if extracted is not None:
            extra.append(DomainModule(name="fake_chats", register=lambda deps: Registrations(handlers={
                ExtractDocumentFields: lambda cmd, uow: ExtractedFields(data=extracted, provider="fake", model="m"),
            })))
        assembly = build_service(
            modules=tuple(m for m in MODULES if m.name != "chats") + tuple(extra),
            uow_factory=fake_uow_factory(self.store, self.clock), storage=self.storage, mime=SniffingMimeDetector(),
            clock=self.clock, file_policy=FilePolicy(), intake_strategies=default_strategies(limits or IntakeLimits()),
            intake_limits=limits,
        )
        self.bus = assembly.bus
        self.job = assembly.job_handlers[PROCESS_JOB]
        if fail_import:  # the banking handler dies before it commits, ``fail_import`` times
            handler = self.bus._handlers[ImportBankStatement]

            def flaky(cmd: Any, uow: Any) -> Any:
                if self.fail_import:
                    self.fail_import -= 1
                    with uow:
                        uow.banking.add_account(dataclasses.replace(_any_account(), tenant_id=uow.banking.tenant_id))
                        raise ConnectionError("the database went away")
                return handler(cmd, uow)

            self.bus._handlers[ImportBankStatement] = flaky

    def tenant(self, slug: str) -> Actor:
        created = self.bus.handle(CreateTenant(actor=None, slug=slug, name=slug.title()))
        return Actor(tenant_id=created.tenant_id, user_id=f"owner@{slug}.pa", role=Role.OWNER)

    def ingest(self, actor: Actor, data: bytes, **kw: Any) -> Any:
        staged = stage_chunks(self.storage, [data], max_size=1 << 30)
        file = self.bus.handle(AddFile(actor=actor, content=staged, name="doc.bin"))
        return self.bus.handle(IngestFile(actor=actor, file_id=file.id, **kw))

    def run_jobs(self) -> list[Exception]:
        errors = []
        for job in list(self.store.jobs.values()):
            if job.kind == PROCESS_JOB and job.status is JobStatus.QUEUED:
                try:
                    self.job(dataclasses.replace(job, status=JobStatus.RUNNING, attempts=1))
                    self.store.jobs[job.id] = dataclasses.replace(job, status=JobStatus.SUCCEEDED)
                except Exception as error:  # noqa: BLE001 - the runner would retry it
                    errors.append(error)
        return errors

    def intake(self, actor: Actor, intake_id: str) -> Any:
        return self.bus.handle(GetDocumentIntake(actor=actor, intake_id=intake_id))


def _any_account() -> Any:
    from datetime import UTC, datetime

    from domain.banking.statements import BankAccount

    return BankAccount(id="00000000-0000-4000-8000-000000000001", tenant_id="", bank="X", number_masked="****",
                       key="k", currency="USD", created_at=datetime(2026, 1, 1, tzinfo=UTC))


def test_ingesting_queues_one_job_and_the_job_imports_the_statement() -> None:
    world = World()
    acme = world.tenant("acme")
    items = lines(4)
    pending = world.ingest(acme, camt053(items, opening=OPENING, closing=OPENING + total(items)))
    assert pending.status is IntakeStatus.PENDING
    assert [j.payload for j in world.store.jobs.values() if j.kind == PROCESS_JOB] == [{"intake_id": pending.id, "run": 0}]
    assert world.run_jobs() == []
    done = world.intake(acme, pending.id)
    assert done.status is IntakeStatus.PARSED
    assert len(world.store.bank_transactions) == 4 and len(world.store.bank_statements) == 1


def test_a_failure_part_way_leaves_nothing_and_the_next_run_finishes() -> None:
    world = World(fail_import=1)
    acme = world.tenant("acme")
    items = lines(3)
    pending = world.ingest(acme, camt053(items, opening=OPENING, closing=OPENING + total(items)))
    [error] = world.run_jobs()
    assert isinstance(error, ConnectionError)
    assert world.store.bank_accounts == {} and world.store.bank_transactions == {}
    assert world.intake(acme, pending.id).status is IntakeStatus.PENDING
    assert world.run_jobs() == []
    assert world.intake(acme, pending.id).status is IntakeStatus.PARSED
    assert len(world.store.bank_transactions) == 3


def test_a_job_run_twice_records_once() -> None:
    world = World()
    acme = world.tenant("acme")
    world.bus.handle(UpdateTenantProfile(actor=acme, **COMPANY_PROFILE))
    pending = world.ingest(acme, dgi_xml())
    [job] = [j for j in world.store.jobs.values() if j.kind == PROCESS_JOB]
    running = dataclasses.replace(job, status=JobStatus.RUNNING, attempts=1)
    world.job(running)
    world.job(running)  # a worker whose lease expired runs it again
    assert len(world.store.supplier_invoices) == 1
    assert world.intake(acme, pending.id).status is IntakeStatus.PARSED


def test_retry_only_after_an_end_that_can_change_and_only_for_the_owner() -> None:
    world = World()
    acme, globex = world.tenant("acme"), world.tenant("globex")
    pending = world.ingest(acme, b"no format at all")
    with pytest.raises(DomainError) as early:
        world.bus.handle(RetryDocumentIntake(actor=acme, intake_id=pending.id))
    assert early.value.code == "DOCUMENT_INTAKE_NOT_RETRYABLE"
    world.run_jobs()
    assert world.intake(acme, pending.id).status is IntakeStatus.UNSUPPORTED
    with pytest.raises(DomainError) as other:
        world.bus.handle(RetryDocumentIntake(actor=globex, intake_id=pending.id))
    assert other.value.code == "DOCUMENT_INTAKE_NOT_FOUND"
    again = world.bus.handle(RetryDocumentIntake(actor=acme, intake_id=pending.id))
    assert (again.status, again.runs) == (IntakeStatus.PENDING, 1)
    assert len([j for j in world.store.jobs.values() if j.kind == PROCESS_JOB]) == 2


@pytest.mark.parametrize(
    ("kind", "field"), [("RECEIPT", "kind"), ("bank statement", "kind")],
)
def test_a_wrong_kind_is_refused_before_anything_is_written(kind: str, field: str) -> None:
    world = World()
    acme = world.tenant("acme")
    commits = world.store.commits
    with pytest.raises(DomainError) as refused:
        world.ingest(acme, b"x", kind=kind)
    assert refused.value.field == field
    assert world.store.document_intakes == {} and world.store.commits == commits + 1  # only the file was kept


EXTRACTED = {
    "supplierName": "Fonda", "supplierRuc": "8-765-4321", "supplierDv": "3", "number": "7",
    "issueDate": "2026-11-28", "cufe": None, "subtotal": "10.00", "itbmsTotal": "0.70", "total": "10.70",
    "lines": [{"description": "Almuerzo", "quantity": "1", "unitPrice": "10.00", "amount": "10.00",
               "itbmsRate": "7", "itbms": "0.70"}],
}


def _blank_png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (60, 60), 255).save(out, "PNG")
    return out.getvalue()


def test_a_photo_without_qr_is_read_by_the_assistant_into_a_draft() -> None:
    world = World(extracted=EXTRACTED)
    acme = world.tenant("acme")
    pending = world.ingest(acme, _blank_png())
    world.run_jobs()
    done = world.intake(acme, pending.id)
    assert (done.status, done.strategy) == (IntakeStatus.PARSED, "ai-extraction")
    [invoice] = world.store.supplier_invoices.values()
    assert (str(invoice.status), invoice.total, invoice.checked) == ("DRAFT", Decimal("10.70"),
                                                                   ("supplierRuc", "itbmsRates", "totals"))


def test_a_damaged_photo_fails_naming_it_and_asks_no_one() -> None:
    world = World()
    acme = world.tenant("acme")
    pending = world.ingest(acme, b"\x89PNG\r\n\x1a\n" + b"\x00" * 8)
    world.run_jobs()
    done = world.intake(acme, pending.id)
    assert done.status is IntakeStatus.FAILED
    assert "the image cannot be read" in done.reasons[0]
    assert world.store.supplier_invoices == {}


def test_a_file_at_the_size_limit_is_read_and_one_byte_more_is_not() -> None:
    data = b"plain words and no statement"
    for limit, expected in ((len(data), "is not a bank statement or supplier invoice format"),
                            (len(data) - 1, f"the file has {len(data)} bytes, more than the {len(data) - 1} intake reads")):
        world = World(limits=IntakeLimits(max_bytes=limit))
        acme = world.tenant("acme")
        pending = world.ingest(acme, data)
        world.run_jobs()
        done = world.intake(acme, pending.id)
        assert done.status is IntakeStatus.UNSUPPORTED and expected in done.reasons[0]


def test_a_generic_xlsx_is_read_by_its_profile_and_a_title_row_is_not_a_header() -> None:
    import io

    from openpyxl import Workbook

    from application.banking.commands import SaveBankImportProfile

    book = Workbook()
    sheet = book.active
    sheet.append(["Movimientos de la cuenta"])
    sheet.append(["Date", "Details", "Debit", "Credit"])
    sheet.append(["2026-11-03", "Cheque 12", 25.5, None])
    sheet.append(["2026-11-04", "Deposito", None, 100])
    sheet.append(["2026-11-31", "Bad day", None, 1])
    out = io.BytesIO()
    book.save(out)
    world = World()
    acme = world.tenant("acme")
    world.bus.handle(SaveBankImportProfile(
        actor=acme, name="Otro banco", bank="Otro", account_number="99-887766", currency="USD", date_column="date",
        description_column="DETAILS", debit_column="Debit", credit_column="Credit", date_format="YYYY-MM-DD",
    ))
    pending = world.ingest(acme, out.getvalue())
    world.run_jobs()
    done = world.intake(acme, pending.id)
    assert (done.status, done.strategy) == (IntakeStatus.NEEDS_REVIEW, "xlsx")
    assert [(p.row, p.message) for p in done.problems] == [(5, "'2026-11-31' is not a date in YYYY-MM-DD")]
    assert sorted(t.amount for t in world.store.bank_transactions.values()) == [Decimal("-25.50"), Decimal(100)]


def test_an_intake_whose_last_attempt_fails_ends_failed_and_can_be_retried() -> None:
    world = World(fail_import=2)
    acme = world.tenant("acme")
    items = lines(2)
    pending = world.ingest(acme, camt053(items, opening=OPENING, closing=OPENING + total(items)))
    [job] = [j for j in world.store.jobs.values() if j.kind == PROCESS_JOB]
    with pytest.raises(ConnectionError):
        world.job(dataclasses.replace(job, status=JobStatus.RUNNING, attempts=job.max_attempts))
    failed = world.intake(acme, pending.id)
    assert failed.status is IntakeStatus.FAILED
    assert failed.reasons == (f"the intake failed {job.max_attempts} times; the last error: ConnectionError: the database went away",)
    world.bus.handle(RetryDocumentIntake(actor=acme, intake_id=pending.id))
    world.fail_import = 0
    world.run_jobs()
    assert world.intake(acme, pending.id).status is IntakeStatus.PARSED


def test_an_extraction_with_amounts_past_the_cent_or_the_column_is_a_draft_not_a_crash() -> None:
    world = World(extracted={**EXTRACTED, "total": "10.705", "subtotal": "1" * 20, "supplierDv": "12345"})
    acme = world.tenant("acme")
    pending = world.ingest(acme, _blank_png())
    assert world.run_jobs() == []
    done = world.intake(acme, pending.id)
    assert done.status is IntakeStatus.NEEDS_REVIEW
    assert "the total 10.705 is not an amount to the cent" in done.reasons
    assert f"the subtotal {'1' * 20} is not an amount to the cent" in done.reasons
    assert "the supplier's DV '1234' is not one or two digits" in done.reasons  # read at most 4 characters
    [invoice] = world.store.supplier_invoices.values()
    assert (invoice.total, invoice.subtotal, invoice.supplier_dv) == (Decimal("10.71"), None, "1234")


def test_only_owners_and_admins_save_bank_import_profiles() -> None:
    from application.banking.commands import SaveBankImportProfile
    from tests.intake_documents import CSV_PROFILE

    world = World()
    owner = world.tenant("acme")
    member = Actor(tenant_id=owner.tenant_id, user_id="staff@acme.pa", role=Role.MEMBER)
    with pytest.raises(DomainError) as refused:
        world.bus.handle(SaveBankImportProfile(actor=member, **CSV_PROFILE))
    assert refused.value.code == "PERMISSION_DENIED"
    assert world.store.bank_profiles == {}


def test_the_receiver_is_checked_against_the_tenants_own_fiscal_profile_as_it_is_now() -> None:
    world = World()
    acme, globex = world.tenant("acme"), world.tenant("globex")
    world.bus.handle(UpdateTenantProfile(actor=globex, **COMPANY_PROFILE))  # another tenant's profile counts for nothing
    first = world.ingest(acme, dgi_xml(number="1"))
    world.run_jobs()
    unset = "the tenant's fiscal profile (updateTenantProfile) is not saved, so the receiver's RUC could not be checked"
    assert world.intake(acme, first.id).reasons == (unset,)
    world.bus.handle(UpdateTenantProfile(actor=acme, **{**COMPANY_PROFILE, "ruc": "8-999-9999", "dv": "1"}))
    second = world.ingest(acme, dgi_xml(number="2"))
    world.run_jobs()
    assert world.intake(acme, second.id).reasons == (
        f"the invoice is addressed to RUC {COMPANY_PROFILE['ruc']}, not to the company's 8-999-9999",
    )
    world.bus.handle(UpdateTenantProfile(actor=acme, **COMPANY_PROFILE))
    third = world.ingest(acme, dgi_xml(number="3"))
    world.run_jobs()
    done = world.intake(acme, third.id)
    assert (done.status, done.reasons) == (IntakeStatus.PARSED, ())
    invoice = world.store.supplier_invoices[done.records[0].id]
    assert (str(invoice.status), "receiverRuc" in invoice.checked) == ("CONFIRMED", True)


def test_the_fiscal_profile_is_read_once_for_many_invoices_and_never_fails_a_check_when_kept() -> None:
    worker = World()
    web = World(sharing=worker)  # where the accountant saves the profile: another process
    reads = []
    handler = worker.bus._handlers[GetTenantProfile]
    worker.bus._handlers[GetTenantProfile] = lambda query, uow: reads.append(1) or handler(query, uow)
    acme = web.tenant("acme")
    web.bus.handle(UpdateTenantProfile(actor=acme, **COMPANY_PROFILE))

    def outcome(receiver: str) -> tuple[IntakeStatus, tuple[str, ...]]:
        intake = worker.ingest(acme, dgi_xml(number=str(len(worker.store.supplier_invoices) + 1), receiver=receiver))
        assert worker.run_jobs() == []
        done = worker.intake(acme, intake.id)
        return done.status, done.reasons

    old, new = COMPANY_PROFILE["ruc"], "8-999-9999"
    assert [outcome(old), outcome(old), len(reads)] == [(IntakeStatus.PARSED, ())] * 2 + [1]
    web.bus.handle(UpdateTenantProfile(actor=acme, **{**COMPANY_PROFILE, "ruc": new, "dv": "1"}))
    assert outcome(new) == (IntakeStatus.PARSED, ()) and len(reads) == 2  # the kept copy failed it: read again
    mismatch = (IntakeStatus.NEEDS_REVIEW, (f"the invoice is addressed to RUC {old}, not to the company's {new}",))
    assert outcome(old) == mismatch and len(reads) == 3  # failed on a fresh read only
    worker.clock.advance(KEPT_FOR)
    assert outcome(new) == (IntakeStatus.PARSED, ()) and len(reads) == 4  # kept no longer than KEPT_FOR
    worker.bus.handle(UpdateTenantProfile(actor=acme, **COMPANY_PROFILE))  # saved in this process: forgotten at once
    assert outcome(new) == (
        IntakeStatus.NEEDS_REVIEW, (f"the invoice is addressed to RUC {new}, not to the company's {old}",)
    )


def test_purchases_and_intake_are_left_out_without_invoicing_which_keeps_the_tenants_ruc() -> None:
    clock = FakeClock()
    assembly = build_service(
        modules=tuple(m for m in MODULES if m.name not in ("chats", "invoicing")),
        uow_factory=fake_uow_factory(FakeStore(), clock), storage=FakeFileStorage(clock), mime=SniffingMimeDetector(),
        clock=clock, file_policy=FilePolicy(), intake_strategies=default_strategies(IntakeLimits()),
    )
    assert assembly.left_out["purchases"] == "needs the module(s) invoicing"
    assert assembly.left_out["intake"] == "needs the module(s) purchases"


def test_a_temporary_upload_is_kept_and_linked_to_what_it_became() -> None:
    world = World()
    acme = world.tenant("acme")
    world.bus.handle(UpdateTenantProfile(actor=acme, **COMPANY_PROFILE))
    staged = stage_chunks(world.storage, [dgi_xml()], max_size=1 << 30)
    file = world.bus.handle(AddFile(actor=acme, content=staged, name="f.xml", temporary=True))
    pending = world.bus.handle(IngestFile(actor=acme, file_id=file.id))
    world.run_jobs()
    done = world.intake(acme, pending.id)
    [stored] = world.store.files_of(acme.tenant_id)
    assert (str(stored.status), stored.expires_at) == ("READY", None)
    assert [(str(link.entity_type), link.entity_id) for link in stored.links] == [("EXPENSE", done.records[0].id)]
