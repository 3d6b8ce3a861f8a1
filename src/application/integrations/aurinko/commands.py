"""Commands and queries of the Aurinko connector and the synced inbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from application.shared.messages import Command, Query


@dataclass(frozen=True, slots=True, kw_only=True)
class AurinkoPolicy:
    """How this instance uses Aurinko (from ``ISTMO_AURINKO_*``)."""

    configured: bool
    """Client id and secret are set: tenants can connect."""
    return_url: str
    days_within: int = 30
    sync_lease: timedelta = timedelta(minutes=10)
    """How long one sync run holds its connection; a run that died frees it after this."""
    not_ready_retry: timedelta = timedelta(seconds=15)
    """How soon a sync whose start answered ``ready: false`` runs again (through the job runner)."""


# --- the connection ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class GetAurinkoAuthorizationUrl(Query):
    service_type: str
    scopes: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectAurinko(Command):
    code: str
    state: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DisconnectAurinko(Command):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class GetAurinkoConnection(Query):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class MarkAurinkoNeedsReconnect(Command):
    """Aurinko answered 401 for the connection's token (``reason``: its code)."""

    connection_id: str
    reason: str


# --- the inbox ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncInbox(Command):
    """Queue a sync of the tenant's inbox now (``syncInbox``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RunInboxSync(Command):
    """One sync run of a connection (the ``aurinko.sync`` job)."""

    connection_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncAllInboxes(Command):
    """Queue a sync of every ACTIVE connection (the periodic ``aurinko.sync_all`` job)."""

    slot: str


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueAccountSync(Command):
    """An Aurinko notification for ``account_id``: queue a sync of its connection, if any."""

    account_id: str
    reference: str
    """What makes this trigger unique (the webhook event id): the same reference queues one sync."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FindInboxMessages(Query):
    client_id: str | None = None
    thread_id: str | None = None
    search: str | None = None
    include_deleted: bool = False
    first: int | None = None
    after: str | None = None
