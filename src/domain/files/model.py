"""Files: stored bytes of one tenant, deduplicated by SHA-256, linked to any business entity."""

from __future__ import annotations

import posixpath
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.shared.errors import InvalidInput
from domain.shared.model import Aggregate, DomainEvent, new_id

MAX_NAME_BYTES = 255
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_ENTITY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


class FileStatus(StrEnum):
    TEMPORARY = "TEMPORARY"
    READY = "READY"


class EntityType(StrEnum):
    """The one registry of what a file may be linked to."""

    INVOICE = "INVOICE"
    CREDIT_NOTE = "CREDIT_NOTE"
    QUOTE = "QUOTE"
    CONTRACT = "CONTRACT"
    EXPENSE = "EXPENSE"
    SUPPLIER = "SUPPLIER"
    CLIENT = "CLIENT"
    BANK_STATEMENT = "BANK_STATEMENT"
    STATEMENT = "STATEMENT"
    CHAT = "CHAT"
    EMAIL_MESSAGE = "EMAIL_MESSAGE"
    WHATSAPP_MESSAGE = "WHATSAPP_MESSAGE"
    SIGNATURE = "SIGNATURE"
    PDF_TEMPLATE = "PDF_TEMPLATE"
    REPORT = "REPORT"

    @classmethod
    def parse(cls, value: str, *, field: str = "entityType") -> EntityType:
        try:
            return cls(value)
        except ValueError:
            raise UnknownEntityType(
                f"unknown entity type {str(value)[:64]!r}; expected one of {', '.join(cls)}",
                field=field,
            ) from None


class UnknownEntityType(InvalidInput):
    code = "UNKNOWN_ENTITY_TYPE"


class FileTooLarge(InvalidInput):
    code = "FILE_TOO_LARGE"


class ChecksumMismatch(InvalidInput):
    code = "CHECKSUM_MISMATCH"


def parse_entity_id(value: str, *, field: str = "entityId") -> str:
    if not isinstance(value, str) or not _ENTITY_ID.match(value):
        raise InvalidInput(
            "entityId must be 1-128 letters, digits or . _ : - and start with a letter or digit",
            field=field,
        )
    return value


def parse_sha256(value: str, *, field: str = "sha256") -> str:
    digest = (value or "").strip().lower()
    if not _SHA256.match(digest):
        raise InvalidInput("sha256 must be 64 hexadecimal characters", field=field)
    return digest


def sanitize_file_name(raw: str | None) -> str:
    """A display name that is safe anywhere it ends up: headers, paths, archives, logs.

    Keeps the last path component, drops control and format characters, refuses ``..``,
    trims dots and spaces at the ends, and caps the UTF-8 length while keeping the extension.
    """
    name = unicodedata.normalize("NFC", raw or "")
    name = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") else ch
        for ch in name
    )
    name = posixpath.basename(name.replace("\\", "/"))
    name = re.sub(r"\.{2,}", ".", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    if not name:
        return "file"
    return fit_file_name(name, MAX_NAME_BYTES) or "file"


def fit_file_name(name: str, max_bytes: int) -> str:
    """``name`` in at most ``max_bytes`` of UTF-8, its extension kept (the last one, up to 16
    bytes: ``informe.v2.<300 x>.pdf`` keeps ``.pdf``), the stem cut on a character boundary."""
    if len(name.encode()) <= max_bytes:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or len(ext.encode()) > 16:
        stem, ext = name, ""
    budget = max_bytes - (len(ext.encode()) + 1 if ext else 0)
    stem = stem.encode()[:budget].decode(errors="ignore").rstrip(" .")
    if not stem:
        return ext.encode()[:max_bytes].decode(errors="ignore")
    return f"{stem}.{ext}" if ext else stem


@dataclass(frozen=True, slots=True, kw_only=True)
class FileAdded(DomainEvent):
    file_id: str
    sha256: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FileLinked(DomainEvent):
    file_id: str
    entity_type: EntityType
    entity_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FileDeleted(DomainEvent):
    file_id: str
    sha256: str


class FileEntity:
    """A link from a file to one business entity; unique per (file, type, id)."""

    def __init__(
        self,
        *,
        id: str,
        tenant_id: str,
        file_id: str,
        entity_type: EntityType,
        entity_id: str,
        created_at: datetime,
    ) -> None:
        self.id = id
        self.tenant_id = tenant_id
        self.file_id = file_id
        self.entity_type = entity_type
        self.entity_id = entity_id
        self.created_at = created_at


class File(Aggregate):
    links: list[FileEntity]

    def __init__(
        self,
        *,
        id: str,
        tenant_id: str,
        name: str,
        sha256: str,
        mime: str,
        size: int,
        status: FileStatus,
        created_by: str | None,
        created_at: datetime,
        expires_at: datetime | None,
    ) -> None:
        self.id = id
        self.tenant_id = tenant_id
        self.name = name
        self.sha256 = sha256
        self.mime = mime
        self.size = size
        self.status = status
        self.created_by = created_by
        self.created_at = created_at
        self.expires_at = expires_at
        self.links = []

    @classmethod
    def add(
        cls,
        *,
        tenant_id: str,
        name: str | None,
        sha256: str,
        mime: str,
        size: int,
        created_by: str | None,
        now: datetime,
        temporary_until: datetime | None = None,
    ) -> File:
        if size < 0:
            raise InvalidInput("size must not be negative", field="size")
        file = cls(
            id=new_id(),
            tenant_id=tenant_id,
            name=sanitize_file_name(name),
            sha256=parse_sha256(sha256),
            mime=mime,
            size=size,
            status=FileStatus.TEMPORARY if temporary_until else FileStatus.READY,
            created_by=created_by,
            created_at=now,
            expires_at=temporary_until,
        )
        file.record(FileAdded(tenant_id=tenant_id, file_id=file.id, sha256=file.sha256))
        return file

    @property
    def is_temporary(self) -> bool:
        return self.status is FileStatus.TEMPORARY

    def promote(self) -> None:
        """Keep the file for good: a temporary file stops expiring."""
        self.status = FileStatus.READY
        self.expires_at = None

    def extend_until(self, expires_at: datetime) -> None:
        """A temporary file uploaded again lives at least until ``expires_at``."""
        if self.is_temporary and (self.expires_at is None or self.expires_at < expires_at):
            self.expires_at = expires_at

    def is_expired(self, now: datetime) -> bool:
        return self.is_temporary and self.expires_at is not None and self.expires_at <= now

    def link(self, entity_type: EntityType, entity_id: str, *, now: datetime) -> FileEntity:
        """Link to an entity (idempotent); a linked file is no longer temporary."""
        entity_id = parse_entity_id(entity_id)
        self.promote()
        for existing in self.links:
            if existing.entity_type == entity_type and existing.entity_id == entity_id:
                return existing
        link = FileEntity(
            id=new_id(),
            tenant_id=self.tenant_id,
            file_id=self.id,
            entity_type=entity_type,
            entity_id=entity_id,
            created_at=now,
        )
        self.links.append(link)
        self.record(
            FileLinked(
                tenant_id=self.tenant_id,
                file_id=self.id,
                entity_type=entity_type,
                entity_id=entity_id,
            )
        )
        return link

    def delete(self) -> None:
        self.record(FileDeleted(tenant_id=self.tenant_id, file_id=self.id, sha256=self.sha256))
