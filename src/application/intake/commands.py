"""Commands and queries of document intake."""

from __future__ import annotations

from dataclasses import dataclass

from application.shared.messages import Command, Query
from domain.intake.model import IntakeOutcome

PROCESS_JOB = "intake.process"


@dataclass(frozen=True, slots=True, kw_only=True)
class IngestFile(Command):
    """Turn a stored file into records: an intake is created and its job queued."""

    file_id: str
    kind: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryDocumentIntake(Command):
    intake_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BeginDocumentIntake(Command):
    """The job's first step: the intake (if still PENDING) and what it needs to read its file."""

    intake_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FinishDocumentIntake(Command):
    intake_id: str
    run: int
    outcome: IntakeOutcome


@dataclass(frozen=True, slots=True, kw_only=True)
class GetDocumentIntake(Query):
    intake_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FindDocumentIntakes(Query):
    status: str | None = None
    first: int | None = None
    after: str | None = None
