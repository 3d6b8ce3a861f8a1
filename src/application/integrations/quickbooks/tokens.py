"""The access token of a tenant's company, refreshed at most once however many jobs need it.

A job reads the connection; while the access token is fresh it uses it. When it is not (or the API
answered 401 for it), the job takes the connection's row lock, reads the row again and refreshes
only if it is still expired (or still the rejected one): the other jobs that waited on the lock
then find the new token and use it. The new pair is stored, and the transaction committed, before
the token is used; Intuit may rotate the refresh token on every refresh, and the previous one
stops working a day later, so the newest one is always kept. ``invalid_grant`` marks the
connection NEEDS_RECONNECT (the tenant sees it in ``getQuickbooksConnection``) and nothing retries.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog

from application.integrations.quickbooks.ports import (
    GrantInvalid,
    OAuthRefused,
    QboUnavailable,
    QuickbooksOAuth,
    QuickbooksUnitOfWork,
    TokenGrant,
)
from application.shared.ports import Clock
from application.shared.secrets import SecretBox, SecretUnreadable
from domain.integrations.quickbooks.connection import (
    ConnectionStatus,
    CurrencyPrefs,
    Mappings,
    QuickbooksConnection,
    QuickbooksNeedsReconnect,
    QuickbooksNotConnected,
    QuickbooksUnavailable,
    TokenPair,
    token_context,
)

log = structlog.get_logger(__name__)


def seal_grant(secrets: SecretBox, connection_id: str, tenant_id: str, grant: TokenGrant, now: datetime) -> TokenPair:
    return TokenPair(
        access_sealed=secrets.seal(grant.access_token, context=token_context(tenant_id, connection_id, "access")),
        refresh_sealed=secrets.seal(grant.refresh_token, context=token_context(tenant_id, connection_id, "refresh")),
        access_expires_at=now + timedelta(seconds=grant.expires_in),
        refresh_expires_at=now + timedelta(seconds=grant.refresh_expires_in) if grant.refresh_expires_in else None,
        refresh_hard_expires_at=(
            now + timedelta(seconds=grant.refresh_hard_expires_in) if grant.refresh_hard_expires_in else None
        ),
    )


class AccessTokens:
    def __init__(self, oauth: QuickbooksOAuth, secrets: SecretBox, clock: Clock) -> None:
        self._oauth, self._secrets, self._clock = oauth, secrets, clock

    def current(self, uow: QuickbooksUnitOfWork) -> tuple[str, str, Mappings | None, CurrencyPrefs | None]:
        """(realm id, an access token good for now, the tenant's mappings, the company's currency
        settings as last read) of the tenant's company."""
        with uow:
            connection = _usable(uow.quickbooks_connections.get())
            mappings, currency = connection.mappings, connection.currency
            if connection.access_fresh(self._clock.now()):
                return connection.realm_id, self._open(connection, "access"), mappings, currency
        return (*self.refreshed(uow, rejected=None), mappings, currency)

    def refreshed(self, uow: QuickbooksUnitOfWork, *, rejected: str | None) -> tuple[str, str]:
        """Refresh under the row lock unless another job did meanwhile. ``rejected``: the access
        token the API refused (401): a token that is still it is refreshed even if not yet expired."""
        with uow:
            connection = _usable(uow.quickbooks_connections.get_for_update())
            now = self._clock.now()
            if connection.access_fresh(now):
                token = self._open(connection, "access")
                if token != rejected:
                    return connection.realm_id, token  # another job refreshed while this one waited
            refresh_token = self._open(connection, "refresh")
            try:
                grant = self._oauth.refresh(refresh_token)
            except GrantInvalid as error:
                connection.mark_needs_reconnect(f"QuickBooks refused the refresh token ({error.reason})", now=now)
                uow.commit()
                log.warning("quickbooks.needs_reconnect", connection_id=connection.id, reason="invalid_grant")
                raise QuickbooksNeedsReconnect(
                    "QuickBooks no longer accepts this connection: connect QuickBooks again"
                ) from None
            except OAuthRefused as error:
                raise QuickbooksUnavailable(f"QuickBooks refused to refresh the token ({error.reason})") from None
            except QboUnavailable:
                raise
            connection.store_tokens(seal_grant(self._secrets, connection.id, connection.tenant_id, grant, now), now=now)
            uow.commit()
            log.info("quickbooks.token_refreshed", connection_id=connection.id)
            return connection.realm_id, grant.access_token

    def _open(self, connection: QuickbooksConnection, which: str) -> str:
        sealed = connection.access_sealed if which == "access" else connection.refresh_sealed
        if sealed is None:
            raise QuickbooksNeedsReconnect("QuickBooks must be connected again")
        try:
            return self._secrets.open(sealed, context=connection.context(which))
        except SecretUnreadable:
            raise QuickbooksNeedsReconnect(
                "the stored QuickBooks token does not open with ISTMO_SECRET_KEYS: connect QuickBooks again"
            ) from None


def _usable(connection: QuickbooksConnection | None) -> QuickbooksConnection:
    if connection is None or ConnectionStatus(connection.status) is ConnectionStatus.DISCONNECTED:
        raise QuickbooksNotConnected("QuickBooks is not connected")
    if not connection.connected:
        raise QuickbooksNeedsReconnect(
            f"QuickBooks must be connected again ({connection.reconnect_reason or 'the token was refused'})"
        )
    return connection
