"""Handlers of the Aurinko connector: OAuth connect/disconnect, and the inbox sync.

Nothing here holds a transaction open while Aurinko is called: each call to the provider sits
between units of work, and each page of a sync is written in one transaction of its own (a crash
mid-sync loses nothing: the next run pages again from the last stored delta token, and storing a
message is idempotent).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import structlog

from application.integrations.aurinko.commands import (
    AurinkoPolicy,
    ConnectAurinko,
    DisconnectAurinko,
    FindInboxMessages,
    GetAurinkoAuthorizationUrl,
    GetAurinkoConnection,
    MarkAurinkoNeedsReconnect,
    QueueAccountSync,
    RunInboxSync,
    SyncAllInboxes,
    SyncInbox,
)
from application.integrations.aurinko.oauth_state import OAuthStateCodec
from application.integrations.aurinko.ports import (
    AurinkoUnitOfWork,
    ConnectionRef,
    InboxProvider,
    MessageWrite,
    OAuthProvider,
    ProviderError,
    ProviderRefused,
    ProviderUnavailable,
    StoredMessage,
    SyncPage,
    SyncTokenExpired,
    TokenRejected,
)
from application.integrations.aurinko.views import (
    AurinkoConnectionView,
    AuthorizationUrlView,
    InboxCursor,
    InboxFilter,
    InboxMessageView,
    SyncReport,
)
from application.shared.actors import tenant_actor, tenant_admin
from application.shared.messages import Page, page_size
from application.shared.ports import Clock, DuplicateEntry
from application.shared.secrets import SecretBox, SecretUnreadable
from domain.integrations.aurinko.connection import (
    AurinkoConnection,
    AurinkoNeedsReconnect,
    AurinkoNotConfigured,
    AurinkoNotConnected,
    AurinkoRefused,
    AurinkoUnavailable,
    ConnectionStatus,
    InvalidOAuthState,
    ServiceType,
    parse_scopes,
    token_context,
)
from domain.integrations.aurinko.inbox import InboundMessage, bounded
from domain.shared.errors import InvalidInput
from domain.shared.model import new_id, parse_id
from domain.tenancy.model import Actor, Role

log = structlog.get_logger(__name__)

SYNC_JOB = "aurinko.sync"
SYNC_ALL_JOB = "aurinko.sync_all"
SYSTEM_USER = "system:aurinko"
MAX_CODE = 2048
MAX_PAGES = 100_000  # a provider that never ends its paging stops here
REFRESH_STATISTICS_AFTER = 2_000  # messages inserted in one run, then 4x as many, and so on


def system_actor(tenant_id: str) -> Actor:
    """Who runs a tenant's background work (a job): the tenant itself, no user."""
    return Actor(tenant_id=tenant_id, user_id=SYSTEM_USER, role=Role.OWNER)


def connection_view(connection: AurinkoConnection) -> AurinkoConnectionView:
    return AurinkoConnectionView(
        id=connection.id,
        status=ConnectionStatus(connection.status),
        account_id=connection.account_id,
        email=connection.email,
        service_type=ServiceType(connection.service_type),
        scopes=tuple(connection.scopes.split()),
        connected_at=connection.connected_at,
        reconnect_reason=connection.reconnect_reason,
        last_sync_at=connection.last_sync_at,
        last_sync_error=connection.last_sync_error,
    )


def _sync_key(connection_id: str, trigger: str) -> str:
    return f"aurinko.sync:{connection_id}:{trigger}"[:200]


# --- the connection ----------------------------------------------------------------------------


class GetAurinkoAuthorizationUrlHandler:
    def __init__(self, oauth: OAuthProvider, codec: OAuthStateCodec, clock: Clock, policy: AurinkoPolicy) -> None:
        self._oauth, self._codec, self._clock, self._policy = oauth, codec, clock, policy

    def __call__(self, query: GetAurinkoAuthorizationUrl, uow: AurinkoUnitOfWork) -> AuthorizationUrlView:
        actor = tenant_admin(query.actor, "connect a mailbox")
        if not self._policy.configured:
            raise AurinkoNotConfigured("Aurinko is not configured on this instance (ISTMO_AURINKO_CLIENT_ID/SECRET)")
        service_type = ServiceType.parse(query.service_type)
        scopes = parse_scopes(query.scopes)
        token, state = self._codec.issue(
            tenant_id=actor.tenant_id,
            user_id=actor.user_id,
            service_type=service_type.value,
            scopes=scopes,
            now=self._clock.now(),
        )
        url = self._oauth.authorize_url(
            service_type=service_type, scopes=scopes, return_url=self._policy.return_url, state=token
        )
        return AuthorizationUrlView(url=url, expires_at=state.expires_at)


