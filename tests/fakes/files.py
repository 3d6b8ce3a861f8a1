"""In-memory files with the semantics of ``adapters.db.files``: the repository, and the reader query
for query (ordering, keyset paging, case-insensitive ``LIKE`` with literal ``%`` and ``_``, tenant
filtering everywhere). ``tests/integration/test_file_store_contract.py`` runs one contract against
both so they cannot drift."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from application.files.views import EntityRef, FileCursor, FileEntityView, FileFilter, FileView
from domain.files.model import File, FileEntity, FileStatus
from domain.shared.model import Aggregate
from tests.fakes.state import FakeDomain, FakeRepository, States, contains, unique

if TYPE_CHECKING:
    from tests.fakes.uow import FakeUnitOfWork


def _copy_file(file: File) -> File:
    copy = File(
        id=file.id,
        tenant_id=file.tenant_id,
        name=file.name,
        sha256=file.sha256,
        mime=file.mime,
        size=file.size,
        status=FileStatus(file.status),
        created_by=file.created_by,
        created_at=file.created_at,
        expires_at=file.expires_at,
    )
    copy.links = [
        FileEntity(
            id=link.id,
            tenant_id=link.tenant_id,
            file_id=link.file_id,
            entity_type=link.entity_type,
            entity_id=link.entity_id,
            created_at=link.created_at,
        )
        for link in file.links
    ]
    return copy


def _file_row(file: File) -> tuple[Any, ...]:
    """What the database would hold for a file and its links: used to see what changed."""
    return (
        file.tenant_id,
        file.name,
        file.sha256,
        file.mime,
        file.size,
        FileStatus(file.status),
        file.created_by,
        file.created_at,
        file.expires_at,
        tuple(
            (link.id, link.tenant_id, link.file_id, link.entity_type, link.entity_id, link.created_at)
            for link in file.links
        ),
    )


@dataclass
class FilesState:
    files: dict[str, File] = field(default_factory=dict)
    deleted: dict[str, File] = field(default_factory=dict)
    """A copy's files deleted since it last committed (their events are still to publish)."""
    locked: list[tuple[str, str]] = field(default_factory=list)
    """Every (tenant, sha256) content lock taken, in order (committed state only)."""

    def checkout(self) -> FilesState:
        work = FilesState(files={key: _copy_file(value) for key, value in self.files.items()})
        work._rebase()
        return work

    def _rebase(self) -> None:
        self.deleted.clear()
        self._base = {key: _file_row(file) for key, file in self.files.items()}

    def _changes(self) -> tuple[list[File], list[str]]:
        files = [file for key, file in self.files.items() if self._base.get(key) != _file_row(file)]
        removed = [key for key in self._base if key not in self.files]
        return files, removed

    def check(self, work: FilesState, store: States, workspace: States) -> None:
        files, removed = work._changes()
        for file in files:
            if file.id in work._base and file.id not in self.files:
                raise RuntimeError(f"file {file.id} was deleted by another unit of work (stale data)")
        after_files = {**self.files, **{file.id: file for file in files}}
        for key in removed:
            after_files.pop(key, None)
        unique("files(tenant_id, sha256)", ((f.tenant_id, f.sha256) for f in after_files.values()))
        unique(
            "file_entities(file_id, entity_type, entity_id)",
            (
                (link.file_id, link.entity_type, link.entity_id)
                for f in after_files.values()
                for link in f.links
            ),
        )
        unique("file_entities.id", (link.id for f in after_files.values() for link in f.links))
        tenants = {**store.tenants, **workspace.tenants}
        for file in files:
            if file.tenant_id not in tenants:
                raise LookupError(f"files.tenant_id: no tenant {file.tenant_id} (foreign key)")

    def apply(self, work: FilesState) -> None:
        files, removed = work._changes()
        for file in files:
            self.files[file.id] = _copy_file(file)
        for file_id in removed:
            self.files.pop(file_id, None)
        work._rebase()

    def aggregates(self) -> Iterable[Aggregate]:
        yield from self.files.values()
        yield from self.deleted.values()

    def files_of(self, tenant_id: str) -> list[File]:
        return [file for file in self.files.values() if file.tenant_id == tenant_id]

    def links_of(self, tenant_id: str) -> list[FileEntity]:
        return [link for file in self.files_of(tenant_id) for link in file.links]


class _Bound:
    def __init__(self, uow: FakeUnitOfWork, tenant_id: str) -> None:
        self._uow = uow
        self._tenant_id = tenant_id

    @property
    def _state(self) -> FilesState:
        return self._uow.workspace().state("files")  # type: ignore[return-value]


