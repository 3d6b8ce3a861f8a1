"""The jobs' persistence: ``uow.jobs``, the outbox, in every unit of work (system jobs have no tenant)."""

from __future__ import annotations

from adapters.db.jobs.queue import SqlAlchemyJobOutbox
from adapters.db.registry import Binding, DbModule, Repository

DB_MODULE = DbModule(
    name="jobs",
    repositories={
        "jobs": Repository(
            lambda s: SqlAlchemyJobOutbox(s.session, s.tenant_id, s.clock, s.job_max_attempts), Binding.ANY
        ),
    },
)
