"""Helpers of the Aurinko API tests: a service pointed at the local Aurinko, and the OAuth flow."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.integration.api import data
from tests.providers.aurinko import CLIENT_ID, CLIENT_SECRET, FakeAurinko

SIGNING_SECRET = "aurinko-webhook-signing-secret-71d2"

AUTH_URL = """
query($s: String!, $scopes: [String!]) {
  getAurinkoAuthorizationUrl(serviceType: $s, scopes: $scopes) {
    authorization { url expiresAt } error { code message field }
  }
}
"""
CONNECTION_FIELDS = "id status accountId email serviceType scopes connectedAt reconnectReason lastSyncAt lastSyncError"
CONNECT = f"""
mutation($code: String!, $state: String!) {{
  connectAurinko(code: $code, state: $state) {{ connection {{ {CONNECTION_FIELDS} }} error {{ code message field }} }}
}}
"""
DISCONNECT = f"mutation {{ disconnectAurinko {{ connection {{ {CONNECTION_FIELDS} }} error {{ code message field }} }} }}"
GET_CONNECTION = f"{{ getAurinkoConnection {{ connection {{ {CONNECTION_FIELDS} }} error {{ code message field }} }} }}"
SYNC_INBOX = "mutation { syncInbox { jobId error { code message field } } }"
INBOX = """
query($clientId: ID, $threadId: String, $search: String, $first: Int, $after: String, $deleted: Boolean) {
  inboxMessages(clientId: $clientId, threadId: $threadId, search: $search, first: $first, after: $after,
                includeDeleted: $deleted) {
    edges { cursor node { id threadId internetMessageId subject from { address name } to { address }
                         receivedAt snippet hasAttachments deletedAt clients { id name } } }
    pageInfo { endCursor hasNextPage }
    error { code message field }
  }
}
"""


def aurinko_settings(fake: FakeAurinko) -> dict[str, Any]:
    return {
        "aurinko_base_url": fake.server.url,
        "aurinko_client_id": CLIENT_ID,
        "aurinko_client_secret": CLIENT_SECRET,
        "aurinko_signing_secret": SIGNING_SECRET,
    }


def authorization_state(service: Any, headers: dict[str, str], service_type: str = "Google") -> str:
    result = data(service, AUTH_URL, {"s": service_type}, headers=headers)["getAurinkoAuthorizationUrl"]
    assert result["error"] is None, result
    return parse_qs(urlparse(result["authorization"]["url"]).query)["state"][0]


def connect(service: Any, headers: dict[str, str], fake: FakeAurinko, **code: Any) -> dict[str, Any]:
    """The whole OAuth flow through the API; the connection (must succeed)."""
    state = authorization_state(service, headers)
    result = data(service, CONNECT, {"code": fake.issue_code(**code), "state": state}, headers=headers)
    assert result["connectAurinko"]["error"] is None, result
    return result["connectAurinko"]["connection"]
