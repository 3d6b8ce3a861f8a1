"""Document intakes on SQLAlchemy Core (snapshots, like the webhook inbox), bound to one tenant."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, and_, or_, select, update
from sqlalchemy.orm import Session

from adapters.db.intake.tables import document_intakes as t
from application.intake.views import DocumentIntakeCursor, DocumentIntakeView, intake_view
from domain.intake.model import (
    DocumentIntake,
    DocumentKind,
    IntakeEnding,
    IntakeStatus,
    RecordRef,
    RowProblem,
)

_COLUMNS = tuple(t.c)


def _intake(row: Row[Any]) -> DocumentIntake:
    values = dict(row._mapping)
    values["kind"] = DocumentKind(values["kind"]) if values["kind"] else None
    values["reasons"] = tuple(values["reasons"] or ())
    values["problems"] = tuple(RowProblem(int(p["row"]), str(p["message"])) for p in values["problems"] or ())
    values["records"] = tuple(RecordRef(str(r["type"]), str(r["id"])) for r in values["records"] or ())
    return DocumentIntake(**values)


def _values(intake: DocumentIntake) -> dict[str, Any]:
    return {
        "id": intake.id, "tenant_id": intake.tenant_id, "file_id": intake.file_id,
        "kind": intake.kind.value if intake.kind else None, "status": intake.status, "strategy": intake.strategy,
        "reasons": list(intake.reasons), "problems": [{"row": p.row, "message": p.message} for p in intake.problems],
        "records": [{"type": r.type, "id": r.id} for r in intake.records], "runs": intake.runs,
        "created_by": intake.created_by, "created_at": intake.created_at, "updated_at": intake.updated_at,
        "finished_at": intake.finished_at,
    }


class _Scoped:
    def __init__(self, session: Session, tenant_id: str) -> None:
        self._session = session
        self._tenant_id = tenant_id

    def _one(self, intake_id: str, *, lock: bool = False) -> DocumentIntake | None:
        statement = select(*_COLUMNS).where(t.c.tenant_id == self._tenant_id, t.c.id == intake_id)
        if lock:
            if self._session.get_bind().dialect.name == "sqlite":
                self._session.execute(
                    update(t).where(t.c.tenant_id == self._tenant_id, t.c.id == intake_id).values(runs=t.c.runs)
                )
            else:
                statement = statement.with_for_update()
        row = self._session.execute(statement).one_or_none()
        return None if row is None else _intake(row)


class SqlAlchemyDocumentIntakeRepository(_Scoped):
    def add(self, intake: DocumentIntake) -> None:
        if intake.tenant_id != self._tenant_id:
            raise PermissionError("an intake of another tenant cannot be stored here")
        self._session.execute(t.insert().values(_values(intake)))

    def get(self, intake_id: str) -> DocumentIntake | None:
        return self._one(intake_id)

    def get_for_update(self, intake_id: str) -> DocumentIntake | None:
        return self._one(intake_id, lock=True)

    def get_with_earlier(self, intake_id: str) -> tuple[DocumentIntake | None, DocumentIntake | None]:
        same_file = select(t.c.file_id).where(t.c.tenant_id == self._tenant_id, t.c.id == intake_id).scalar_subquery()
        rows = self._session.execute(
            select(*_COLUMNS).where(
                t.c.tenant_id == self._tenant_id,
                or_(
                    t.c.id == intake_id,
                    and_(t.c.file_id == same_file, t.c.status.in_((IntakeStatus.PARSED, IntakeStatus.NEEDS_REVIEW))),
                ),
            ).order_by(t.c.created_at, t.c.id)
        )
        intake = earlier = None
        for row in rows:
            found = _intake(row)
            if found.id == intake_id:
                intake = found
            elif earlier is None and found.made_records:
                earlier = found
        return intake, earlier

    def finish(self, intake_id: str, run: int, end: IntakeEnding) -> bool:
        result = self._session.execute(
            update(t)
            .where(t.c.tenant_id == self._tenant_id, t.c.id == intake_id, t.c.status == IntakeStatus.PENDING,
                   t.c.runs == run)
            .values(
                status=end.status, strategy=end.strategy, reasons=list(end.reasons),
                problems=[{"row": p.row, "message": p.message} for p in end.problems],
                records=[{"type": r.type, "id": r.id} for r in end.records],
                updated_at=end.finished_at, finished_at=end.finished_at,
            )
        )
        return result.rowcount == 1  # type: ignore[attr-defined, no-any-return]

    def save(self, intake: DocumentIntake) -> None:
        values = _values(intake)
        for key in ("id", "tenant_id", "file_id", "kind", "created_by", "created_at"):
            values.pop(key)
        self._session.execute(update(t).where(t.c.tenant_id == self._tenant_id, t.c.id == intake.id).values(**values))


class SqlAlchemyDocumentIntakeReader(_Scoped):
    def get(self, intake_id: str) -> DocumentIntakeView | None:
        intake = self._one(intake_id)
        return None if intake is None else intake_view(intake)

    def find(
        self, *, status: IntakeStatus | None, first: int, after: DocumentIntakeCursor | None
    ) -> list[DocumentIntakeView]:
        conditions: list[Any] = [t.c.tenant_id == self._tenant_id]
        if status is not None:
            conditions.append(t.c.status == status)
        if after is not None:
            conditions.append(
                or_(t.c.created_at < after.created_at, and_(t.c.created_at == after.created_at, t.c.id < after.intake_id))
            )
        statement = select(*_COLUMNS).where(*conditions).order_by(t.c.created_at.desc(), t.c.id.desc()).limit(first)
        return [intake_view(_intake(row)) for row in self._session.execute(statement)]