class ConnectAurinkoHandler:
    def __init__(
        self,
        oauth: OAuthProvider,
        codec: OAuthStateCodec,
        secrets: SecretBox,
        clock: Clock,
        policy: AurinkoPolicy,
    ) -> None:
        self._oauth, self._codec, self._secrets, self._clock, self._policy = oauth, codec, secrets, clock, policy

    def __call__(self, cmd: ConnectAurinko, uow: AurinkoUnitOfWork) -> AurinkoConnectionView:
        actor = tenant_admin(cmd.actor, "connect a mailbox")
        if not self._policy.configured:
            raise AurinkoNotConfigured("Aurinko is not configured on this instance (ISTMO_AURINKO_CLIENT_ID/SECRET)")
        code = cmd.code.strip() if isinstance(cmd.code, str) else ""
        if not code or len(code) > MAX_CODE or any(c.isspace() for c in code):
            raise InvalidInput("code must be the authorization code Aurinko returned", field="code")
        now = self._clock.now()
        state = self._codec.verify(cmd.state, tenant_id=actor.tenant_id, user_id=actor.user_id, now=now)
        # Single use: the nonce is consumed before the code is exchanged, in a transaction of its
        # own, so a replayed state is refused even while the first use is still talking to Aurinko.
        try:
            with uow:
                fresh = uow.oauth_states.consume(state.nonce, expires_at=state.expires_at, now=now)
                uow.commit()
        except DuplicateEntry:
            fresh = False
        if not fresh:
            raise InvalidOAuthState("state was used already: start the connection again", field="state")
        try:
            grant = self._oauth.exchange_code(code)
        except ProviderUnavailable as error:
            raise AurinkoUnavailable(f"Aurinko could not exchange the code now ({error.reason}): try again") from None
        except ProviderError as error:
            raise AurinkoRefused(
                f"Aurinko refused the authorization code ({error.reason}): start the connection again", field="code"
            ) from None
        try:
            email = self._oauth.account_email(grant.access_token)
        except ProviderError:
            email = None  # the mailbox address is a nicety; the connection works without it
        service_type = ServiceType.parse(state.service_type)
        scopes = parse_scopes(state.scopes)
        for attempt in (1, 2):  # a concurrent first connection of the same tenant: then update it
            try:
                with uow:
                    connection = uow.aurinko_connections.get()
                    connection_id = connection.id if connection is not None else new_id()
                    sealed = self._secrets.seal(
                        grant.access_token, context=token_context(actor.tenant_id, connection_id)
                    )
                    facts = dict(
                        account_id=grant.account_id, email=email, service_type=service_type, scopes=scopes,
                        token_sealed=sealed, user_id=actor.user_id, now=self._clock.now(),
                    )
                    if connection is None:
                        connection = AurinkoConnection.connect(id=connection_id, tenant_id=actor.tenant_id, **facts)
                        uow.aurinko_connections.add(connection)
                    else:
                        connection.reconnect(**facts)
                    uow.jobs.enqueue(
                        SYNC_JOB, {"connection_id": connection_id},
                        idempotency_key=_sync_key(connection_id, f"connect:{state.nonce}"),
                    )
                    uow.commit()
                    log.info("aurinko.connected", connection_id=connection_id, service_type=service_type.value)
                    return connection_view(connection)
            except DuplicateEntry:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


class DisconnectAurinkoHandler:
    def __init__(self, oauth: OAuthProvider, secrets: SecretBox, clock: Clock) -> None:
        self._oauth, self._secrets, self._clock = oauth, secrets, clock

    def __call__(self, cmd: DisconnectAurinko, uow: AurinkoUnitOfWork) -> AurinkoConnectionView:
        tenant_admin(cmd.actor, "disconnect the mailbox")
        with uow:
            connection = uow.aurinko_connections.get()
            if connection is None or ConnectionStatus(connection.status) is ConnectionStatus.DISCONNECTED:
                raise AurinkoNotConnected("no mailbox is connected")
            token = self._token(connection)
        if token is not None:
            try:
                self._oauth.revoke(token)
            except ProviderUnavailable as error:
                # The token stays until Aurinko has forgotten it: nothing is left half-revoked.
                raise AurinkoUnavailable(f"Aurinko could not revoke the token now ({error.reason}): try again") from None
            except (TokenRejected, ProviderRefused):
                pass  # Aurinko no longer knows the token: it is as good as revoked
        with uow:
            connection = uow.aurinko_connections.get()
            if connection is None:
                raise AurinkoNotConnected("no mailbox is connected")
            connection.disconnect(now=self._clock.now())
            uow.commit()
            log.info("aurinko.disconnected", connection_id=connection.id)
            return connection_view(connection)

    def _token(self, connection: AurinkoConnection) -> str | None:
        if connection.token_sealed is None:
            return None
        try:
            return self._secrets.open(connection.token_sealed, context=connection.token_context)
        except SecretUnreadable:
            return None  # nothing we could revoke with; delete it all the same


