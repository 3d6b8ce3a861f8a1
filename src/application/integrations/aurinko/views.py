"""Read models of the Aurinko connection and the synced inbox, and the inbox cursor."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from domain.integrations.aurinko.connection import ConnectionStatus, ServiceType
from domain.shared.errors import InvalidInput
from domain.shared.model import parse_id


@dataclass(frozen=True, slots=True, kw_only=True)
class AurinkoConnectionView:
    """Never the token."""

    id: str
    status: ConnectionStatus
    account_id: str
    email: str | None
    service_type: ServiceType
    scopes: tuple[str, ...]
    connected_at: datetime
    reconnect_reason: str | None
    last_sync_at: datetime | None
    last_sync_error: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthorizationUrlView:
    url: str
    expires_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class MailAddressView:
    address: str
    name: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class InboxMessageView:
    id: str
    account_id: str
    provider_id: str
    thread_id: str | None
    internet_message_id: str | None
    subject: str | None
    sender: MailAddressView | None
    to: tuple[MailAddressView, ...]
    cc: tuple[MailAddressView, ...]
    bcc: tuple[MailAddressView, ...]
    received_at: datetime
    sent_at: datetime | None
    snippet: str | None
    body: str | None
    has_attachments: bool
    labels: tuple[str, ...]
    in_reply_to: str | None
    deleted_at: datetime | None
    client_ids: tuple[str, ...]
    """The tenant's clients whose emails are on the message, as they stand now."""


@dataclass(frozen=True, slots=True, kw_only=True)
class InboxFilter:
    client_id: str | None = None
    thread_id: str | None = None
    search: str | None = None
    include_deleted: bool = False


@dataclass(frozen=True, slots=True)
class InboxCursor:
    """A position in the newest-first list of inbox messages."""

    received_at: datetime
    message_id: str

    @classmethod
    def of(cls, view: InboxMessageView) -> InboxCursor:
        return cls(view.received_at, view.id)

    def encode(self) -> str:
        raw = f"inbox|{self.received_at.isoformat()}|{self.message_id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, *, field: str = "after") -> InboxCursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            kind, moment, message_id = raw.split("|")
            received_at = datetime.fromisoformat(moment)
            if kind != "inbox" or received_at.tzinfo is None:
                raise ValueError("not an inbox cursor")
            return cls(received_at, parse_id(message_id, field=field))
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise InvalidInput(f"{field} is not a cursor of this list", field=field) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncReport:
    """What one inbox sync run did (counts only)."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    skipped_records: int = 0
    pages: int = 0
    restarted: bool = False
    skipped: str | None = None
    """Why nothing was synced (not connected), if so."""

    def plus(self, other: SyncReport) -> SyncReport:
        return SyncReport(
            inserted=self.inserted + other.inserted,
            updated=self.updated + other.updated,
            unchanged=self.unchanged + other.unchanged,
            deleted=self.deleted + other.deleted,
            skipped_records=self.skipped_records + other.skipped_records,
            pages=self.pages + other.pages,
            restarted=self.restarted or other.restarted,
            skipped=self.skipped or other.skipped,
        )
