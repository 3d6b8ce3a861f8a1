"""Read models of the files domain: frozen views and the filters that select them."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from domain.files.model import EntityType, FileStatus
from domain.shared.errors import InvalidInput
from domain.shared.model import parse_id


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


@dataclass(frozen=True, slots=True)
class FileCursor:
    """A position in the newest-first list of files: it stays valid if its file is deleted."""

    created_at: datetime
    file_id: str

    @classmethod
    def of(cls, view: FileView) -> FileCursor:
        return cls(view.created_at, view.id)

    def encode(self) -> str:
        raw = f"{self.created_at.isoformat()}|{self.file_id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, *, field: str = "after") -> FileCursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            moment, _, file_id = raw.partition("|")
            created_at = datetime.fromisoformat(moment)
            if created_at.tzinfo is None:
                raise ValueError("naive")
            return cls(created_at, parse_id(file_id, field=field))
        except (ValueError, UnicodeDecodeError, binascii.Error, InvalidInput):
            raise InvalidInput(f"{field} is not a cursor this API returned", field=field) from None


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
