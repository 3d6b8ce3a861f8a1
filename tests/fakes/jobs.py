"""The in-memory job outbox with the semantics of ``adapters.db.jobs`` (checked by
``tests/integration/test_job_outbox_contract.py``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from adapters.db.registry import Binding
from application.shared.ports import Clock
from domain.jobs.model import Job
from domain.shared.model import Aggregate, new_id
from tests.fakes.state import FakeDomain, FakeRepository, States

if TYPE_CHECKING:
    from tests.fakes.uow import FakeUnitOfWork


@dataclass
class JobsState:
    """The jobs committed; in a unit of work's copy, the jobs it queued (written on commit)."""

    jobs: dict[str, Job] = field(default_factory=dict)

    def checkout(self) -> JobsState:
        return JobsState()

    def check(self, work: JobsState, store: States, workspace: States) -> None:
        """Nothing to refuse: ``enqueue`` already deduplicated by (kind, idempotency key)."""

    def apply(self, work: JobsState) -> None:
        self.jobs.update(work.jobs)
        work.jobs.clear()

    def aggregates(self) -> Iterable[Aggregate]:
        return ()


class FakeJobOutbox:
    """Mirrors ``SqlAlchemyJobOutbox``: queued with the unit of work, deduplicated by (kind, key)."""

    def __init__(self, uow: FakeUnitOfWork, tenant_id: str | None, clock: Clock, max_attempts: int = 8) -> None:
        self._uow = uow
        self._tenant_id = tenant_id
        self._clock = clock
        self._max_attempts = max_attempts

    def enqueue(
        self,
        kind: str,
        payload: Any = None,
        *,
        tenant_id: str | None = None,
        idempotency_key: str | None = None,
        run_at: datetime | None = None,
        max_attempts: int | None = None,
    ) -> str:
        queued = self._uow.workspace().state("jobs").jobs  # type: ignore[attr-defined]
        if self._tenant_id is not None:
            if tenant_id not in (None, self._tenant_id):
                raise PermissionError("a job of another tenant cannot be queued here")
            tenant_id = self._tenant_id
        if idempotency_key is not None:
            for job in [*self._uow.store.jobs.values(), *queued.values()]:
                if (job.kind, job.idempotency_key) == (kind, idempotency_key):
                    return job.id
        now = self._clock.now()
        job = Job(
            id=new_id(), tenant_id=tenant_id, kind=kind, payload=dict(payload or {}),
            idempotency_key=idempotency_key, max_attempts=max_attempts or self._max_attempts,
            run_at=run_at or now, created_at=now, updated_at=now,
        )
        queued[job.id] = job
        return job.id


FAKE_DOMAIN = FakeDomain(
    name="jobs",
    state=JobsState,
    repositories={
        "jobs": FakeRepository(lambda uow: FakeJobOutbox(uow, uow.tenant_id, uow.clock), Binding.ANY),
    },
)
