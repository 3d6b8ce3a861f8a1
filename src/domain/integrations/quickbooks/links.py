"""The sync links: one per local record QuickBooks knows about (or should), with its QuickBooks
``Id`` and ``SyncToken``, and where its sync stands.

A link is the mapping table and the sync item at once: PENDING while a push is queued or running,
SYNCED once QuickBooks holds the record as it stands here, FAILED with QuickBooks' fault (message,
code, element) when it refused it. ``version`` counts the local changes queued; a create carries
a ``requestid`` made from the record and that version, so a create retried after a crash replays
QuickBooks' first answer instead of making a second object.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from domain.shared.model import new_id

MAX_ERROR = 1000
MAX_REQUEST_ID = 50
EDITED_THERE = "edited-in-quickbooks"
"""The fingerprint of an invoice changed in QuickBooks: its next push sends Istmo's version again."""
DELETED_IN_QUICKBOOKS = "DELETED_IN_QUICKBOOKS"
EDITED_IN_QUICKBOOKS = "EDITED_IN_QUICKBOOKS"


class SyncKind(StrEnum):
    CUSTOMER = "CUSTOMER"
    INVOICE = "INVOICE"
    PAYMENT = "PAYMENT"


class SyncStatus(StrEnum):
    PENDING = "PENDING"
    SYNCED = "SYNCED"
    FAILED = "FAILED"


class Origin(StrEnum):
    ISTMO = "ISTMO"
    """Made here and pushed to QuickBooks."""
    QUICKBOOKS = "QUICKBOOKS"
    """Made in QuickBooks and registered here (a payment recorded there)."""


def ad_hoc_customer_id(tenant_id: str, name: str, ruc: str | None) -> str:
    """The local id of an ad-hoc party billed on invoices (no client record): the same name and RUC
    are the same QuickBooks customer."""
    key = f"{tenant_id}|{name.strip().casefold()}|{(ruc or '').strip().upper()}"
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"istmo:quickbooks:adhoc:{key}"))


class SyncLink:
    def __init__(
        self,
        *,
        id: str,
        tenant_id: str,
        kind: SyncKind,
        local_id: str | None,
        qbo_id: str | None,
        sync_token: str | None,
        status: SyncStatus,
        origin: Origin,
        version: int,
        synced_version: int,
        fingerprint: str | None,
        voided: bool,
        attempts: int,
        last_error: str | None,
        error_code: str | None,
        error_element: str | None,
        created_at: datetime,
        updated_at: datetime,
        synced_at: datetime | None,
    ) -> None:
        self.id = id
        self.tenant_id = tenant_id
        self.kind = kind
        self.local_id = local_id
        self.qbo_id = qbo_id
        self.sync_token = sync_token
        self.status = status
        self.origin = origin
        self.version = version
        self.synced_version = synced_version
        self.fingerprint = fingerprint
        self.voided = voided
        self.attempts = attempts
        self.last_error = last_error
        self.error_code = error_code
        self.error_element = error_element
        self.created_at = created_at
        self.updated_at = updated_at
        self.synced_at = synced_at

    @classmethod
    def new(
        cls, *, tenant_id: str, kind: SyncKind, local_id: str | None, now: datetime,
        origin: Origin = Origin.ISTMO, qbo_id: str | None = None,
    ) -> SyncLink:
        return cls(
            id=new_id(), tenant_id=tenant_id, kind=kind, local_id=local_id, qbo_id=qbo_id, sync_token=None,
            status=SyncStatus.PENDING, origin=origin, version=1, synced_version=0, fingerprint=None, voided=False,
            attempts=0, last_error=None, error_code=None, error_element=None, created_at=now, updated_at=now,
            synced_at=None,
        )

    def snapshot(self) -> SyncLink:
        """A detached copy to read after the unit of work that loaded this one has ended."""
        return SyncLink(**{name: getattr(self, name) for name in _FIELDS})

    @property
    def linked(self) -> bool:
        return self.qbo_id is not None

    def changed(self, *, now: datetime) -> None:
        """The local record changed: another version to push."""
        self.version += 1
        self.status = SyncStatus.PENDING
        self.updated_at = now

    def queued(self, *, now: datetime) -> None:
        """Queued again (a retry or a backfill): PENDING, the fault forgotten, the version kept."""
        if SyncStatus(self.status) is not SyncStatus.SYNCED or self.synced_version < self.version:
            self.status = SyncStatus.PENDING
        self.last_error = self.error_code = self.error_element = None
        self.updated_at = now

    def request_id(self, operation: str, *, versioned: bool = True) -> str:
        """``requestid`` of a write (at most 50 chars): the operation, the record, its version and how
        many times QuickBooks refused it (a refusal wrote nothing: the next try is a new request).
        ``versioned=False`` for records that never change before they are created (invoices,
        payments): a void queued meanwhile must not turn a retried create into a second invoice."""
        local = (self.local_id or self.id).replace("-", "")
        version = f"{self.version}." if versioned else ""
        return f"{operation}{version}{self.attempts}-{local}"[:MAX_REQUEST_ID]

    def synced(self, *, qbo_id: str, sync_token: str | None, fingerprint: str | None, now: datetime) -> None:
        self.qbo_id = qbo_id
        self.sync_token = sync_token
        self.fingerprint = fingerprint
        self.synced_version = self.version
        self.status = SyncStatus.SYNCED
        self.last_error = self.error_code = self.error_element = None
        self.synced_at = now
        self.updated_at = now

    def deleted_there(self, message: str, *, now: datetime) -> None:
        """QuickBooks no longer has the object (someone deleted it there) while the record stands
        here: unlinked and FAILED with why, so a retry makes it there again (a new ``requestid``)."""
        self.qbo_id = self.sync_token = self.fingerprint = None
        self.voided = False
        self.failed(message, code=DELETED_IN_QUICKBOOKS, element=None, now=now)

    def edited_there(self, message: str, *, sync_token: str | None, element: str | None, now: datetime) -> None:
        """Someone changed the object in QuickBooks so that it no longer says what Istmo sent:
        FAILED with what differs; a retry sends Istmo's version again (with the new SyncToken)."""
        self.sync_token = sync_token
        self.fingerprint = EDITED_THERE
        self.failed(message, code=EDITED_IN_QUICKBOOKS, element=element, now=now)

    def taken_back(self, *, now: datetime) -> None:
        """A payment that came from QuickBooks was deleted there and removed here (its link stays,
        so a catch-up that sees it again does not register it again)."""
        self.voided = True
        self.updated_at = now

    def failed(self, message: str, *, code: str | None, element: str | None, now: datetime) -> None:
        self.status = SyncStatus.FAILED
        self.attempts += 1
        self.last_error = message[:MAX_ERROR]
        self.error_code = (code or None) and code[:40]
        self.error_element = (element or None) and element[:200]
        self.updated_at = now


_FIELDS = (
    "id", "tenant_id", "kind", "local_id", "qbo_id", "sync_token", "status", "origin", "version", "synced_version",
    "fingerprint", "voided", "attempts", "last_error", "error_code", "error_element", "created_at", "updated_at",
    "synced_at",
)
