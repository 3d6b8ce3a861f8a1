"""In-memory document intakes with the semantics of ``adapters.db.intake``: bound to the unit of
work's tenant, written on commit, newest first by (created_at, id)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from application.intake.views import DocumentIntakeCursor, DocumentIntakeView, intake_view
from domain.intake.model import DocumentIntake, IntakeEnding, IntakeStatus, ended
from domain.shared.model import Aggregate
from tests.fakes.state import FakeDomain, FakeRepository, States

if TYPE_CHECKING:
    from tests.fakes.uow import FakeUnitOfWork


@dataclass
class IntakeState:
    document_intakes: dict[str, DocumentIntake] = field(default_factory=dict)

    def checkout(self) -> IntakeState:
        return IntakeState()

    def check(self, work: IntakeState, store: States, workspace: States) -> None:
        """Nothing to refuse: ids are new uuids."""

    def apply(self, work: IntakeState) -> None:
        self.document_intakes.update(work.document_intakes)
        work.document_intakes.clear()

    def aggregates(self) -> Iterable[Aggregate]:
        return ()


class _Bound:
    def __init__(self, uow: FakeUnitOfWork, tenant_id: str) -> None:
        self._uow = uow
        self._tenant_id = tenant_id

    def _all(self) -> dict[str, DocumentIntake]:
        merged = {**self._uow.store.document_intakes, **self._uow.workspace().document_intakes}
        return {key: value for key, value in merged.items() if value.tenant_id == self._tenant_id}


class FakeDocumentIntakeRepository(_Bound):
    def add(self, intake: DocumentIntake) -> None:
        if intake.tenant_id != self._tenant_id:
            raise PermissionError("an intake of another tenant cannot be stored here")
        self._uow.workspace().document_intakes[intake.id] = intake

    def get(self, intake_id: str) -> DocumentIntake | None:
        return self._all().get(intake_id)

    def get_for_update(self, intake_id: str) -> DocumentIntake | None:
        return self.get(intake_id)

    def get_with_earlier(self, intake_id: str) -> tuple[DocumentIntake | None, DocumentIntake | None]:
        intake = self.get(intake_id)
        if intake is None:
            return None, None
        candidates = sorted(
            (i for i in self._all().values()
             if i.file_id == intake.file_id and i.id != intake_id
             and i.status in (IntakeStatus.PARSED, IntakeStatus.NEEDS_REVIEW)),
            key=lambda i: (i.created_at, i.id),
        )
        return intake, next((i for i in candidates if i.made_records), None)

    def finish(self, intake_id: str, run: int, end: IntakeEnding) -> bool:
        intake = self.get(intake_id)
        if intake is None or intake.finished or intake.runs != run:
            return False
        self._uow.workspace().document_intakes[intake_id] = ended(intake, end)
        return True

    def save(self, intake: DocumentIntake) -> None:
        if self.get(intake.id) is not None:
            self._uow.workspace().document_intakes[intake.id] = intake


class FakeDocumentIntakeReader(_Bound):
    def get(self, intake_id: str) -> DocumentIntakeView | None:
        found = self._all().get(intake_id)
        return None if found is None else intake_view(found)

    def find(
        self, *, status: IntakeStatus | None, first: int, after: DocumentIntakeCursor | None
    ) -> list[DocumentIntakeView]:
        rows = sorted(
            (i for i in self._all().values()
             if (status is None or i.status == status)
             and (after is None or (i.created_at, i.id) < (after.created_at, after.intake_id))),
            key=lambda i: (i.created_at, i.id), reverse=True,
        )
        return [intake_view(i) for i in rows[:first]]


FAKE_DOMAIN = FakeDomain(
    name="intake",
    state=IntakeState,
    repositories={
        "document_intakes": FakeRepository(lambda uow: FakeDocumentIntakeRepository(uow, uow.tenant)),
        "document_intake_views": FakeRepository(lambda uow: FakeDocumentIntakeReader(uow, uow.tenant)),
    },
)
