"""Handlers of the QuickBooks connection: the authorization URL, the code exchange, the connection
as the tenant sees it, the mappings, and disconnecting (the token is revoked at Intuit).

No transaction is held open while Intuit is called, except the token refresh (``tokens``), which
holds the connection's row lock on purpose.
"""

from __future__ import annotations

import structlog

from application.integrations.aurinko.oauth_state import OAuthStateCodec
from application.integrations.quickbooks.commands import (
    DisconnectQuickbooks,
    ExchangeQboAuthorizationCode,
    GetQboAuthorizationUrl,
    GetQuickbooksConnection,
    QuickbooksPolicy,
    SetQuickbooksMappings,
)
from application.integrations.quickbooks.ports import (
    GrantInvalid,
    OAuthRefused,
    QboError,
    QboUnavailable,
    QuickbooksApi,
    QuickbooksOAuth,
    QuickbooksUnitOfWork,
)
from application.integrations.quickbooks.tokens import seal_grant
from application.integrations.quickbooks.views import AuthorizationUrlView, ConnectionView
from application.shared.actors import tenant_admin
from application.shared.ports import Clock, DuplicateEntry, UnitOfWorkFactory
from application.shared.secrets import SecretBox, SecretUnreadable
from domain.integrations.aurinko.connection import (
    InvalidOAuthState as StateRefused,  # the shared state codec's
)
from domain.integrations.quickbooks.connection import (
    ConnectionStatus,
    InvalidOAuthState,
    Mappings,
    QuickbooksConnection,
    QuickbooksNotConfigured,
    QuickbooksNotConnected,
    QuickbooksRefused,
    QuickbooksUnavailable,
    RealmTaken,
    parse_realm_id,
)
from domain.shared.errors import InvalidInput
from domain.shared.model import new_id
from domain.tenancy.model import Actor, Role

log = structlog.get_logger(__name__)

SCOPE = "com.intuit.quickbooks.accounting"
RESUME_JOB = "quickbooks.resume"
"""Queued when a tenant connects its company again: the backfill of what is not in sync."""
SYSTEM_USER = "system:quickbooks"
MAX_CODE = 2048


def system_actor(tenant_id: str) -> Actor:
    """Who runs a tenant's QuickBooks work in the background: the tenant itself, no user."""
    return Actor(tenant_id=tenant_id, user_id=SYSTEM_USER, role=Role.OWNER)


def _configured(policy: QuickbooksPolicy) -> None:
    if not policy.configured:
        raise QuickbooksNotConfigured(
            "QuickBooks is not configured on this instance (ISTMO_QBO_CLIENT_ID/ISTMO_QBO_CLIENT_SECRET)"
        )


class GetQboAuthorizationUrlHandler:
    def __init__(self, oauth: QuickbooksOAuth, codec: OAuthStateCodec, clock: Clock, policy: QuickbooksPolicy) -> None:
        self._oauth, self._codec, self._clock, self._policy = oauth, codec, clock, policy

    def __call__(self, query: GetQboAuthorizationUrl, uow: QuickbooksUnitOfWork) -> AuthorizationUrlView:
        actor = tenant_admin(query.actor, "connect QuickBooks")
        _configured(self._policy)
        token, state = self._codec.issue(
            tenant_id=actor.tenant_id, user_id=actor.user_id, service_type="QuickBooks", scopes=(SCOPE,),
            now=self._clock.now(),
        )
        return AuthorizationUrlView(url=self._oauth.authorize_url(state=token), expires_at=state.expires_at)


