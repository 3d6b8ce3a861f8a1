"""Ports of the files domain: where bytes live, how rows are kept, how views are read."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from application.files.views import EntityRef, FileCursor, FileEntityView, FileFilter, FileView
from application.shared.ports import UnitOfWork
from application.tenancy.ports import TenantDirectory
from domain.files.model import File


@dataclass(frozen=True, slots=True)
class StoredBlob:
    """A blob in storage: its key (``{tenant_id}/{sha256}`` or a staging reference) and age."""

    key: str
    modified_at: datetime


@dataclass(frozen=True, slots=True)
class UploadTarget:
    """Where and how a client uploads bytes directly to storage."""

    url: str
    method: str
    headers: Mapping[str, str]
    expires_at: datetime


class StagingWriter(Protocol):
    """A staging object being written; invisible to readers until committed under a key."""

    ref: str

    def write(self, data: bytes, /) -> int: ...

    def close(self) -> None: ...


class FileStorage(Protocol):
    """Blob storage. Final blobs are addressed by ``{tenant_id}/{sha256}``; staging objects by ref."""

    def open_staging(self) -> StagingWriter: ...

    def read_staged(self, ref: str) -> Iterator[bytes]:
        """The bytes of a staging object; ``KeyError`` if there is none."""
        ...

    def commit_staged(self, ref: str, key: str) -> None:
        """Move a staging object to ``key``, replacing what is there (same bytes by design)."""
        ...

    def discard_staged(self, ref: str) -> None:
        """Remove a staging object; no error if it is already gone."""
        ...

    def read(self, key: str) -> Iterator[bytes]: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def list_blobs(self) -> Iterable[StoredBlob]: ...

    def list_staged(self) -> Iterable[StoredBlob]: ...

    def download_url(
        self, key: str, *, filename: str, mime: str, expires_in: int, inline: bool
    ) -> str: ...

    def upload_target(
        self, ref: str, *, size: int, mime: str, expires_in: int
    ) -> UploadTarget:
        """A signed URL through which a client may put exactly ``size`` bytes at staging ``ref``."""
        ...

    def check(self) -> None:
        """Raise if the storage cannot be reached (readiness probe)."""
        ...


class MimeDetector(Protocol):
    def detect(self, head: bytes, name: str) -> str:
        """The MIME type of content that starts with ``head``, judged from the bytes."""
        ...


class FileRepository(Protocol):
    """The files of one tenant, as aggregates."""

    def lock_content(self, sha256: str) -> None:
        """Serialise, until the transaction ends, everything touching this tenant's copy of
        these bytes: uploads, deletes and garbage collection of the same blob."""
        ...

    def add(self, file: File) -> None: ...

    def get(self, file_id: str) -> File | None: ...

    def get_by_sha256(self, sha256: str) -> File | None: ...

    def delete(self, file: File) -> None: ...

    def expired(self, now: datetime, limit: int) -> list[File]: ...


class FileReader(Protocol):
    """Read side of the files of one tenant: frozen views, batched where lists are resolved."""

    def get(self, file_id: str) -> FileView | None: ...

    def get_many(self, file_ids: Sequence[str]) -> list[FileView]: ...

    def by_sha256(self, sha256: str) -> FileView | None: ...

    def find(self, filter: FileFilter, *, first: int, after: FileCursor | None) -> list[FileView]:
        """Newest first, by (created_at, id); ``after`` is where the previous page ended."""
        ...

    def search(self, text: str, *, limit: int) -> list[FileView]: ...

    def by_name(self, name: str, *, limit: int) -> list[FileView]: ...

    def by_entities(self, refs: Sequence[EntityRef]) -> dict[EntityRef, list[FileView]]: ...

    def links_of(self, file_ids: Sequence[str]) -> dict[str, list[FileEntityView]]: ...


class FilesUnitOfWork(UnitOfWork, Protocol):
    files: FileRepository
    file_views: FileReader
    tenants: TenantDirectory
