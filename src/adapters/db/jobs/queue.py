"""Jobs on SQLAlchemy: the outbox a unit of work writes to, and the queue workers drain.

Claiming is one ``UPDATE ... WHERE id IN (SELECT ... LIMIT n) RETURNING``: on PostgreSQL the
sub-select takes its rows ``FOR UPDATE SKIP LOCKED``, so concurrent workers split the due jobs
between them without waiting on each other; on SQLite the statement runs under the database's
write lock, so claims are serialised (one worker process is enough there).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, and_, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from adapters.db.jobs.tables import jobs
from application.jobs.ports import JobRequest
from application.shared.ports import Clock
from domain.jobs.model import Job, JobStatus, retried_by_hand
from domain.shared.model import new_id

_COLUMNS = tuple(jobs.c)


def _insert_if_absent(dialect: Any) -> Any:
    return dialect.insert(jobs).on_conflict_do_nothing(index_elements=["kind", "idempotency_key"]).returning(jobs.c.id)


# Built once: the job goes in as parameters, so queueing one costs no statement building.
_INSERT = insert(jobs)
_INSERT_IF_ABSENT = {"postgresql": _insert_if_absent(postgresql), "sqlite": _insert_if_absent(sqlite)}


def job_from_row(row: Row[Any]) -> Job:
    values = row._mapping
    return Job(**{column.name: values[column.name] for column in _COLUMNS})


def _values(job: Job) -> dict[str, Any]:
    return {column.name: getattr(job, column.name) for column in _COLUMNS}


def job_row(
    clock: Clock,
    kind: str,
    payload: Mapping[str, Any] | None,
    *,
    tenant_id: str | None,
    idempotency_key: str | None,
    run_at: datetime | None,
    max_attempts: int,
) -> dict[str, Any]:
    """The row of a new QUEUED job, its arguments checked."""
    if not kind or len(kind) > 100:
        raise ValueError("a job kind is a non-empty name of at most 100 characters")
    if idempotency_key is not None and not 0 < len(idempotency_key) <= 200:
        raise ValueError("an idempotency key has 1 to 200 characters")
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    now = clock.now()
    return {
        "id": new_id(), "tenant_id": tenant_id, "kind": kind, "payload": dict(payload or {}),
        "idempotency_key": idempotency_key, "status": JobStatus.QUEUED, "attempts": 0,
        "max_attempts": max_attempts, "run_at": run_at or now, "claimed_by": None, "lease_until": None,
        "last_error": None, "created_at": now, "updated_at": now, "finished_at": None,
    }


def enqueue_job(session: Session, values: dict[str, Any]) -> str:
    """Insert the row of ``job_row``; with an idempotency key, the id of the job already there."""
    kind, idempotency_key = values["kind"], values["idempotency_key"]
    if idempotency_key is None:
        session.execute(_INSERT, values)
        return str(values["id"])
    statement = _INSERT_IF_ABSENT[session.get_bind().dialect.name]
    inserted = session.execute(statement, values).scalar_one_or_none()
    if inserted is not None:  # one round trip when the key is new (the common case)
        return str(inserted)
    return str(
        session.execute(
            select(jobs.c.id).where(jobs.c.kind == kind, jobs.c.idempotency_key == idempotency_key)
        ).scalar_one()
    )


class SqlAlchemyJobOutbox:
    """``uow.jobs``: writes in the unit of work's session, so the job commits with the change."""

    def __init__(self, session: Session, tenant_id: str | None, clock: Clock, max_attempts: int) -> None:
        self._session = session
        self._tenant_id = tenant_id
        self._clock = clock
        self._max_attempts = max_attempts

    def enqueue(
        self,
        kind: str,
        payload: Mapping[str, Any] | None = None,
        *,
        tenant_id: str | None = None,
        idempotency_key: str | None = None,
        run_at: datetime | None = None,
        max_attempts: int | None = None,
    ) -> str:
        return enqueue_job(self._session, job_row(
            self._clock, kind, payload, tenant_id=self._tenant(tenant_id),
            idempotency_key=idempotency_key, run_at=run_at, max_attempts=max_attempts or self._max_attempts,
        ))

    def row(self, job: JobRequest, *, tenant_id: str | None) -> dict[str, Any]:
        """The row ``enqueue`` would insert for ``job``, for a write that inserts it itself."""
        return job_row(
            self._clock, job.kind, job.payload, tenant_id=self._tenant(tenant_id),
            idempotency_key=job.idempotency_key, run_at=None, max_attempts=self._max_attempts,
        )

    def _tenant(self, tenant_id: str | None) -> str | None:
        if self._tenant_id is None:
            return tenant_id
        if tenant_id not in (None, self._tenant_id):
            raise PermissionError("a job of another tenant cannot be queued here")
        return self._tenant_id


