"""In-memory unit of work and repositories with the semantics of ``adapters.db.uow``.

``FakeStore`` is the committed state every unit of work shares (what the database holds).
A ``FakeUnitOfWork`` works on a private copy of it inside its ``with`` block: ``commit()``
writes what changed back to the store (refusing a duplicate key with ``DuplicateEntry``, as
the unique constraints do), and leaving the block without committing throws the copy away.
Domain events are collected from the aggregates the unit of work saw, on commit only.

The reader mirrors ``SqlAlchemyFileReader`` query for query (ordering, keyset paging,
case-insensitive ``LIKE`` with literal ``%`` and ``_``, tenant filtering everywhere);
``tests/integration/test_file_store_contract.py`` runs one contract against both so they
cannot drift.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any

from application.tenancy.ports import Principal
from application.files.views import EntityRef, FileCursor, FileEntityView, FileFilter, FileView
from application.shared.ports import Clock, DuplicateEntry
from domain.files.model import File, FileEntity, FileStatus
from domain.shared.model import Aggregate, DomainEvent
from domain.tenancy.model import Tenant, User

# --- copies: the store never shares an object with a unit of work ------------------------


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


def _copy_tenant(tenant: Tenant) -> Tenant:
    return Tenant(
        id=tenant.id,
        slug=tenant.slug,
        name=tenant.name,
        external_id=tenant.external_id,
        created_at=tenant.created_at,
    )


def _copy_user(user: User) -> User:
    return User(
        id=user.id,
        tenant_id=user.tenant_id,
        email=user.email,
        role=user.role,
        external_id=user.external_id,
        active=user.active,
        created_at=user.created_at,
    )


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


def _user_row(user: User) -> tuple[Any, ...]:
    return (user.tenant_id, user.email, user.role, user.external_id, user.active, user.created_at)


@dataclass
class FakeStore:
    """What the database holds: committed tenants, users and files (with their links)."""

    tenants: dict[str, Tenant] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    files: dict[str, File] = field(default_factory=dict)
    commits: int = 0
    locked: list[tuple[str, str]] = field(default_factory=list)

    # --- helpers for assertions in tests ------------------------------------------------

    def files_of(self, tenant_id: str) -> list[File]:
        return [file for file in self.files.values() if file.tenant_id == tenant_id]

    def links_of(self, tenant_id: str) -> list[FileEntity]:
        return [link for file in self.files_of(tenant_id) for link in file.links]


class _Workspace:
    """A unit of work's private copy of the store, and what it started from."""

    def __init__(self, store: FakeStore) -> None:
        self.tenants = {key: _copy_tenant(value) for key, value in store.tenants.items()}
        self.users = {key: _copy_user(value) for key, value in store.users.items()}
        self.files = {key: _copy_file(value) for key, value in store.files.items()}
        self.deleted: dict[str, File] = {}
        self.rebase()

    def rebase(self) -> None:
        """Remember the current copy as what the store holds (after a commit)."""
        self.base_tenants = set(self.tenants)
        self.base_users = {key: _user_row(user) for key, user in self.users.items()}
        self.base_files = {key: _file_row(file) for key, file in self.files.items()}

    def aggregates(self) -> Iterable[Aggregate]:
        yield from self.tenants.values()
        yield from self.users.values()
        yield from self.files.values()
        yield from self.deleted.values()


class _NoTenant:
    """What a unit of work without a tenant offers instead of tenant-bound repositories."""

    def __getattr__(self, name: str) -> object:
        raise PermissionError("this unit of work is not bound to a tenant")