class GetAurinkoConnectionHandler:
    def __call__(self, query: GetAurinkoConnection, uow: AurinkoUnitOfWork) -> AurinkoConnectionView | None:
        tenant_admin(query.actor, "see the mailbox connection")
        with uow:
            return uow.aurinko_connection_views.get()


class MarkAurinkoNeedsReconnectHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: MarkAurinkoNeedsReconnect, uow: AurinkoUnitOfWork) -> bool:
        tenant_actor(cmd.actor)
        with uow:
            connection = uow.aurinko_connections.get()
            if connection is None or connection.id != cmd.connection_id:
                return False
            changed = connection.mark_needs_reconnect(cmd.reason, now=self._clock.now())
            uow.commit()
        if changed:
            log.warning("aurinko.needs_reconnect", connection_id=cmd.connection_id, reason=cmd.reason)
        return changed


# --- queueing syncs ----------------------------------------------------------------------------


class SyncInboxHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: SyncInbox, uow: AurinkoUnitOfWork) -> str:
        tenant_actor(cmd.actor)
        with uow:
            connection = uow.aurinko_connections.get()
            if connection is None or ConnectionStatus(connection.status) is ConnectionStatus.DISCONNECTED:
                raise AurinkoNotConnected("no mailbox is connected")
            if not connection.active:
                raise AurinkoNeedsReconnect("the mailbox must be connected again before it can sync")
            # Clicks within the same ten seconds queue one sync.
            slot = int(self._clock.now().timestamp()) // 10
            job_id = uow.jobs.enqueue(
                SYNC_JOB, {"connection_id": connection.id}, idempotency_key=_sync_key(connection.id, f"now:{slot}")
            )
            uow.commit()
            return job_id


class SyncAllInboxesHandler:
    def __call__(self, cmd: SyncAllInboxes, uow: AurinkoUnitOfWork) -> int:
        with uow:
            refs = uow.aurinko_directory.active_connections()
            for ref in refs:
                uow.jobs.enqueue(
                    SYNC_JOB, {"connection_id": ref.connection_id}, tenant_id=ref.tenant_id,
                    idempotency_key=_sync_key(ref.connection_id, f"every:{cmd.slot}"),
                )
            uow.commit()
            return len(refs)


class QueueAccountSyncHandler:
    def __call__(self, cmd: QueueAccountSync, uow: AurinkoUnitOfWork) -> ConnectionRef | None:
        with uow:
            ref = uow.aurinko_directory.by_account(cmd.account_id)
            if ref is None:
                return None
            uow.jobs.enqueue(
                SYNC_JOB, {"connection_id": ref.connection_id}, tenant_id=ref.tenant_id,
                idempotency_key=_sync_key(ref.connection_id, f"hook:{cmd.reference}"),
            )
            uow.commit()
            return ref


# --- running a sync ----------------------------------------------------------------------------


class SyncNotReady(Exception):
    """Aurinko is still preparing the mailbox (``ready: false``): run again after ``retry_after``."""

    def __init__(self, retry_after: timedelta) -> None:
        super().__init__("aurinko: the mailbox sync is not ready yet")
        self.retry_after = retry_after


class SyncBusy(Exception):
    """Another run holds the connection's sync lease."""


