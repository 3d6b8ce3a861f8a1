"""Commands and queries of the files domain."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from application.files.staging import StagedBlob
from application.files.views import EntityRef, FileFilter, FileView
from application.shared.messages import Command, Query
from application.shared.progress import Progress, no_progress


@dataclass(frozen=True, slots=True, kw_only=True)
class FilePolicy:
    """The instance's limits for files (read from configuration by the container)."""

    max_upload_bytes: int = 50 * 1024 * 1024
    tmp_file_ttl: timedelta = timedelta(hours=24)
    default_url_ttl: int = 3600
    max_url_ttl: int = 7 * 24 * 3600
    upload_url_ttl: int = 3600
    gc_grace: timedelta = timedelta(hours=1)
    page_size: int = 20
    max_page_size: int = 100


# --- commands ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class AddFile(Command):
    """Keep staged bytes as a file (or reuse the tenant's file with the same bytes)."""

    content: StagedBlob
    name: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    temporary: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkFile(Command):
    file_id: str
    entity_type: str
    entity_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteFile(Command):
    file_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeclaredUpload:
    name: str
    size: int
    mime: str
    sha256: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PrepareDirectUploads(Command):
    uploads: tuple[DeclaredUpload, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateFile(Command):
    """Finalise a direct upload (or promote the tenant's file that already has these bytes)."""

    sha256: str
    name: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CollectFileGarbage(Command):
    """Delete expired temporary files, blobs no row references and stale staging objects;
    ``progress`` hears of every file, blob and staging object checked (``istmo files gc``)."""

    progress: Progress = field(default=no_progress, compare=False, repr=False)


# --- queries ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class GetFile(Query):
    file_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FindFiles(Query):
    filter: FileFilter = field(default_factory=FileFilter)
    first: int | None = None
    after: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchFiles(Query):
    text: str
    first: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FindFilesByName(Query):
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FindFilesByEntities(Query):
    refs: tuple[EntityRef, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class GetFileLinks(Query):
    file_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class SignFileUrls(Query):
    file_ids: tuple[str, ...]
    expires_in: int | None = None
    inline: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class SignFiles(Query):
    """Sign links for files the caller already read (views come only from tenant-bound readers)."""

    files: tuple[FileView, ...]
    expires_in: int | None = None
    inline: bool = False
