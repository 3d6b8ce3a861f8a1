"""The QuickBooks Online connection of a tenant: which company (realm) it is, whether its tokens
work, and how the tenant's ITBMS rates map to the company's tax codes. One per tenant.

Both tokens are kept sealed (never here in the clear). The access token lives an hour; the refresh
token rolls (100 days, renewed and possibly rotated on every refresh) under a hard ceiling.
``NEEDS_RECONNECT``: Intuit answered ``invalid_grant`` for the refresh token; nothing is synced until
the tenant connects again. ``DISCONNECTED``: the tenant disconnected; the tokens were revoked and deleted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.invoicing.lines import ITBMS_RATES
from domain.shared.errors import DomainError, InvalidInput
from domain.shared.model import Aggregate

MAX_REASON = 300
REFRESH_MARGIN = timedelta(minutes=2)
"""An access token this close to its expiry is refreshed before use."""
_QBO_ID = re.compile(r"^[0-9A-Za-z_-]{1,40}$")
_REALM = re.compile(r"^[0-9]{1,32}$")


class ConnectionStatus(StrEnum):
    CONNECTED = "CONNECTED"
    NEEDS_RECONNECT = "NEEDS_RECONNECT"
    DISCONNECTED = "DISCONNECTED"


# --- errors ------------------------------------------------------------------------------------


class QuickbooksNotConfigured(DomainError):
    code = "QUICKBOOKS_NOT_CONFIGURED"


class InvalidOAuthState(DomainError):
    """The ``state`` is not ours, expired, for another tenant or user, or used already."""

    code = "INVALID_OAUTH_STATE"


class QuickbooksNotConnected(DomainError):
    code = "QUICKBOOKS_NOT_CONNECTED"


class QuickbooksNeedsReconnect(DomainError):
    code = "QUICKBOOKS_NEEDS_RECONNECT"


class QuickbooksUnavailable(DomainError):
    """Intuit could not be reached or failed (timeout, 5xx, 429): try again later."""

    code = "QUICKBOOKS_UNAVAILABLE"


class QuickbooksRefused(DomainError):
    """Intuit refused the request (an unknown or used authorization code, ...)."""

    code = "QUICKBOOKS_REFUSED"


class RealmTaken(DomainError):
    """The QuickBooks company is connected to another tenant already."""

    code = "QUICKBOOKS_REALM_TAKEN"


class MappingsMissing(DomainError):
    """Invoices cannot be synced before the tenant set the item, income account and tax codes."""

    code = "QUICKBOOKS_MAPPINGS_MISSING"


# --- values ------------------------------------------------------------------------------------


def parse_realm_id(value: object, *, field: str = "realmId") -> str:
    """A QuickBooks company id: digits only (Intuit's realm ids are numeric), at most 32."""
    text = value.strip(" ") if isinstance(value, str) else ""  # spaces around it only: a line break is refused
    if not text.isascii() or not _REALM.fullmatch(text):
        raise InvalidInput(f"{field} must be the QuickBooks company id (digits), not {str(value)[:40]!r}", field=field)
    return text


def parse_qbo_id(value: object, *, field: str) -> str:
    """The ``Id`` of a QuickBooks object (an item, an account, a tax code): 1-40 letters or digits."""
    text = value.strip(" ") if isinstance(value, str) else ""
    if not text.isascii() or not _QBO_ID.fullmatch(text):
        raise InvalidInput(f"{field} must be a QuickBooks Id (1-40 letters or digits), not {str(value)[:48]!r}", field=field)
    return text


@dataclass(frozen=True, slots=True, kw_only=True)
class Mappings:
    """What the tenant sets once: the item every invoice line is booked as, the income account,
    and the tax code of each ITBMS rate (0, 7, 10, 15 %)."""

    item_id: str
    income_account_id: str | None
    tax_codes: Mapping[int, str]

    @classmethod
    def parse(cls, *, item_id: object, income_account_id: object, tax_codes: Mapping[object, object]) -> Mappings:
        codes: dict[int, str] = {}
        for raw_rate, code in tax_codes.items():
            rate = raw_rate if isinstance(raw_rate, int) and not isinstance(raw_rate, bool) else None
            if rate is None or rate not in ITBMS_RATES:
                raise InvalidInput(
                    f"taxCodes: {str(raw_rate)[:16]!r} is not an ITBMS rate (0, 7, 10 or 15)", field="taxCodes"
                )
            if rate in codes:
                raise InvalidInput(f"taxCodes: the rate {rate} is given twice", field="taxCodes")
            codes[rate] = parse_qbo_id(code, field=f"taxCodes[{rate}]")
        missing = [rate for rate in ITBMS_RATES if rate not in codes]
        if missing:
            raise InvalidInput(
                "taxCodes must map every ITBMS rate; missing: " + ", ".join(f"{r} %" for r in missing),
                field="taxCodes",
            )
        return cls(
            item_id=parse_qbo_id(item_id, field="itemId"),
            income_account_id=None if income_account_id in (None, "")
            else parse_qbo_id(income_account_id, field="incomeAccountId"),
            tax_codes=codes,
        )


class CurrencyNotEnabled(DomainError):
    """The invoice's currency is not the company's home currency and multicurrency is off there."""

    code = "QUICKBOOKS_CURRENCY_NOT_ENABLED"


PEGGED = frozenset({"USD", "PAB"})
"""The balboa is at par with the dollar by law: between them the exchange rate is 1."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CurrencyPrefs:
    """The company's currency settings in QuickBooks (``Preferences.CurrencyPrefs``)."""

    home: str
    multicurrency: bool

    def can_take(self, currency: str) -> bool:
        return currency == self.home or self.multicurrency

    def reference(self, currency: str) -> dict[str, object]:
        """What a transaction in ``currency`` carries: its ``CurrencyRef`` and, when it is not the
        home currency, its ``ExchangeRate`` (1 between dollar and balboa; otherwise QuickBooks' own).
        ``CurrencyNotEnabled`` when the company cannot take it (multicurrency off)."""
        if currency == self.home:
            return {"CurrencyRef": {"value": currency}}
        if not self.multicurrency:
            raise CurrencyNotEnabled(
                f"the invoice is in {currency} but the QuickBooks company keeps its books in {self.home} and "
                "multicurrency is off there: turn it on in QuickBooks (Settings > Advanced > Currency), then retry",
                field="currency",
            )
        fields: dict[str, object] = {"CurrencyRef": {"value": currency}}
        if {currency, self.home} <= PEGGED:
            fields["ExchangeRate"] = 1
        return fields


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenPair:
    """What one token answer carries (sealed before it is stored)."""

    access_sealed: str
    refresh_sealed: str
    access_expires_at: datetime
    refresh_expires_at: datetime | None
    refresh_hard_expires_at: datetime | None


def token_context(tenant_id: str, connection_id: str, which: str) -> str:
    """What a sealed token is bound to: this tenant's connection row and its role (access/refresh)."""
    return f"quickbooks:{tenant_id}:{connection_id}:{which}"


# --- the connection -----------------------------------------------------------------------------


class QuickbooksConnection(Aggregate):
    def __init__(
        self,
        *,
        id: str,
        tenant_id: str,
        realm_id: str,
        status: ConnectionStatus,
        company_name: str | None,
        access_sealed: str | None,
        refresh_sealed: str | None,
        access_expires_at: datetime | None,
        refresh_expires_at: datetime | None,
        refresh_hard_expires_at: datetime | None,
        connected_by: str | None,
        connected_at: datetime,
        updated_at: datetime,
        reconnect_reason: str | None = None,
        refreshed_at: datetime | None = None,
        last_sync_at: datetime | None = None,
        cdc_since: datetime | None = None,
        item_id: str | None = None,
        income_account_id: str | None = None,
        tax_codes: dict[str, str] | None = None,
        inbound_applied: int = 0,
        inbound_ignored: int = 0,
        cdc_lease_until: datetime | None = None,
        home_currency: str | None = None,
        multicurrency: bool | None = None,
    ) -> None:
        self.id = id
        self.tenant_id = tenant_id
        self.realm_id = realm_id
        self.status = status
        self.company_name = company_name
        self.access_sealed = access_sealed
        self.refresh_sealed = refresh_sealed
        self.access_expires_at = access_expires_at
        self.refresh_expires_at = refresh_expires_at
        self.refresh_hard_expires_at = refresh_hard_expires_at
        self.connected_by = connected_by
        self.connected_at = connected_at
        self.updated_at = updated_at
        self.reconnect_reason = reconnect_reason
        self.refreshed_at = refreshed_at
        self.last_sync_at = last_sync_at
        self.cdc_since = cdc_since
        self.item_id = item_id
        self.income_account_id = income_account_id
        self.tax_codes = tax_codes
        self.inbound_applied = inbound_applied
        self.inbound_ignored = inbound_ignored
        self.cdc_lease_until = cdc_lease_until
        self.home_currency = home_currency
        self.multicurrency = multicurrency

    @property
    def currency(self) -> CurrencyPrefs | None:
        """The company's currency settings as last read (``None``: not read since it was connected)."""
        if self.home_currency is None or self.multicurrency is None:
            return None
        return CurrencyPrefs(home=self.home_currency, multicurrency=bool(self.multicurrency))

    def set_currency(self, prefs: CurrencyPrefs, *, now: datetime) -> None:
        self.home_currency, self.multicurrency = prefs.home, prefs.multicurrency
        self.updated_at = now

    def context(self, which: str) -> str:
        return token_context(self.tenant_id, self.id, which)

    @property
    def connected(self) -> bool:
        return ConnectionStatus(self.status) is ConnectionStatus.CONNECTED and self.refresh_sealed is not None

    def access_fresh(self, now: datetime) -> bool:
        """The access token can be used now (it does not expire within the margin)."""
        return (
            self.access_sealed is not None
            and self.access_expires_at is not None
            and self.access_expires_at - REFRESH_MARGIN > now
        )

    @property
    def mappings(self) -> Mappings | None:
        if not self.item_id or not self.tax_codes:
            return None
        return Mappings(
            item_id=self.item_id,
            income_account_id=self.income_account_id,
            tax_codes={int(rate): code for rate, code in self.tax_codes.items()},
        )

    @classmethod
    def connect(
        cls, *, id: str, tenant_id: str, realm_id: str, company_name: str | None, tokens: TokenPair, user_id: str,
        now: datetime,
    ) -> QuickbooksConnection:
        connection = cls(
            id=id, tenant_id=tenant_id, realm_id=realm_id, status=ConnectionStatus.CONNECTED,
            company_name=company_name, access_sealed=None, refresh_sealed=None, access_expires_at=None,
            refresh_expires_at=None, refresh_hard_expires_at=None, connected_by=user_id, connected_at=now,
            updated_at=now,
        )
        connection.store_tokens(tokens, now=now)
        return connection

    def reconnect(
        self, *, realm_id: str, company_name: str | None, tokens: TokenPair, user_id: str, now: datetime
    ) -> bool:
        """Connected again; ``True`` when it is another company (its links and mappings no longer hold)."""
        other = realm_id != self.realm_id
        if other:
            self.item_id = self.income_account_id = None
            self.tax_codes = None
            self.cdc_since = None
            self.last_sync_at = None
        self.realm_id = realm_id
        self.company_name = company_name
        self.home_currency = self.multicurrency = None  # read again at the next invoice
        self.status = ConnectionStatus.CONNECTED
        self.reconnect_reason = None
        self.connected_by = user_id
        self.connected_at = now
        self.store_tokens(tokens, now=now)
        return other

    def store_tokens(self, tokens: TokenPair, *, now: datetime) -> None:
        """The newest pair from Intuit (always keep the newest refresh token: it may have rotated)."""
        self.access_sealed = tokens.access_sealed
        self.refresh_sealed = tokens.refresh_sealed
        self.access_expires_at = tokens.access_expires_at
        self.refresh_expires_at = tokens.refresh_expires_at
        if tokens.refresh_hard_expires_at is not None:
            self.refresh_hard_expires_at = tokens.refresh_hard_expires_at
        self.refreshed_at = now
        self.updated_at = now

    def mark_needs_reconnect(self, reason: str, *, now: datetime) -> bool:
        """Intuit no longer takes the refresh token. False if it was not CONNECTED (nothing changes)."""
        if ConnectionStatus(self.status) is not ConnectionStatus.CONNECTED:
            return False
        self.status = ConnectionStatus.NEEDS_RECONNECT
        self.reconnect_reason = reason[:MAX_REASON]
        self.access_sealed = None
        self.access_expires_at = None
        self.updated_at = now
        return True

    def disconnect(self, *, now: datetime) -> None:
        self.status = ConnectionStatus.DISCONNECTED
        self.access_sealed = self.refresh_sealed = None
        self.access_expires_at = self.refresh_expires_at = self.refresh_hard_expires_at = None
        self.updated_at = now

    def set_mappings(self, mappings: Mappings, *, now: datetime) -> None:
        self.item_id = mappings.item_id
        self.income_account_id = mappings.income_account_id
        self.tax_codes = {str(rate): code for rate, code in sorted(mappings.tax_codes.items())}
        self.updated_at = now

    def caught_up(self, *, since: datetime, applied: int, ignored: int, now: datetime) -> None:
        """A CDC run read every change up to ``since`` (the next run starts there)."""
        if self.cdc_since is None or since > self.cdc_since:
            self.cdc_since = since
        self.inbound_applied += applied
        self.inbound_ignored += ignored
        self.last_sync_at = now
        self.updated_at = now
