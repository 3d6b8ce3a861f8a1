"""Document intake: one uploaded file on its way to becoming business records.

An intake starts PENDING and ends PARSED (records created), NEEDS_REVIEW (records, or a draft,
kept with the reasons a person must look at), DUPLICATE (nothing new in it), UNSUPPORTED (no
strategy reads it, or it is not the kind asked for) or FAILED (the file is broken). Each end
names the strategy that read the file, its reasons, the per-row problems and the records made.
A retry starts it again (a job runs it); the records made before are found again, never doubled.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from domain.banking.statements import RowProblem
from domain.shared.errors import Conflict, InvalidInput, NotFound

MAX_REASONS = 50
MAX_PROBLEMS = 200
MAX_TEXT = 500


class IntakeStatus(StrEnum):
    PENDING = "PENDING"
    PARSED = "PARSED"
    NEEDS_REVIEW = "NEEDS_REVIEW"
    DUPLICATE = "DUPLICATE"
    UNSUPPORTED = "UNSUPPORTED"
    FAILED = "FAILED"

    @classmethod
    def parse(cls, value: object, *, field: str = "status") -> IntakeStatus:
        try:
            return cls(str(value).strip().upper())
        except ValueError:
            raise InvalidInput(f"{field} must be one of {', '.join(cls)}, not {str(value)[:32]!r}", field=field) from None


class DocumentKind(StrEnum):
    """What the user says the file is (optional): the router must then find that kind."""

    BANK_STATEMENT = "BANK_STATEMENT"
    SUPPLIER_INVOICE = "SUPPLIER_INVOICE"

    @classmethod
    def parse(cls, value: object, *, field: str = "kind") -> DocumentKind | None:
        if value is None or value == "":
            return None
        try:
            return cls(str(value).strip().upper())
        except ValueError:
            raise InvalidInput(f"{field} must be one of {', '.join(cls)}, not {str(value)[:32]!r}", field=field) from None


RETRYABLE = frozenset({IntakeStatus.NEEDS_REVIEW, IntakeStatus.UNSUPPORTED, IntakeStatus.FAILED})


class DocumentIntakeNotFound(NotFound):
    code = "DOCUMENT_INTAKE_NOT_FOUND"


class IntakeNotRetryable(Conflict):
    code = "DOCUMENT_INTAKE_NOT_RETRYABLE"


@dataclass(frozen=True, slots=True)
class RecordRef:
    """A record the intake made or found: ``BANK_STATEMENT``, ``SUPPLIER_INVOICE``, ..."""

    type: str
    id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class IntakeOutcome:
    """How one run ended, as the strategy and the receiving domain saw it."""

    status: IntakeStatus
    strategy: str | None = None
    reasons: tuple[str, ...] = ()
    problems: tuple[RowProblem, ...] = ()
    records: tuple[RecordRef, ...] = ()

    def __post_init__(self) -> None:
        if self.status is IntakeStatus.PENDING:
            raise ValueError("an outcome is never PENDING")
        if self.status is not IntakeStatus.PARSED and not self.reasons:
            raise ValueError(f"a {self.status} outcome says why")


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentIntake:
    id: str
    tenant_id: str
    file_id: str
    kind: DocumentKind | None
    status: IntakeStatus = IntakeStatus.PENDING
    strategy: str | None = None
    reasons: tuple[str, ...] = ()
    problems: tuple[RowProblem, ...] = ()
    records: tuple[RecordRef, ...] = ()
    runs: int = 0
    created_by: str | None = None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None

    @property
    def job_key(self) -> str:
        """The idempotency key of this intake's current run."""
        return f"intake:{self.id}:{self.runs}"

    @property
    def finished(self) -> bool:
        return self.status is not IntakeStatus.PENDING

    @property
    def made_records(self) -> bool:
        """Whether it imported a statement or recorded an invoice (not only found an account)."""
        return any(record.type in ("BANK_STATEMENT", "SUPPLIER_INVOICE") for record in self.records)


def _clip(text: str) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= MAX_TEXT else flat[: MAX_TEXT - 1] + "…"


@dataclass(frozen=True, slots=True, kw_only=True)
class IntakeEnding:
    """What ending a run writes on the intake: the outcome, its texts clipped, at ``finished_at``."""

    status: IntakeStatus
    strategy: str | None
    reasons: tuple[str, ...]
    problems: tuple[RowProblem, ...]
    records: tuple[RecordRef, ...]
    finished_at: datetime


def ending(outcome: IntakeOutcome, *, now: datetime) -> IntakeEnding:
    problems = outcome.problems
    reasons = tuple(_clip(reason) for reason in outcome.reasons)
    if len(problems) > MAX_PROBLEMS:
        reasons += (f"{len(problems)} rows have problems; the first {MAX_PROBLEMS} are listed",)
        problems = problems[:MAX_PROBLEMS]
    return IntakeEnding(
        status=outcome.status,
        strategy=outcome.strategy,
        reasons=reasons[:MAX_REASONS],
        problems=tuple(RowProblem(p.row, _clip(p.message)) for p in problems),
        records=outcome.records,
        finished_at=now,
    )


def finished(intake: DocumentIntake, outcome: IntakeOutcome, *, now: datetime) -> DocumentIntake:
    return ended(intake, ending(outcome, now=now))


def ended(intake: DocumentIntake, end: IntakeEnding) -> DocumentIntake:
    return replace(
        intake, status=end.status, strategy=end.strategy, reasons=end.reasons, problems=end.problems,
        records=end.records, updated_at=end.finished_at, finished_at=end.finished_at,
    )


def retried(intake: DocumentIntake, *, now: datetime) -> DocumentIntake:
    if intake.status not in RETRYABLE:
        raise IntakeNotRetryable(
            f"a {intake.status} intake is not run again (only {', '.join(sorted(RETRYABLE))})", field="id"
        )
    return replace(
        intake, status=IntakeStatus.PENDING, runs=intake.runs + 1, reasons=(), problems=(), updated_at=now,
        finished_at=None,
    )