class RunInboxSyncHandler:
    def __init__(self, inbox: InboxProvider, secrets: SecretBox, clock: Clock, policy: AurinkoPolicy) -> None:
        self._inbox, self._secrets, self._clock, self._policy = inbox, secrets, clock, policy

    def __call__(self, cmd: RunInboxSync, uow: AurinkoUnitOfWork) -> SyncReport:
        tenant_actor(cmd.actor)
        connection_id = parse_id(cmd.connection_id, field="connectionId")
        now = self._clock.now()
        with uow:
            connection = uow.aurinko_connections.get()
            if connection is None or connection.id != connection_id or not connection.active:
                return SyncReport(skipped="the mailbox is not connected")
            if not uow.aurinko_connections.claim_sync(connection_id, now=now, until=now + self._policy.sync_lease):
                raise SyncBusy("another sync of this mailbox is running")
            uow.commit()
            account_id = connection.account_id
            tokens = (connection.sync_updated_token, connection.sync_deleted_token)
            sealed, context = connection.token_sealed or "", connection.token_context
        try:
            token = self._secrets.open(sealed, context=context)
            return self._run(uow, connection_id, account_id, token, tokens)
        except TokenRejected as error:
            self._record(uow, connection_id, account_id, error=f"token rejected ({error.code})", dead=error.code)
            raise
        except ProviderError as error:
            self._record(uow, connection_id, account_id, error=error.reason)
            raise
        finally:
            with uow:
                uow.aurinko_connections.release_sync(connection_id)
                uow.commit()

    def _run(
        self, uow: AurinkoUnitOfWork, connection_id: str, account_id: str, token: str, tokens: tuple[str | None, str | None]
    ) -> SyncReport:
        report = SyncReport()
        updated_token, deleted_token = tokens
        for attempt in (1, 2):
            try:
                if updated_token is None or deleted_token is None:
                    start = self._inbox.start_sync(token, days_within=self._policy.days_within)
                    if not start.ready or not start.updated_token or not start.deleted_token:
                        raise SyncNotReady(self._policy.not_ready_retry)
                    updated_token, deleted_token = start.updated_token, start.deleted_token
                    self._save_tokens(uow, connection_id, account_id, updated_token, deleted_token, finished=False)
                updated_token, done = self._page(
                    uow, connection_id, lambda d, p: self._inbox.updated(token, delta_token=d, page_token=p),
                    updated_token, lambda page: self._store_updated(uow, account_id, page),
                )
                report = report.plus(done)
                deleted_token, done = self._page(
                    uow, connection_id, lambda d, p: self._inbox.deleted(token, delta_token=d, page_token=p),
                    deleted_token, lambda page: self._store_deleted(uow, account_id, page),
                )
                report = report.plus(done)
                self._save_tokens(uow, connection_id, account_id, updated_token, deleted_token, finished=True)
                log.info(
                    "aurinko.synced", connection_id=connection_id, inserted=report.inserted, updated=report.updated,
                    deleted=report.deleted, unchanged=report.unchanged, pages=report.pages,
                )
                return report
            except SyncTokenExpired:
                if attempt == 2:
                    raise ProviderUnavailable("the delta token expired twice in one run") from None
                log.info("aurinko.sync_restarted", connection_id=connection_id)
                report = report.plus(SyncReport(restarted=True))
                updated_token = deleted_token = None
                self._save_tokens(uow, connection_id, account_id, None, None, finished=False)
        raise AssertionError("unreachable")

    def _page(
        self,
        uow: AurinkoUnitOfWork,
        connection_id: str,
        fetch: Callable[[str | None, str | None], SyncPage],  # type: ignore[type-arg]
        delta_token: str,
        store: Callable[[SyncPage], SyncReport],  # type: ignore[type-arg]
    ) -> tuple[str, SyncReport]:
        """Follow ``nextPageToken`` from ``delta_token`` until a page carries ``nextDeltaToken``."""
        report = SyncReport()
        renewed = self._clock.now()
        refresh_at = REFRESH_STATISTICS_AFTER
        page = fetch(delta_token, None)
        for _ in range(MAX_PAGES):
            report = report.plus(store(page)).plus(SyncReport(pages=1, skipped_records=page.skipped))
            if report.inserted >= refresh_at:  # a big first sync: keep the lookups on their indexes
                with uow:
                    uow.inbox.refresh_statistics()
                    uow.commit()
                refresh_at *= 4
            now = self._clock.now()
            if now - renewed >= self._policy.sync_lease / 3:  # a long sync keeps its lease
                with uow:
                    uow.aurinko_connections.extend_sync(connection_id, until=now + self._policy.sync_lease)
                    uow.commit()
                renewed = now
            if page.next_delta_token:
                return page.next_delta_token, report
            if not page.next_page_token:
                raise ProviderUnavailable("a sync page had neither nextPageToken nor nextDeltaToken")
            page = fetch(None, page.next_page_token)
        raise ProviderUnavailable(f"the sync did not end within {MAX_PAGES} pages")

    def _store_updated(self, uow: AurinkoUnitOfWork, account_id: str, page: SyncPage[InboundMessage]) -> SyncReport:
        messages = list({message.provider_id: message for message in page.records}.values())
        if not messages:
            return SyncReport()
        now = self._clock.now()
        with uow:
            stored = uow.inbox.existing(
                account_id,
                [m.provider_id for m in messages],
                [m.internet_message_id for m in messages if m.internet_message_id],
            )
            by_provider = {s.provider_id: s for s in stored}
            by_internet = {s.internet_message_id: s for s in stored if s.internet_message_id}
            inserts: list[MessageWrite] = []
            updates: list[MessageWrite] = []
            matched: set[str] = set()
            unchanged = 0
            for message in messages:
                fingerprint = message.fingerprint()
                found = by_provider.get(message.provider_id) or (
                    by_internet.get(message.internet_message_id) if message.internet_message_id else None
                )
                if found is not None and found.id in matched:
                    unchanged += 1  # another copy of a message this page already wrote: stored once
                    continue
                if found is None:
                    write = MessageWrite(id=new_id(), message=message, fingerprint=fingerprint)
                    inserts.append(write)
                    matched.add(write.id)
                    if message.internet_message_id:
                        by_internet[message.internet_message_id] = StoredMessage(
                            id=write.id, provider_id=message.provider_id,
                            internet_message_id=message.internet_message_id, fingerprint=fingerprint, deleted=False,
                        )
                    continue
                matched.add(found.id)
                if found.fingerprint == fingerprint and not found.deleted:
                    unchanged += 1
                else:
                    updates.append(MessageWrite(id=found.id, message=message, fingerprint=fingerprint))
            if inserts:
                uow.inbox.insert(account_id, inserts, now=now)
            if updates:
                uow.inbox.update(account_id, updates, now=now)
            uow.commit()
        return SyncReport(inserted=len(inserts), updated=len(updates), unchanged=unchanged)

    def _store_deleted(self, uow: AurinkoUnitOfWork, account_id: str, page: SyncPage[str]) -> SyncReport:
        ids = list(dict.fromkeys(page.records))
        if not ids:
            return SyncReport()
        with uow:
            count = uow.inbox.mark_deleted(account_id, ids, now=self._clock.now())
            uow.commit()
        return SyncReport(deleted=count)

    def _save_tokens(
        self,
        uow: AurinkoUnitOfWork,
        connection_id: str,
        account_id: str,
        updated_token: str | None,
        deleted_token: str | None,
        *,
        finished: bool,
    ) -> None:
        with uow:
            connection = uow.aurinko_connections.get()
            if (
                connection is None
                or connection.id != connection_id
                or connection.account_id != account_id
                or not connection.active
            ):
                return  # disconnected or connected to another mailbox meanwhile: its state is not ours
            if finished:
                connection.synced(updated_token=updated_token, deleted_token=deleted_token, now=self._clock.now())
            else:
                connection.sync_updated_token, connection.sync_deleted_token = updated_token, deleted_token
            uow.commit()

    def _record(
        self, uow: AurinkoUnitOfWork, connection_id: str, account_id: str, *, error: str, dead: str | None = None
    ) -> None:
        with uow:
            connection = uow.aurinko_connections.get()
            if connection is None or connection.id != connection_id or connection.account_id != account_id:
                return
            now = self._clock.now()
            connection.sync_failed(error, now=now)
            if dead is not None and connection.mark_needs_reconnect(dead, now=now):
                log.warning("aurinko.needs_reconnect", connection_id=connection_id, reason=dead)
            uow.commit()


# --- reading the inbox -------------------------------------------------------------------------


class FindInboxMessagesHandler:
    def __call__(self, query: FindInboxMessages, uow: AurinkoUnitOfWork) -> Page[InboxMessageView]:
        tenant_actor(query.actor)
        first = page_size(query.first, default=50, maximum=200)
        after = InboxCursor.decode(query.after, field="after") if query.after else None
        filter = InboxFilter(
            client_id=parse_id(query.client_id, field="clientId") if query.client_id is not None else None,
            thread_id=bounded(query.thread_id, 255),
            search=bounded(query.search, 200),
            include_deleted=query.include_deleted,
        )
        with uow:
            rows = uow.inbox_views.find(filter, first=first + 1, after=after)
        return Page.of(rows, first, lambda item: InboxCursor.of(item).encode())
