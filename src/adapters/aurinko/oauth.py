"""``AurinkoOAuthProvider``: the authorize URL, the code exchange, the account, the revocation."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

from adapters.aurinko.http import AurinkoHttp
from application.integrations.aurinko.ports import OAuthGrant, ProviderUnavailable
from domain.integrations.aurinko.connection import ServiceType


class AurinkoOAuthProvider:
    def __init__(self, http: AurinkoHttp, *, client_id: str | None, client_secret: str | None) -> None:
        self._http = http
        self._client_id = client_id or ""
        self._client_secret = client_secret or ""

    def __repr__(self) -> str:
        return f"AurinkoOAuthProvider(base_url={self._http.base_url!r}, client_id={self._client_id!r})"

    def authorize_url(
        self, *, service_type: ServiceType, scopes: Sequence[str], return_url: str, state: str
    ) -> str:
        query = urlencode(
            {
                "clientId": self._client_id,
                "serviceType": service_type.value,
                "scopes": " ".join(scopes),
                "responseType": "code",
                "returnUrl": return_url,
                "state": state,
            }
        )
        return f"{self._http.base_url}/v1/auth/authorize?{query}"

    def exchange_code(self, code: str) -> OAuthGrant:
        payload = self._http.request(
            "POST", f"/v1/auth/token/{code}", basic=(self._client_id, self._client_secret)
        )
        if not isinstance(payload, dict):
            raise ProviderUnavailable("POST /v1/auth/token/{code}: Aurinko answered without a JSON object")
        account_id, token = payload.get("accountId"), payload.get("accessToken")
        if account_id in (None, "") or not isinstance(token, str) or not token:
            raise ProviderUnavailable("POST /v1/auth/token/{code}: Aurinko's answer lacks accountId or accessToken")
        return OAuthGrant(account_id=str(account_id), access_token=token)

    def account_email(self, access_token: str) -> str | None:
        """``GET /v1/account`` (inference from Aurinko's account resource: ``email`` or
        ``mailboxAddress``); None when it does not say."""
        payload = self._http.request("GET", "/v1/account", bearer=access_token)
        if not isinstance(payload, dict):
            return None
        for key in ("email", "mailboxAddress", "loginString"):
            value = payload.get(key)
            if isinstance(value, str) and "@" in value and len(value) <= 320:
                return value.strip().lower()
        return None

    def revoke(self, access_token: str) -> None:
        self._http.request("DELETE", "/v1/account/token", bearer=access_token, expect_json=False)
