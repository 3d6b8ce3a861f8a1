"""Files on SQLAlchemy: the tenant-bound repository of the file aggregates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.db.files.tables import file_content_locks, files
from adapters.db.repository import TenantRepository, hold_lock
from application.shared.ports import Clock
from domain.files.model import File, FileStatus
from domain.shared.model import Aggregate



class SqlAlchemyFileRepository(TenantRepository[File]):
    kind = "file"

    def __init__(self, session: Session, tenant_id: str, clock: Clock, seen: list[Aggregate]) -> None:
        super().__init__(session, tenant_id, seen)
        self._clock = clock

    def lock_content(self, sha256: str) -> None:
        hold_lock(
            self._session, file_content_locks, now=self._clock.now(), tenant_id=self._tenant_id, sha256=sha256
        )

    def get(self, file_id: str) -> File | None:
        return self._one(select(File).where(files.c.id == file_id, files.c.tenant_id == self._tenant_id))

    def get_by_sha256(self, sha256: str) -> File | None:
        return self._one(select(File).where(files.c.sha256 == sha256, files.c.tenant_id == self._tenant_id))

    def expired(self, now: datetime, limit: int) -> list[File]:
        return self._all(
            select(File)
            .where(
                files.c.tenant_id == self._tenant_id,
                files.c.status == FileStatus.TEMPORARY,
                files.c.expires_at <= now,
            )
            .order_by(files.c.expires_at)
            .limit(limit)
        )
