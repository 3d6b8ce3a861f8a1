"""Read models of the files domain: frozen views and the filters that select them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.files.model import EntityType, FileStatus


@dataclass(frozen=True, slots=True)
class EntityRef:
    entity_type: EntityType
    entity_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FileView:
    id: str
    name: str
    sha256: str
    mime: str
    size: int
    status: FileStatus
    created_by: str | None
    created_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class FileEntityView:
    id: str
    file_id: str
    entity_type: EntityType
    entity_id: str
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class FileFilter:
    name_contains: str | None = None
    mime: str | None = None
    entity_type: EntityType | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedUrlView:
    file_id: str
    url: str
    expires_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class DirectUploadView:
    """Where to upload one declared file, or the file the tenant already has with those bytes."""

    name: str
    sha256: str
    upload_url: str | None
    method: str | None
    headers: dict[str, str]
    expires_at: datetime | None
    existing_file: FileView | None


@dataclass(frozen=True, slots=True, kw_only=True)
class GarbageReport:
    expired_files: int
    orphan_blobs: int
    stale_staging: int
