"""Handlers of the files domain. Each takes its message and a unit of work bound to the tenant."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from application.files.commands import (
    AddFile,
    CollectFileGarbage,
    CreateFile,
    DeclaredUpload,
    DeleteFile,
    FilePolicy,
    FindFiles,
    FindFilesByEntities,
    FindFilesByName,
    GetFile,
    GetFileLinks,
    LinkFile,
    PrepareDirectUploads,
    SearchFiles,
    SignFiles,
    SignFileUrls,
)
from application.files.keeping import FileKeeper, blob_key, file_view
from application.files.ports import FileStorage, FilesUnitOfWork
from application.files.staging import HEAD, StagedBlob, too_large
from application.files.views import (
    DirectUploadView,
    EntityRef,
    FileCursor,
    FileEntityView,
    FileView,
    GarbageReport,
    SignedUrlView,
)
from application.shared.actors import tenant_actor
from application.shared.messages import Page, page_size
from application.shared.ports import Clock, UnitOfWorkFactory
from application.shared.progress import Progress
from domain.files.model import (
    ChecksumMismatch,
    EntityType,
    File,
    FileEntity,
    parse_entity_id,
    parse_sha256,
    sanitize_file_name,
)
from domain.shared.errors import InvalidInput, NotFound
from domain.shared.model import parse_id
from domain.tenancy.model import Actor

_MIME = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")


class UploadNotFound(NotFound):
    code = "UPLOAD_NOT_FOUND"


def direct_upload_ref(tenant_id: str, sha256: str) -> str:
    return f"direct/{tenant_id}/{sha256}"


def link_view(link: FileEntity) -> FileEntityView:
    return FileEntityView(
        id=link.id,
        file_id=link.file_id,
        entity_type=link.entity_type,
        entity_id=link.entity_id,
        created_at=link.created_at,
    )


def entity_ref(entity_type: str | None, entity_id: str | None) -> EntityRef | None:
    """Both or neither: a half-given entity is a mistake worth naming."""
    if entity_type is None and entity_id is None:
        return None
    if entity_type is None or entity_id is None:
        missing = "entityType" if entity_type is None else "entityId"
        raise InvalidInput(f"{missing} is required when linking to an entity", field=missing)
    return EntityRef(EntityType.parse(entity_type), parse_entity_id(entity_id))


class AddFileHandler:
    def __init__(self, keeper: FileKeeper, storage: FileStorage, policy: FilePolicy) -> None:
        self._keeper = keeper
        self._storage = storage
        self._policy = policy

    def __call__(self, cmd: AddFile, uow: FilesUnitOfWork) -> FileView:
        try:
            actor = tenant_actor(cmd.actor)
            entity = entity_ref(cmd.entity_type, cmd.entity_id)
            if cmd.content.size > self._policy.max_upload_bytes:
                raise too_large(self._policy.max_upload_bytes)
        except Exception:
            self._storage.discard_staged(cmd.content.ref)
            raise
        return self._keeper.keep(
            uow, actor, cmd.content, name=cmd.name, entity=entity, temporary=cmd.temporary
        )


class CreateFileHandler:
    """Finalise a direct upload: re-hash what arrived and keep it only if it is what was declared."""

    def __init__(self, keeper: FileKeeper, storage: FileStorage, clock: Clock, policy: FilePolicy) -> None:
        self._keeper = keeper
        self._storage = storage
        self._clock = clock
        self._policy = policy

    def __call__(self, cmd: CreateFile, uow: FilesUnitOfWork) -> FileView:
        actor = tenant_actor(cmd.actor)
        sha256 = parse_sha256(cmd.sha256)
        entity = entity_ref(cmd.entity_type, cmd.entity_id)
        with uow:
            existing = uow.files.get_by_sha256(sha256)
            if existing is not None:
                existing.promote()
                if entity is not None:
                    existing.link(entity.entity_type, entity.entity_id, now=self._clock.now())
                uow.commit()
                self._storage.discard_staged(direct_upload_ref(actor.tenant_id, sha256))
                return file_view(existing)
        staged = self._verify(direct_upload_ref(actor.tenant_id, sha256), sha256)
        return self._keeper.keep(uow, actor, staged, name=cmd.name, entity=entity, temporary=False)

    def _verify(self, ref: str, declared: str) -> StagedBlob:
        digest, size, head = hashlib.sha256(), 0, bytearray()
        try:
            for chunk in self._storage.read_staged(ref):
                size += len(chunk)
                if size > self._policy.max_upload_bytes:
                    self._storage.discard_staged(ref)
                    raise too_large(self._policy.max_upload_bytes)
                if len(head) < HEAD:
                    head += chunk[: HEAD - len(head)]
                digest.update(chunk)
        except KeyError:
            raise UploadNotFound(
                f"nothing was uploaded for sha256 {declared}; upload it first with the URL "
                "from generateTempFileUrls",
                field="sha256",
            ) from None
        if digest.hexdigest() != declared:
            self._storage.discard_staged(ref)
            raise ChecksumMismatch(
                f"the uploaded bytes hash to {digest.hexdigest()}, not the declared {declared}; "
                "the upload was discarded",
                field="sha256",
            )
        return StagedBlob(ref=ref, sha256=declared, size=size, head=bytes(head))


class LinkFileHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: LinkFile, uow: FilesUnitOfWork) -> FileEntityView:
        file_id = parse_id(cmd.file_id, field="fileId")
        entity_type = EntityType.parse(cmd.entity_type)
        entity_id = parse_entity_id(cmd.entity_id)
        with uow:
            file = _locked(uow, file_id, field="fileId")
            link = file.link(entity_type, entity_id, now=self._clock.now())
            uow.commit()
            return link_view(link)


class DeleteFileHandler:
    """Remove the row and its links; the blob goes once no row of the tenant needs it."""

    def __init__(self, storage: FileStorage) -> None:
        self._storage = storage

    def __call__(self, cmd: DeleteFile, uow: FilesUnitOfWork) -> str:
        actor = tenant_actor(cmd.actor)
        file_id = parse_id(cmd.file_id, field="id")
        with uow:
            file = _locked(uow, file_id)
            file.delete()
            uow.files.delete(file)
            uow.commit()
        _delete_blob_if_unreferenced(uow, self._storage, actor.tenant_id, file.sha256)
        return file_id


def _delete_blob_if_unreferenced(
    uow: FilesUnitOfWork, storage: FileStorage, tenant_id: str, sha256: str
) -> bool:
    with uow:
        uow.files.lock_content(sha256)
        if uow.files.get_by_sha256(sha256) is not None:
            return False
        storage.delete(blob_key(tenant_id, sha256))
        uow.commit()
        return True


def _locked(uow: FilesUnitOfWork, file_id: str, *, field: str = "id") -> File:
    """The file, read (whole) under its content lock: what GC or a concurrent delete did is seen.
    Its content's key is taken from the file's row alone (its view), not from the whole aggregate."""
    seen = uow.file_views.get(file_id)
    if seen is None:
        raise NotFound(f"file {file_id} not found", field=field)
    uow.files.lock_content(seen.sha256)
    return _get(uow, file_id, field=field)


def _get(uow: FilesUnitOfWork, file_id: str, *, field: str = "id") -> File:
    file = uow.files.get(file_id)
    if file is None:
        raise NotFound(f"file {file_id} not found", field=field)
    return file


class PrepareDirectUploadsHandler:
    def __init__(self, storage: FileStorage, policy: FilePolicy) -> None:
        self._storage = storage
        self._policy = policy

    def __call__(self, cmd: PrepareDirectUploads, uow: FilesUnitOfWork) -> list[DirectUploadView]:
        actor = tenant_actor(cmd.actor)
        if not cmd.uploads:
            raise InvalidInput("files must list at least one upload", field="files")
        if len(cmd.uploads) > 100:
            raise InvalidInput("at most 100 uploads can be prepared at once", field="files")
        declared = [self._validate(i, upload) for i, upload in enumerate(cmd.uploads)]
        views = []
        with uow:
            for upload in declared:
                existing = uow.file_views.by_sha256(upload.sha256)
                if existing is not None:
                    views.append(
                        DirectUploadView(
                            name=upload.name, sha256=upload.sha256, upload_url=None, method=None,
                            headers={}, expires_at=None, existing_file=existing,
                        )
                    )
                    continue
                target = self._storage.upload_target(
                    direct_upload_ref(actor.tenant_id, upload.sha256),
                    size=upload.size,
                    mime=upload.mime,
                    expires_in=self._policy.upload_url_ttl,
                )
                views.append(
                    DirectUploadView(
                        name=upload.name, sha256=upload.sha256, upload_url=target.url,
                        method=target.method, headers=dict(target.headers),
                        expires_at=target.expires_at, existing_file=None,
                    )
                )
        return views

    def _validate(self, index: int, upload: DeclaredUpload) -> DeclaredUpload:
        where = f"files[{index}]"
        if upload.size <= 0:
            raise InvalidInput(f"{where}.size must be a positive number of bytes", field=f"{where}.size")
        if upload.size > self._policy.max_upload_bytes:
            raise too_large(self._policy.max_upload_bytes)
        mime = (upload.mime or "").strip().lower()
        if not _MIME.match(mime):
            raise InvalidInput(f"{where}.mime must look like type/subtype", field=f"{where}.mime")
        return DeclaredUpload(
            name=sanitize_file_name(upload.name),
            size=upload.size,
            mime=mime,
            sha256=parse_sha256(upload.sha256, field=f"{where}.sha256"),
        )


class CollectFileGarbageHandler:
    """Safe while uploads run: every blob decision is taken under the content lock."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory[FilesUnitOfWork],
        storage: FileStorage,
        clock: Clock,
        policy: FilePolicy,
    ) -> None:
        self._uow_factory = uow_factory
        self._storage = storage
        self._clock = clock
        self._policy = policy

    def __call__(self, cmd: CollectFileGarbage, uow: FilesUnitOfWork) -> GarbageReport:
        now = self._clock.now()
        tally = _Tally(cmd.progress)
        with uow:
            tenant_ids = uow.tenants.all_ids()
        expired = sum(self._delete_expired(tenant_id, now, tally) for tenant_id in tenant_ids)
        cutoff = now - self._policy.gc_grace
        blobs = list(self._storage.list_blobs())
        staging = list(self._storage.list_staged())
        tally.total = tally.checked + len(blobs) + len(staging)  # known once the expired files are done
        orphans = 0
        for blob in blobs:
            tenant_id, _, sha256 = blob.key.partition("/")
            removed = blob.modified_at <= cutoff and _delete_blob_if_unreferenced(
                self._uow_factory(tenant_id), self._storage, tenant_id, sha256
            )
            orphans += removed
            tally.count(removed=removed)
        stale = 0
        for staged in staging:
            removed = staged.modified_at <= cutoff
            if removed:
                self._storage.discard_staged(staged.key)
                stale += 1
            tally.count(removed=removed)
        return GarbageReport(expired_files=expired, orphan_blobs=orphans, stale_staging=stale)

    def _delete_expired(self, tenant_id: str, now: datetime, tally: _Tally) -> int:
        deleted = 0
        while True:
            uow = self._uow_factory(tenant_id)
            with uow:
                batch = uow.files.expired(now, limit=200)
                for candidate in batch:
                    uow.files.lock_content(candidate.sha256)
                    file = uow.files.get(candidate.id)  # re-read: kept or deleted meanwhile?
                    removed = file is not None and file.is_expired(now)
                    if file is not None and removed:
                        file.delete()
                        uow.files.delete(file)
                        deleted += 1
                    tally.count(removed=removed)
                uow.commit()
            if len(batch) < 200:
                return deleted