class FakeUnitOfWork:
    tenants: FakeTenantDirectory
    files: FakeFileRepository
    file_views: FakeFileReader

    def __init__(self, store: FakeStore, tenant_id: str | None, clock: Clock) -> None:
        self._store = store
        self._tenant_id = tenant_id
        self._clock = clock
        self._work: _Workspace | None = None
        self._events: list[DomainEvent] = []
        self.committed = 0

    @property
    def tenant_id(self) -> str | None:
        return self._tenant_id

    @property
    def store(self) -> FakeStore:
        return self._store

    def workspace(self) -> _Workspace:
        if self._work is None:
            raise RuntimeError("the unit of work is used outside its `with` block")
        return self._work

    def __enter__(self) -> FakeUnitOfWork:
        if self._work is not None:
            raise RuntimeError("the unit of work is already open")
        self._work = _Workspace(self._store)
        self.tenants = FakeTenantDirectory(self)
        if self._tenant_id is None:
            self.files = self.file_views = _NoTenant()  # type: ignore[assignment]
        else:
            self.files = FakeFileRepository(self, self._tenant_id, self._clock)
            self.file_views = FakeFileReader(self, self._tenant_id)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._work = None

    def commit(self) -> None:
        work = self.workspace()
        store = self._store
        try:
            tenants, users, files, removed = self._changes(work, store)
        except DuplicateEntry:
            self._work = _Workspace(store)  # the session rolls back: start again from the store
            raise
        for tenant in tenants:
            store.tenants[tenant.id] = _copy_tenant(tenant)
        for user in users:
            store.users[user.id] = _copy_user(user)
        for file in files:
            store.files[file.id] = _copy_file(file)
        for file_id in removed:
            store.files.pop(file_id, None)
        store.commits += 1
        self.committed += 1
        for aggregate in work.aggregates():
            self._events.extend(aggregate.pull_events())
        work.deleted.clear()
        work.rebase()

    def _changes(
        self, work: _Workspace, store: FakeStore
    ) -> tuple[list[Tenant], list[User], list[File], list[str]]:
        """What this commit writes, checked against the store's unique and foreign keys."""
        tenants = [tenant for key, tenant in work.tenants.items() if key not in work.base_tenants]
        users = [user for key, user in work.users.items() if work.base_users.get(key) != _user_row(user)]
        files = [file for key, file in work.files.items() if work.base_files.get(key) != _file_row(file)]
        removed = [key for key in work.base_files if key not in work.files]
        for file in files:
            if file.id in work.base_files and file.id not in store.files:
                raise RuntimeError(f"file {file.id} was deleted by another unit of work (stale data)")

        after_tenants = {**store.tenants, **{tenant.id: tenant for tenant in tenants}}
        _unique("tenants.slug", (t.slug for t in after_tenants.values()))
        _unique("tenants.external_id", (t.external_id for t in after_tenants.values() if t.external_id))
        after_users = {**store.users, **{user.id: user for user in users}}
        _unique("users(tenant_id, email)", ((u.tenant_id, u.email) for u in after_users.values()))
        after_files = {**store.files, **{file.id: file for file in files}}
        for key in removed:
            after_files.pop(key, None)
        _unique("files(tenant_id, sha256)", ((f.tenant_id, f.sha256) for f in after_files.values()))
        _unique(
            "file_entities(file_id, entity_type, entity_id)",
            (
                (link.file_id, link.entity_type, link.entity_id)
                for f in after_files.values()
                for link in f.links
            ),
        )
        _unique("file_entities.id", (link.id for f in after_files.values() for link in f.links))
        for user in users:
            if user.tenant_id not in after_tenants:
                raise LookupError(f"users.tenant_id: no tenant {user.tenant_id} (foreign key)")
        for file in files:
            if file.tenant_id not in after_tenants:
                raise LookupError(f"files.tenant_id: no tenant {file.tenant_id} (foreign key)")
        return tenants, users, files, removed

    def rollback(self) -> None:
        self.workspace()
        self._work = _Workspace(self._store)

    def collect_events(self) -> list[DomainEvent]:
        events, self._events = self._events, []
        return events


def _unique(constraint: str, keys: Iterable[object]) -> None:
    seen: set[object] = set()
    for key in keys:
        if key in seen:
            raise DuplicateEntry(f"UNIQUE constraint failed: {constraint} {key!r}")
        seen.add(key)


def fake_uow_factory(store: FakeStore, clock: Clock) -> Callable[[str | None], FakeUnitOfWork]:
    def factory(tenant_id: str | None) -> FakeUnitOfWork:
        return FakeUnitOfWork(store, tenant_id, clock)

    return factory


