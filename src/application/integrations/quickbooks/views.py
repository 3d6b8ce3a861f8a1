"""Read models of the QuickBooks connection and its sync items, and the sync items' cursor."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from domain.integrations.quickbooks.connection import ConnectionStatus
from domain.integrations.quickbooks.links import Origin, SyncKind, SyncStatus
from domain.shared.errors import InvalidInput
from domain.shared.model import parse_id


@dataclass(frozen=True, slots=True, kw_only=True)
class TaxCodeView:
    rate: int
    tax_code_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MappingsView:
    item_id: str
    income_account_id: str | None
    tax_codes: tuple[TaxCodeView, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionView:
    """Never a token."""

    id: str
    realm_id: str
    company_name: str | None
    status: ConnectionStatus
    connected_at: datetime
    reconnect_reason: str | None
    refresh_expires_at: datetime | None
    refresh_hard_expires_at: datetime | None
    last_sync_at: datetime | None
    mappings: MappingsView | None
    pending: int
    failed: int
    synced: int
    inbound_applied: int
    inbound_ignored: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthorizationUrlView:
    url: str
    expires_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncItemView:
    id: str
    kind: SyncKind
    local_id: str | None
    qbo_id: str | None
    sync_token: str | None
    status: SyncStatus
    origin: Origin
    version: int
    attempts: int
    error_message: str | None
    error_code: str | None
    error_element: str | None
    updated_at: datetime
    synced_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncQueued:
    """What ``syncQuickbooks`` queued."""

    customers: int
    invoices: int
    job_id: str | None = None


@dataclass(frozen=True, slots=True)
class SyncItemCursor:
    updated_at: datetime
    item_id: str

    @classmethod
    def of(cls, view: SyncItemView) -> SyncItemCursor:
        return cls(view.updated_at, view.id)

    def encode(self) -> str:
        raw = f"qbo|{self.updated_at.isoformat()}|{self.item_id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, *, field: str = "after") -> SyncItemCursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            kind, moment, item_id = raw.split("|")
            updated_at = datetime.fromisoformat(moment)
            if kind != "qbo" or updated_at.tzinfo is None:
                raise ValueError("not a sync item cursor")
            return cls(updated_at, parse_id(item_id, field=field))
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise InvalidInput(f"{field} is not a cursor of this list", field=field) from None
