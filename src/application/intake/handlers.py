"""Use cases of document intake: ingest a file (intake + job in one transaction), retry, read, finish."""

from __future__ import annotations

from dataclasses import dataclass

from application.intake.commands import (
    PROCESS_JOB,
    BeginDocumentIntake,
    FindDocumentIntakes,
    FinishDocumentIntake,
    GetDocumentIntake,
    IngestFile,
    RetryDocumentIntake,
)
from application.intake.ports import IntakeUnitOfWork
from application.intake.views import DocumentIntakeCursor, DocumentIntakeView, intake_view
from application.shared.actors import tenant_actor
from application.shared.messages import Page, page_size
from application.shared.ports import Clock
from domain.intake.model import (
    DocumentIntake,
    DocumentIntakeNotFound,
    DocumentKind,
    IntakeStatus,
    ending,
    retried,
)
from domain.shared.errors import NotFound
from domain.shared.model import new_id, parse_id

DEFAULT_PAGE = 20
MAX_PAGE = 100


class FileNotFound(NotFound):
    code = "FILE_NOT_FOUND"


@dataclass(frozen=True, slots=True, kw_only=True)
class IntakeWork:
    """What the job needs to read an intake's file."""

    intake: DocumentIntakeView
    earlier: DocumentIntakeView | None
    """Another intake of these very bytes that already made records: this one is their duplicate."""
    sha256: str
    size: int
    mime: str
    name: str


def _job(intake: DocumentIntake) -> dict[str, object]:
    return {"intake_id": intake.id, "run": intake.runs}


class IngestFileHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: IngestFile, uow: IntakeUnitOfWork) -> DocumentIntakeView:
        actor = tenant_actor(cmd.actor)
        file_id = parse_id(cmd.file_id, field="fileId")
        kind = DocumentKind.parse(cmd.kind)
        now = self._clock.now()
        with uow:
            if uow.file_views.get(file_id) is None:
                raise FileNotFound(f"file {file_id} not found", field="fileId")
            intake = DocumentIntake(
                id=new_id(), tenant_id=actor.tenant_id, file_id=file_id, kind=kind, created_by=actor.user_id,
                created_at=now, updated_at=now,
            )
            uow.document_intakes.add(intake)
            uow.jobs.enqueue(PROCESS_JOB, _job(intake), idempotency_key=intake.job_key)
            uow.commit()
        return intake_view(intake)


class RetryDocumentIntakeHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: RetryDocumentIntake, uow: IntakeUnitOfWork) -> DocumentIntakeView:
        tenant_actor(cmd.actor)
        intake_id = parse_id(cmd.intake_id, field="id")
        with uow:
            intake = uow.document_intakes.get_for_update(intake_id)
            if intake is None:
                raise DocumentIntakeNotFound(f"document intake {intake_id} not found", field="id")
            again = retried(intake, now=self._clock.now())
            uow.document_intakes.save(again)
            uow.jobs.enqueue(PROCESS_JOB, _job(again), idempotency_key=again.job_key)
            uow.commit()
        return intake_view(again)


class BeginDocumentIntakeHandler:
    def __call__(self, cmd: BeginDocumentIntake, uow: IntakeUnitOfWork) -> IntakeWork | None:
        with uow:
            intake, earlier = uow.document_intakes.get_with_earlier(parse_id(cmd.intake_id, field="intakeId"))
            if intake is None or intake.finished:
                return None
            file = uow.file_views.get(intake.file_id)  # a view: one row, no links loaded
            if file is None:
                return IntakeWork(intake=intake_view(intake), earlier=None, sha256="", size=0, mime="", name="")
            return IntakeWork(
                intake=intake_view(intake), earlier=intake_view(earlier) if earlier else None, sha256=file.sha256,
                size=file.size, mime=file.mime, name=file.name,
            )


class FinishDocumentIntakeHandler:
    """End the run with its outcome, in one conditional write: nothing when another run of the job
    finished it or a retry began another run meanwhile. Whether it ended it."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: FinishDocumentIntake, uow: IntakeUnitOfWork) -> bool:
        end = ending(cmd.outcome, now=self._clock.now())
        with uow:
            done = uow.document_intakes.finish(cmd.intake_id, cmd.run, end)
            uow.commit()
        return done


class GetDocumentIntakeHandler:
    def __call__(self, query: GetDocumentIntake, uow: IntakeUnitOfWork) -> DocumentIntakeView:
        tenant_actor(query.actor)
        intake_id = parse_id(query.intake_id, field="id")
        with uow:
            view = uow.document_intake_views.get(intake_id)
        if view is None:
            raise DocumentIntakeNotFound(f"document intake {intake_id} not found", field="id")
        return view


class FindDocumentIntakesHandler:
    def __call__(self, query: FindDocumentIntakes, uow: IntakeUnitOfWork) -> Page[DocumentIntakeView]:
        tenant_actor(query.actor)
        first = page_size(query.first, default=DEFAULT_PAGE, maximum=MAX_PAGE)
        status = IntakeStatus.parse(query.status) if query.status else None
        after = DocumentIntakeCursor.decode(query.after) if query.after else None
        with uow:
            rows = uow.document_intake_views.find(status=status, first=first + 1, after=after)
        return Page.of(rows, first, lambda item: DocumentIntakeCursor.of(item).encode())
