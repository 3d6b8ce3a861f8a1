"""Files on SQLAlchemy: the tenant-bound reader (views)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from adapters.db.files.tables import file_entities, files
from application.files.views import EntityRef, FileCursor, FileEntityView, FileFilter, FileView


_VIEW_COLUMNS = (
    files.c.id,
    files.c.name,
    files.c.sha256,
    files.c.mime,
    files.c.size,
    files.c.status,
    files.c.created_by,
    files.c.created_at,
    files.c.expires_at,
)


def _view(row: Row[Any]) -> FileView:
    return FileView(
        id=row.id,
        name=row.name,
        sha256=row.sha256,
        mime=row.mime,
        size=row.size,
        status=row.status,
        created_by=row.created_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SqlAlchemyFileReader:
    def __init__(self, session: Session, tenant_id: str) -> None:
        self._session = session
        self._tenant_id = tenant_id

    def _select(self) -> Select[Any]:
        return select(*_VIEW_COLUMNS).where(files.c.tenant_id == self._tenant_id)

    def _views(self, statement: Select[Any]) -> list[FileView]:
        return [_view(row) for row in self._session.execute(statement)]

    def get(self, file_id: str) -> FileView | None:
        found = self._views(self._select().where(files.c.id == file_id))
        return found[0] if found else None

    def get_many(self, file_ids: Sequence[str]) -> list[FileView]:
        if not file_ids:
            return []
        return self._views(self._select().where(files.c.id.in_(list(file_ids))))

    def by_sha256(self, sha256: str) -> FileView | None:
        found = self._views(self._select().where(files.c.sha256 == sha256))
        return found[0] if found else None

    def find(self, filter: FileFilter, *, first: int, after: FileCursor | None) -> list[FileView]:
        statement = self._select()
        if filter.name_contains:
            pattern = f"%{_like_escape(filter.name_contains.lower())}%"
            statement = statement.where(func.lower(files.c.name).like(pattern, escape="\\"))
        if filter.mime:
            statement = statement.where(files.c.mime == filter.mime)
        if filter.created_from:
            statement = statement.where(files.c.created_at >= filter.created_from)
        if filter.created_to:
            statement = statement.where(files.c.created_at < filter.created_to)
        if filter.entity_type:
            statement = statement.where(
                select(file_entities.c.id)
                .where(
                    file_entities.c.file_id == files.c.id,
                    file_entities.c.entity_type == filter.entity_type,
                )
                .exists()
            )
        if after:
            statement = statement.where(
                or_(
                    files.c.created_at < after.created_at,
                    and_(files.c.created_at == after.created_at, files.c.id < after.file_id),
                )
            )
        statement = statement.order_by(files.c.created_at.desc(), files.c.id.desc()).limit(first)
        return self._views(statement)

    def search(self, text: str, *, limit: int) -> list[FileView]:
        pattern = f"%{_like_escape(text.lower())}%"
        return self._views(
            self._select()
            .where(func.lower(files.c.name).like(pattern, escape="\\"))
            .order_by(files.c.created_at.desc(), files.c.id.desc())
            .limit(limit)
        )

    def by_name(self, name: str, *, limit: int) -> list[FileView]:
        return self._views(
            self._select()
            .where(files.c.name == name)
            .order_by(files.c.created_at.desc(), files.c.id.desc())
            .limit(limit)
        )

    def by_entities(self, refs: Sequence[EntityRef]) -> dict[EntityRef, list[FileView]]:
        if not refs:
            return {}
        # One "type = t AND id IN (...)" per entity type: PostgreSQL plans it on the
        # (tenant, type, id) index even before ANALYZE, unlike a row-value IN list.
        ids_by_type: dict[str, set[str]] = defaultdict(set)
        for ref in refs:
            ids_by_type[ref.entity_type.value].add(ref.entity_id)
        statement = (
            select(*_VIEW_COLUMNS, file_entities.c.entity_type, file_entities.c.entity_id)
            .join(file_entities, file_entities.c.file_id == files.c.id)
            .where(
                files.c.tenant_id == self._tenant_id,
                file_entities.c.tenant_id == self._tenant_id,
                or_(
                    *(
                        and_(file_entities.c.entity_type == kind, file_entities.c.entity_id.in_(sorted(ids)))
                        for kind, ids in sorted(ids_by_type.items())
                    )
                ),
            )
            .order_by(files.c.created_at, files.c.id)
        )
        found: dict[EntityRef, list[FileView]] = defaultdict(list)
        for row in self._session.execute(statement):
            found[EntityRef(row.entity_type, row.entity_id)].append(_view(row))
        return dict(found)

    def links_of(self, file_ids: Sequence[str]) -> dict[str, list[FileEntityView]]:
        if not file_ids:
            return {}
        statement = (
            select(file_entities)
            .where(
                and_(
                    file_entities.c.tenant_id == self._tenant_id,
                    file_entities.c.file_id.in_(list(file_ids)),
                )
            )
            .order_by(file_entities.c.created_at, file_entities.c.id)
        )
        found: dict[str, list[FileEntityView]] = defaultdict(list)
        for row in self._session.execute(statement):
            found[row.file_id].append(
                FileEntityView(
                    id=row.id,
                    file_id=row.file_id,
                    entity_type=row.entity_type,
                    entity_id=row.entity_id,
                    created_at=row.created_at,
                )
            )
        return dict(found)
