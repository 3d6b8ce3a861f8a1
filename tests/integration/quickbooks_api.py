"""Helpers of the QuickBooks API tests: a service pointed at the local QuickBooks, the OAuth flow,
the mappings, and running the queued jobs."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

from entrypoints.config import Variables
from tests.integration.api import data
from tests.providers.quickbooks import (
    CLIENT_ID,
    CLIENT_SECRET,
    ITEM,
    REALM,
    TAX_CODES,
    VERIFIER_TOKEN,
    FakeQuickbooks,
)

AUTH_URL = "{ getQboAuthorizationUrl { authorization { url expiresAt } error { code message field } } }"
CONNECTION_FIELDS = (
    "id realmId companyName status connectedAt reconnectReason refreshExpiresAt refreshHardExpiresAt lastSyncAt "
    "mappings { itemId incomeAccountId taxCodes { rate taxCodeId } } pendingCount failedCount syncedCount "
    "inboundApplied inboundIgnored"
)
EXCHANGE = f"""
mutation($code: String!, $state: String!, $realm: String!) {{
  exchangeQboAuthorizationCode(code: $code, state: $state, realmId: $realm) {{
    connection {{ {CONNECTION_FIELDS} }} error {{ code message field }}
  }}
}}
"""
GET_CONNECTION = f"{{ getQuickbooksConnection {{ connection {{ {CONNECTION_FIELDS} }} error {{ code message field }} }} }}"
DISCONNECT = f"mutation {{ disconnectQuickbooks {{ connection {{ {CONNECTION_FIELDS} }} error {{ code message field }} }} }}"
SET_MAPPINGS = f"""
mutation($item: String!, $account: String, $codes: [QuickbooksTaxCodeInput!]!) {{
  setQuickbooksMappings(itemId: $item, incomeAccountId: $account, taxCodes: $codes) {{
    connection {{ {CONNECTION_FIELDS} }} error {{ code message field }}
  }}
}}
"""
SYNC = "mutation($full: Boolean) { syncQuickbooks(full: $full) { customersQueued invoicesQueued jobId error { code message field } } }"
ITEMS = """
query($status: String, $first: Int, $after: String) {
  quickbooksSyncItems(status: $status, first: $first, after: $after) {
    edges { cursor node { id kind localId qboId syncToken status origin attempts errorMessage errorCode errorElement } }
    pageInfo { endCursor hasNextPage }
    error { code message field }
  }
}
"""
RETRY = "mutation($id: ID!) { retryQuickbooksSync(id: $id) { item { id status } error { code message field } } }"


def quickbooks_settings(fake: FakeQuickbooks, **extra: str) -> dict[str, Any]:
    return {
        "variables": Variables({
            "ISTMO_QBO_CLIENT_ID": CLIENT_ID,
            "ISTMO_QBO_CLIENT_SECRET": CLIENT_SECRET,
            "ISTMO_QBO_ENVIRONMENT": fake.discovery_url,
            "ISTMO_QBO_API_URL": fake.server.url,
            "ISTMO_QBO_WEBHOOK_VERIFIER": VERIFIER_TOKEN,
            **extra,
        }),
    }


def authorization_state(service: Any, headers: dict[str, str]) -> str:
    result = data(service, AUTH_URL, headers=headers)["getQboAuthorizationUrl"]
    assert result["error"] is None, result
    return parse_qs(urlparse(result["authorization"]["url"]).query)["state"][0]


def connect(service: Any, headers: dict[str, str], fake: FakeQuickbooks, realm: str = REALM) -> dict[str, Any]:
    state = authorization_state(service, headers)
    result = data(service, EXCHANGE, {"code": fake.issue_code(realm), "state": state, "realm": realm}, headers=headers)
    assert result["exchangeQboAuthorizationCode"]["error"] is None, result
    return result["exchangeQboAuthorizationCode"]["connection"]


def set_mappings(service: Any, headers: dict[str, str], codes: dict[str, str] | None = None) -> dict[str, Any]:
    chosen = codes or TAX_CODES
    variables = {"item": ITEM, "account": "79", "codes": [{"rate": int(r), "taxCodeId": c} for r, c in chosen.items()]}
    result = data(service, SET_MAPPINGS, variables, headers=headers)["setQuickbooksMappings"]
    assert result["error"] is None, result
    return result["connection"]


def run_jobs(service: Any) -> int:
    """Run every due job (and what they queue) in this thread."""
    return int(service.container.worker(schedules=()).run_once())