class SqlAlchemyJobQueue:
    def __init__(self, session_factory: sessionmaker[Session], clock: Clock, *, max_attempts: int = 8) -> None:
        self._session_factory = session_factory
        self._clock = clock
        self._max_attempts = max_attempts

    def enqueue(
        self,
        kind: str,
        payload: Mapping[str, Any] | None = None,
        *,
        tenant_id: str | None = None,
        idempotency_key: str | None = None,
        run_at: datetime | None = None,
        max_attempts: int | None = None,
    ) -> str:
        with self._session_factory() as session, session.begin():
            return enqueue_job(session, job_row(
                self._clock, kind, payload, tenant_id=tenant_id, idempotency_key=idempotency_key,
                run_at=run_at, max_attempts=max_attempts or self._max_attempts,
            ))

    def claim(self, worker: str, *, limit: int, lease: timedelta) -> list[Job]:
        now = self._clock.now()
        expired = and_(jobs.c.status == JobStatus.RUNNING, jobs.c.lease_until <= now)
        with self._session_factory() as session, session.begin():
            # A job whose last attempt's worker vanished has no attempt left: it is DEAD.
            session.execute(
                update(jobs)
                .where(expired, jobs.c.attempts >= jobs.c.max_attempts)
                .values(
                    status=JobStatus.DEAD, claimed_by=None, lease_until=None, updated_at=now, finished_at=now,
                    last_error="the worker running the last attempt stopped before recording its outcome",
                )
            )
            due = (
                select(jobs.c.id)
                .where(
                    or_(
                        and_(jobs.c.status == JobStatus.QUEUED, jobs.c.run_at <= now),
                        and_(expired, jobs.c.attempts < jobs.c.max_attempts),
                    )
                )
                .order_by(jobs.c.run_at, jobs.c.created_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
                .scalar_subquery()
            )
            rows = session.execute(
                update(jobs)
                .where(jobs.c.id.in_(due))
                .values(
                    status=JobStatus.RUNNING, attempts=jobs.c.attempts + 1, claimed_by=worker,
                    lease_until=now + lease, updated_at=now,
                )
                .returning(*_COLUMNS)
            ).all()
        claimed = [job_from_row(row) for row in rows]
        claimed.sort(key=lambda job: (job.run_at, job.created_at, job.id))
        return claimed

    def save(self, claimed: Job, outcome: Job) -> bool:
        return self._update_claimed(claimed, {k: v for k, v in _values(outcome).items() if k != "id"})

    def extend(self, claimed: Job, *, lease: timedelta) -> bool:
        now = self._clock.now()
        return self._update_claimed(claimed, {"lease_until": now + lease, "updated_at": now})

    def _update_claimed(self, claimed: Job, values: dict[str, Any]) -> bool:
        """Write only if the job is still RUNNING under this very claim (worker and attempt)."""
        with self._session_factory() as session, session.begin():
            result = session.execute(
                update(jobs)
                .where(
                    jobs.c.id == claimed.id,
                    jobs.c.status == JobStatus.RUNNING,
                    jobs.c.claimed_by == claimed.claimed_by,
                    jobs.c.attempts == claimed.attempts,
                )
                .values(**values)
            )
            return result.rowcount == 1  # type: ignore[attr-defined, no-any-return]

    def get(self, job_id: str) -> Job | None:
        with self._session_factory() as session:
            row = session.execute(select(*_COLUMNS).where(jobs.c.id == job_id)).one_or_none()
            return None if row is None else job_from_row(row)

    def find(
        self, *, status: JobStatus | None = None, kind: str | None = None, limit: int = 100, after: str | None = None
    ) -> list[Job]:
        """Newest first; ``after``: the id of a job, to continue after it (keyset, any number of pages)."""
        statement = select(*_COLUMNS).order_by(jobs.c.created_at.desc(), jobs.c.id.desc()).limit(limit)
        if after is not None:
            mark = select(jobs.c.created_at).where(jobs.c.id == after).scalar_subquery()
            statement = statement.where(
                or_(jobs.c.created_at < mark, and_(jobs.c.created_at == mark, jobs.c.id < after))
            )
        if status is not None:
            statement = statement.where(jobs.c.status == status)
        if kind is not None:
            statement = statement.where(jobs.c.kind == kind)
        with self._session_factory() as session:
            return [job_from_row(row) for row in session.execute(statement)]

    def retry(self, job_id: str) -> Job:
        with self._session_factory() as session, session.begin():
            row = session.execute(
                select(*_COLUMNS).where(jobs.c.id == job_id).with_for_update()
            ).one_or_none()
            if row is None:
                raise LookupError(f"job {job_id} not found")
            job = job_from_row(row)
            again = retried_by_hand(job, now=self._clock.now())
            session.execute(
                update(jobs)
                .where(jobs.c.id == job.id, jobs.c.status == job.status)
                .values(**{k: v for k, v in _values(again).items() if k != "id"})
            )
            return again