# --- tenancy ------------------------------------------------------------------------------


class FakeTenantDirectory:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    def add(self, tenant: Tenant) -> None:
        self._uow.workspace().tenants[tenant.id] = tenant

    def by_slug(self, slug: str) -> Tenant | None:
        return next((t for t in self._uow.workspace().tenants.values() if t.slug == slug), None)

    def by_reference(self, reference: str) -> Tenant | None:
        found = [
            tenant
            for tenant in self._uow.workspace().tenants.values()
            if tenant.external_id == reference or tenant.slug == reference
        ]
        found.sort(key=lambda tenant: tenant.external_id is None)
        return found[0] if found else None

    def principal(self, tenant_reference: str, user_reference: str) -> Principal | None:
        tenant = self.by_reference(tenant_reference)
        if tenant is None:
            return None
        user = self.user(tenant.id, user_reference)
        return Principal(tenant_id=tenant.id, user_active=None if user is None else user.active)

    def all_ids(self) -> list[str]:
        tenants = sorted(self._uow.workspace().tenants.values(), key=lambda tenant: tenant.created_at)
        return [tenant.id for tenant in tenants]

    def add_user(self, user: User) -> None:
        self._uow.workspace().users[user.id] = user

    def user(self, tenant_id: str, reference: str) -> User | None:
        return next(
            (
                user
                for user in self._uow.workspace().users.values()
                if user.tenant_id == tenant_id and reference in (user.id, user.external_id, user.email)
            ),
            None,
        )


# --- files: aggregates ----------------------------------------------------------------------


class FakeFileRepository:
    def __init__(self, uow: FakeUnitOfWork, tenant_id: str, clock: Clock) -> None:
        self._uow = uow
        self._tenant_id = tenant_id
        self._clock = clock

    def _files(self) -> list[File]:
        return [f for f in self._uow.workspace().files.values() if f.tenant_id == self._tenant_id]

    def lock_content(self, sha256: str) -> None:
        self._uow.workspace()
        self._uow.store.locked.append((self._tenant_id, sha256))

    def add(self, file: File) -> None:
        if file.tenant_id != self._tenant_id:
            raise PermissionError("a file of another tenant cannot be added here")
        work = self._uow.workspace()
        work.files[file.id] = file
        work.deleted.pop(file.id, None)

    def get(self, file_id: str) -> File | None:
        return next((f for f in self._files() if f.id == file_id), None)

    def get_by_sha256(self, sha256: str) -> File | None:
        return next((f for f in self._files() if f.sha256 == sha256), None)

    def delete(self, file: File) -> None:
        if file.tenant_id != self._tenant_id:
            raise PermissionError("a file of another tenant cannot be deleted here")
        work = self._uow.workspace()
        if work.files.pop(file.id, None) is not None:
            work.deleted[file.id] = file

    def expired(self, now: datetime, limit: int) -> list[File]:
        found = [
            f
            for f in self._files()
            if f.status == FileStatus.TEMPORARY and f.expires_at is not None and f.expires_at <= now
        ]
        found.sort(key=lambda f: f.expires_at)  # type: ignore[arg-type, return-value]
        return found[:limit]


# --- files: read side -----------------------------------------------------------------------


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


def _contains(name: str, text: str) -> bool:
    """``lower(name) LIKE '%' || escaped(lower(text)) || '%'``: ``%`` and ``_`` are literal."""
    return text.lower() in name.lower()


class FakeFileReader:
    def __init__(self, uow: FakeUnitOfWork, tenant_id: str) -> None:
        self._uow = uow
        self._tenant_id = tenant_id

    def _files(self) -> list[File]:
        return [f for f in self._uow.workspace().files.values() if f.tenant_id == self._tenant_id]

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
            found = [f for f in found if _contains(f.name, filter.name_contains)]
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
        found = [f for f in self._files() if _contains(f.name, text)]
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
            for file in self._uow.workspace().files.values()
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