class ExchangeQboAuthorizationCodeHandler:
    def __init__(
        self,
        oauth: QuickbooksOAuth,
        api: QuickbooksApi,
        codec: OAuthStateCodec,
        secrets: SecretBox,
        clock: Clock,
        policy: QuickbooksPolicy,
        uow_factory: UnitOfWorkFactory[QuickbooksUnitOfWork],
    ) -> None:
        self._oauth, self._api, self._codec, self._secrets = oauth, api, codec, secrets
        self._clock, self._policy, self._uow_factory = clock, policy, uow_factory

    def __call__(self, cmd: ExchangeQboAuthorizationCode, uow: QuickbooksUnitOfWork) -> ConnectionView:
        actor = tenant_admin(cmd.actor, "connect QuickBooks")
        _configured(self._policy)
        code = cmd.code.strip() if isinstance(cmd.code, str) else ""
        if not code or len(code) > MAX_CODE or not code.isascii() or any(not c.isprintable() or c.isspace() for c in code):
            raise InvalidInput("code must be the authorization code Intuit returned", field="code")
        realm_id = parse_realm_id(cmd.realm_id)
        now = self._clock.now()
        try:
            state = self._codec.verify(cmd.state, tenant_id=actor.tenant_id, user_id=actor.user_id, now=now)
        except StateRefused as error:
            raise InvalidOAuthState(error.message, field="state") from None
        if state.service_type != "QuickBooks":
            raise InvalidOAuthState("state is invalid or expired: start the connection again", field="state")
        with self._uow_factory(None) as system:
            if system.quickbooks_directory.realm_taken(realm_id, except_tenant=actor.tenant_id):
                raise RealmTaken(
                    "this QuickBooks company is connected to another Istmo account; disconnect it there first",
                    field="realmId",
                )
        # Single use: the nonce is consumed in a transaction of its own before the code is exchanged.
        try:
            with uow:
                fresh = uow.quickbooks_states.consume(state.nonce, expires_at=state.expires_at, now=now)
                uow.commit()
        except DuplicateEntry:
            fresh = False
        if not fresh:
            raise InvalidOAuthState("state was used already: start the connection again", field="state")
        try:
            grant = self._oauth.exchange_code(code, realm_id=realm_id)
        except QboUnavailable as error:
            raise QuickbooksUnavailable(f"Intuit could not exchange the code now ({error.reason}): try again") from None
        except (GrantInvalid, OAuthRefused) as error:
            raise QuickbooksRefused(
                f"Intuit refused the authorization code ({error.reason}): start the connection again", field="code"
            ) from None
        try:
            company = self._api.company_name(realm_id, grant.access_token)
        except QboError:
            company = None  # the name is a nicety; the connection works without it
        for attempt in (1, 2):  # a concurrent first connection of the same tenant: then update it
            try:
                with uow:
                    connection = uow.quickbooks_connections.get()
                    connection_id = connection.id if connection is not None else new_id()
                    tokens = seal_grant(self._secrets, connection_id, actor.tenant_id, grant, self._clock.now())
                    facts = {"realm_id": realm_id, "company_name": company, "tokens": tokens,
                             "user_id": actor.user_id, "now": self._clock.now()}
                    if connection is None:
                        connection = QuickbooksConnection.connect(id=connection_id, tenant_id=actor.tenant_id, **facts)
                        uow.quickbooks_connections.add(connection)
                    elif connection.reconnect(**facts):
                        uow.quickbooks_links.forget_all()  # another company: nothing here is linked there
                    else:  # the same company again: what waited (or failed) while it was not connected goes now
                        uow.jobs.enqueue(RESUME_JOB, {}, idempotency_key=f"{RESUME_JOB}:{actor.tenant_id}:{state.nonce}")
                    uow.commit()
                    log.info("quickbooks.connected", connection_id=connection_id)
                    return self._view(uow)
            except DuplicateEntry:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    @staticmethod
    def _view(uow: QuickbooksUnitOfWork) -> ConnectionView:
        view = uow.quickbooks_views.connection()
        assert view is not None
        return view


class GetQuickbooksConnectionHandler:
    def __call__(self, query: GetQuickbooksConnection, uow: QuickbooksUnitOfWork) -> ConnectionView | None:
        tenant_admin(query.actor, "see the QuickBooks connection")
        with uow:
            return uow.quickbooks_views.connection()


class SetQuickbooksMappingsHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: SetQuickbooksMappings, uow: QuickbooksUnitOfWork) -> ConnectionView:
        tenant_admin(cmd.actor, "set the QuickBooks mappings")
        mappings = Mappings.parse(
            item_id=cmd.item_id, income_account_id=cmd.income_account_id, tax_codes=cmd.tax_codes
        )
        with uow:
            connection = uow.quickbooks_connections.get()
            if connection is None or ConnectionStatus(connection.status) is ConnectionStatus.DISCONNECTED:
                raise QuickbooksNotConnected("QuickBooks is not connected")
            connection.set_mappings(mappings, now=self._clock.now())
            uow.commit()
            view = uow.quickbooks_views.connection()
            assert view is not None
            return view


class DisconnectQuickbooksHandler:
    def __init__(self, oauth: QuickbooksOAuth, secrets: SecretBox, clock: Clock) -> None:
        self._oauth, self._secrets, self._clock = oauth, secrets, clock

    def __call__(self, cmd: DisconnectQuickbooks, uow: QuickbooksUnitOfWork) -> ConnectionView:
        tenant_admin(cmd.actor, "disconnect QuickBooks")
        with uow:
            connection = uow.quickbooks_connections.get()
            if connection is None or ConnectionStatus(connection.status) is ConnectionStatus.DISCONNECTED:
                raise QuickbooksNotConnected("QuickBooks is not connected")
            token = self._refresh_token(connection)
        if token is not None:
            try:
                self._oauth.revoke(token)  # revoking the refresh token revokes the access token too
            except QboUnavailable as error:
                raise QuickbooksUnavailable(f"Intuit could not revoke the token now ({error.reason}): try again") from None
            except (GrantInvalid, OAuthRefused):
                pass  # Intuit no longer knows the token: as good as revoked
        with uow:
            connection = uow.quickbooks_connections.get()
            if connection is None:
                raise QuickbooksNotConnected("QuickBooks is not connected")
            connection.disconnect(now=self._clock.now())
            uow.commit()
            log.info("quickbooks.disconnected", connection_id=connection.id)
            view = uow.quickbooks_views.connection()
            assert view is not None
            return view

    def _refresh_token(self, connection: QuickbooksConnection) -> str | None:
        if connection.refresh_sealed is None:
            return None
        try:
            return self._secrets.open(connection.refresh_sealed, context=connection.context("refresh"))
        except SecretUnreadable:
            return None
