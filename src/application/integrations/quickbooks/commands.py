"""Commands and queries of the QuickBooks Online connector."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from application.shared.messages import Command, Query


@dataclass(frozen=True, slots=True, kw_only=True)
class QuickbooksPolicy:
    """How this instance uses QuickBooks (from ``ISTMO_QBO_*``)."""

    configured: bool = False
    """Client id and secret are set: tenants can connect."""
    cdc_lookback: timedelta = timedelta(days=30)
    """QuickBooks keeps changes this long: a first catch-up (or a stale cursor) starts here."""
    cdc_overlap: timedelta = timedelta(minutes=5)
    """Each catch-up re-reads this much before its cursor (clock skew, late commits there)."""
    push_attempts: int = 8


# --- the connection ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class GetQboAuthorizationUrl(Query):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class ExchangeQboAuthorizationCode(Command):
    code: str
    state: str
    realm_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class GetQuickbooksConnection(Query):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class DisconnectQuickbooks(Command):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class SetQuickbooksMappings(Command):
    item_id: str
    income_account_id: str | None = None
    tax_codes: dict[object, object] = field(default_factory=dict)
    """ITBMS rate (0, 7, 10, 15) -> the company's tax code Id."""


# --- outbound ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class QueuePush(Command):
    """A local record changed (an invoicing event): mark its link pending and queue its push."""

    kind: str
    local_id: str
    change: str
    """What changed (the event), part of the job key: the same change queues one push."""
    parent_id: str | None = None
    """A payment's invoice."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PushRecord(Command):
    """One push to QuickBooks (the ``quickbooks.push`` job): a customer, an invoice or a payment."""

    kind: str
    local_id: str
    parent_id: str | None = None
    """A payment's invoice."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PushRecords(Command):
    """A batch of pushes of one kind (the ``quickbooks.push_batch`` job the backfill queues): the
    records, their links and the connection are read once for all of them."""

    kind: str
    local_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncQuickbooks(Command):
    """``syncQuickbooks``: with ``full``, queue a push of every client and invoice (the backfill);
    without, a catch-up of what changed in QuickBooks."""

    full: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryQuickbooksSync(Command):
    item_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FindQuickbooksSyncItems(Query):
    status: str | None = None
    first: int | None = None
    after: str | None = None


# --- inbound -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueRealmCatchUp(Command):
    """A notification named ``realm_id``: queue a catch-up of its connection, if any."""

    realm_id: str
    reference: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CatchUpAll(Command):
    """Queue a catch-up of every CONNECTED company (the periodic ``quickbooks.cdc_all`` job)."""

    slot: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CatchUp(Command):
    """One CDC run of the tenant's company (the ``quickbooks.cdc`` job)."""
