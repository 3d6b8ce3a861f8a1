"""Read models of document intake."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from domain.intake.model import DocumentIntake, DocumentKind, IntakeStatus, RecordRef, RowProblem
from domain.shared.errors import InvalidInput
from domain.shared.model import parse_id


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentIntakeView:
    id: str
    file_id: str
    kind: DocumentKind | None
    status: IntakeStatus
    strategy: str | None
    reasons: tuple[str, ...]
    problems: tuple[RowProblem, ...]
    records: tuple[RecordRef, ...]
    runs: int
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


def intake_view(intake: DocumentIntake) -> DocumentIntakeView:
    return DocumentIntakeView(
        id=intake.id, file_id=intake.file_id, kind=intake.kind, status=intake.status, strategy=intake.strategy,
        reasons=intake.reasons, problems=intake.problems, records=intake.records, runs=intake.runs,
        created_at=intake.created_at, updated_at=intake.updated_at, finished_at=intake.finished_at,
    )


@dataclass(frozen=True, slots=True)
class DocumentIntakeCursor:
    created_at: datetime
    intake_id: str

    @classmethod
    def of(cls, view: DocumentIntakeView) -> DocumentIntakeCursor:
        return cls(view.created_at, view.id)

    def encode(self) -> str:
        return base64.urlsafe_b64encode(f"{self.created_at.isoformat()}|{self.intake_id}".encode()).decode()

    @classmethod
    def decode(cls, value: str, *, field: str = "after") -> DocumentIntakeCursor:
        try:
            text = base64.urlsafe_b64decode(value.encode("ascii")).decode()
            stamp, _, intake_id = text.partition("|")
            moment = datetime.fromisoformat(stamp)
            if moment.tzinfo is None:
                raise ValueError("naive")
            return cls(moment, parse_id(intake_id, field=field))
        except (ValueError, UnicodeError, binascii.Error, InvalidInput):
            raise InvalidInput(f"{field} is not a cursor this list gave", field=field) from None