class FakeFileRepository(_Bound):

    def _files(self) -> list[File]:
        return [f for f in self._state.files.values() if f.tenant_id == self._tenant_id]

    def lock_content(self, sha256: str) -> None:
        self._uow.workspace()
        self._uow.store.locked.append((self._tenant_id, sha256))

    def add(self, file: File) -> None:
        if file.tenant_id != self._tenant_id:
            raise PermissionError("a file of another tenant cannot be added here")
        state = self._state
        state.files[file.id] = file
        state.deleted.pop(file.id, None)

    def get(self, file_id: str) -> File | None:
        return next((f for f in self._files() if f.id == file_id), None)

    def get_by_sha256(self, sha256: str) -> File | None:
        return next((f for f in self._files() if f.sha256 == sha256), None)

    def delete(self, file: File) -> None:
        if file.tenant_id != self._tenant_id:
            raise PermissionError("a file of another tenant cannot be deleted here")
        state = self._state
        if state.files.pop(file.id, None) is not None:
            state.deleted[file.id] = file

    def expired(self, now: datetime, limit: int) -> list[File]:
        found = [
            f
            for f in self._files()
            if f.status == FileStatus.TEMPORARY and f.expires_at is not None and f.expires_at <= now
        ]
        found.sort(key=lambda f: f.expires_at)  # type: ignore[arg-type, return-value]
        return found[:limit]


def _view(file: File) -> FileView:
    return FileView(
        id=file.id,
        name=file.name,
        sha256=file.sha256,
        mime=file.mime,
        size=file.size,
        status=FileStatus(file.status),
        created_by=file.created_by,
        created_at=file.created_at,
        expires_at=file.expires_at,
    )


def _newest_first(files: Iterable[File]) -> list[File]:
    return sorted(files, key=lambda f: (f.created_at, f.id), reverse=True)


class FakeFileReader(_Bound):
    def _files(self) -> list[File]:
        return [f for f in self._state.files.values() if f.tenant_id == self._tenant_id]

    def get(self, file_id: str) -> FileView | None:
        return next((_view(f) for f in self._files() if f.id == file_id), None)

    def get_many(self, file_ids: Sequence[str]) -> list[FileView]:
        wanted = set(file_ids)
        return [_view(f) for f in self._files() if f.id in wanted]

    def by_sha256(self, sha256: str) -> FileView | None:
        return next((_view(f) for f in self._files() if f.sha256 == sha256), None)

    def find(self, filter: FileFilter, *, first: int, after: FileCursor | None) -> list[FileView]:
        found = self._files()
        if filter.name_contains:
            found = [f for f in found if contains(f.name, filter.name_contains)]
        if filter.mime:
            found = [f for f in found if f.mime == filter.mime]
        if filter.created_from:
            found = [f for f in found if f.created_at >= filter.created_from]
        if filter.created_to:
            found = [f for f in found if f.created_at < filter.created_to]
        if filter.entity_type:
            found = [f for f in found if any(link.entity_type == filter.entity_type for link in f.links)]
        if after:
            found = [f for f in found if (f.created_at, f.id) < (after.created_at, after.file_id)]
        return [_view(f) for f in _newest_first(found)[:first]]

    def search(self, text: str, *, limit: int) -> list[FileView]:
        found = [f for f in self._files() if contains(f.name, text)]
        return [_view(f) for f in _newest_first(found)[:limit]]

    def by_name(self, name: str, *, limit: int) -> list[FileView]:
        found = [f for f in self._files() if f.name == name]
        return [_view(f) for f in _newest_first(found)[:limit]]

    def by_entities(self, refs: Sequence[EntityRef]) -> dict[EntityRef, list[FileView]]:
        if not refs:
            return {}
        keys = {(ref.entity_type, ref.entity_id) for ref in refs}
        found: dict[EntityRef, list[FileView]] = defaultdict(list)
        for file in sorted(self._files(), key=lambda f: (f.created_at, f.id)):
            for link in file.links:
                if link.tenant_id == self._tenant_id and (link.entity_type, link.entity_id) in keys:
                    found[EntityRef(link.entity_type, link.entity_id)].append(_view(file))
        return dict(found)

    def links_of(self, file_ids: Sequence[str]) -> dict[str, list[FileEntityView]]:
        if not file_ids:
            return {}
        wanted = set(file_ids)
        links = [
            link
            for file in self._state.files.values()
            for link in file.links
            if link.tenant_id == self._tenant_id and link.file_id in wanted
        ]
        links.sort(key=lambda link: (link.created_at, link.id))
        found: dict[str, list[FileEntityView]] = defaultdict(list)
        for link in links:
            found[link.file_id].append(
                FileEntityView(
                    id=link.id,
                    file_id=link.file_id,
                    entity_type=link.entity_type,
                    entity_id=link.entity_id,
                    created_at=link.created_at,
                )
            )
        return dict(found)


FAKE_DOMAIN = FakeDomain(
    name="files",
    state=FilesState,
    repositories={
        "files": FakeRepository(lambda uow: FakeFileRepository(uow, uow.tenant)),
        "file_views": FakeRepository(lambda uow: FakeFileReader(uow, uow.tenant)),
    },
)