class _Tally:
    """What the collector has checked and removed so far, told to its ``Progress`` as it goes."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self.checked = 0
        self.removed = 0
        self.total: int | None = None

    def count(self, *, removed: bool) -> None:
        self.checked += 1
        self.removed += removed
        self._progress(self.checked, self.total, self.removed)


# --- queries ----------------------------------------------------------------------------


class GetFileHandler:
    def __call__(self, query: GetFile, uow: FilesUnitOfWork) -> FileView:
        file_id = parse_id(query.file_id, field="id")
        with uow:
            view = uow.file_views.get(file_id)
        if view is None:
            raise NotFound(f"file {file_id} not found", field="id")
        return view


class FindFilesHandler:
    def __init__(self, policy: FilePolicy) -> None:
        self._policy = policy

    def __call__(self, query: FindFiles, uow: FilesUnitOfWork) -> Page[FileView]:
        first = _page_size(query.first, self._policy)
        after = FileCursor.decode(query.after, field="after") if query.after else None
        with uow:
            rows = uow.file_views.find(query.filter, first=first + 1, after=after)
        return Page.of(rows, first, lambda item: FileCursor.of(item).encode())


class SearchFilesHandler:
    def __init__(self, policy: FilePolicy) -> None:
        self._policy = policy

    def __call__(self, query: SearchFiles, uow: FilesUnitOfWork) -> list[FileView]:
        text = (query.text or "").strip()
        if not text:
            raise InvalidInput("search must not be empty", field="search")
        with uow:
            return uow.file_views.search(text[:200], limit=_page_size(query.first, self._policy))


class FindFilesByNameHandler:
    def __init__(self, policy: FilePolicy) -> None:
        self._policy = policy

    def __call__(self, query: FindFilesByName, uow: FilesUnitOfWork) -> list[FileView]:
        if not (query.name or "").strip():
            raise InvalidInput("name must not be empty", field="name")
        with uow:
            return uow.file_views.by_name(query.name, limit=self._policy.max_page_size)


class FindFilesByEntitiesHandler:
    def __call__(
        self, query: FindFilesByEntities, uow: FilesUnitOfWork
    ) -> dict[EntityRef, list[FileView]]:
        with uow:
            found = uow.file_views.by_entities(query.refs)
        return {ref: found.get(ref, []) for ref in query.refs}


class GetFileLinksHandler:
    def __call__(self, query: GetFileLinks, uow: FilesUnitOfWork) -> dict[str, list[FileEntityView]]:
        with uow:
            found = uow.file_views.links_of(query.file_ids)
        return {file_id: found.get(file_id, []) for file_id in query.file_ids}


class SignFilesHandler:
    """Signed download links for files already read; reads nothing itself."""

    def __init__(self, storage: FileStorage, clock: Clock, policy: FilePolicy) -> None:
        self._storage = storage
        self._clock = clock
        self._policy = policy

    def __call__(self, query: SignFiles, uow: FilesUnitOfWork) -> list[SignedUrlView]:
        return self.sign(query.actor, query.files, query.expires_in, query.inline)

    def sign(
        self, actor: Actor, views: Sequence[FileView], expires_in: int | None, inline: bool
    ) -> list[SignedUrlView]:
        seconds = self._policy.default_url_ttl if expires_in is None else expires_in
        if not 1 <= seconds <= self._policy.max_url_ttl:
            raise InvalidInput(
                f"expiresIn must be between 1 and {self._policy.max_url_ttl} seconds", field="expiresIn"
            )
        expires_at = self._clock.now() + timedelta(seconds=seconds)
        return [
            SignedUrlView(
                file_id=view.id,
                url=self._storage.download_url(
                    blob_key(actor.tenant_id, view.sha256),
                    filename=view.name,
                    mime=view.mime,
                    expires_in=seconds,
                    inline=inline,
                ),
                expires_at=expires_at,
            )
            for view in views
        ]


class SignFileUrlsHandler(SignFilesHandler):
    """Signed download links for files named by id (each must be the tenant's)."""

    def __call__(self, query: SignFileUrls, uow: FilesUnitOfWork) -> list[SignedUrlView]:  # type: ignore[override]
        ids = [parse_id(file_id, field="fileIds") for file_id in query.file_ids]
        if not ids:
            raise InvalidInput("fileIds must list at least one file", field="fileIds")
        with uow:
            views = {view.id: view for view in uow.file_views.get_many(ids)}
        missing = [file_id for file_id in ids if file_id not in views]
        if missing:
            raise NotFound(f"file {missing[0]} not found", field="fileIds")
        return self.sign(query.actor, [views[file_id] for file_id in ids], query.expires_in, query.inline)


def _page_size(first: int | None, policy: FilePolicy) -> int:
    return page_size(first, default=policy.page_size, maximum=policy.max_page_size)
