"""``IntuitOAuth``: Intuit's OAuth 2.0 through ``intuit-oauth`` (``intuitlib.AuthClient``).

The client reads Intuit's discovery document when it is built (production, sandbox, or the URL of
one: a local server in tests) and ``setAuthorizeURLs`` can point it anywhere else. It keeps the
last answer's tokens on itself, so one client serves one call at a time here (a lock), and the
fields of the previous answer are cleared before each call. Token answers are read for
``access_token``, ``refresh_token``, ``expires_in``, ``x_refresh_token_expires_in`` and
``x_refresh_token_hard_expires_in`` (asked for with ``x-include-refresh-token-hard-expires-in``).
Errors say the HTTP status and Intuit's ``error`` code, never a token or the body.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import requests
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError

from application.integrations.quickbooks.ports import GrantInvalid, OAuthRefused, QboUnavailable, TokenGrant


class IntuitOAuth:
    def __init__(
        self,
        *,
        client_id: str | None,
        client_secret: str | None,
        redirect_uri: str,
        environment: str = "production",
        endpoints: dict[str, str] | None = None,
        timeout: float = 30.0,
    ) -> None:
        """``environment``: production, sandbox, or a discovery document's URL. ``endpoints``:
        ``auth_endpoint``, ``token_endpoint``, ``revoke_endpoint``, ``user_info_url`` to use instead."""
        self._client_id, self._client_secret = client_id or "", client_secret or ""
        self._redirect_uri, self._environment, self._endpoints = redirect_uri, environment, endpoints
        self._timeout = timeout
        self._client: AuthClient | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"IntuitOAuth(client_id={self._client_id!r}, environment={self._environment!r})"

    @property
    def configured(self) -> bool:
        return bool(self._client_id and self._client_secret)

    def _auth_client(self) -> AuthClient:
        """The one client, built (and the discovery document read) on first use."""
        if self._client is None:
            try:
                client = AuthClient(self._client_id, self._client_secret, self._redirect_uri, self._environment)
            except AuthClientError as error:
                raise QboUnavailable(f"Intuit's discovery document answered {error.status_code}") from None
            except (requests.RequestException, ValueError) as error:
                raise QboUnavailable(f"cannot read Intuit's discovery document ({type(error).__name__})") from None
            if self._endpoints:
                client.setAuthorizeURLs(self._endpoints)
            client.include_refresh_token_hard_expires_in = True
            _with_timeout(client, self._timeout)
            self._client = client
        return self._client

    def authorize_url(self, *, state: str) -> str:
        with self._lock:
            return str(self._auth_client().get_authorization_url([Scopes.ACCOUNTING], state_token=state))

    def exchange_code(self, code: str, *, realm_id: str) -> TokenGrant:
        with self._lock:
            client = self._auth_client()
            _clear(client)
            self._call("exchange the code", lambda: client.get_bearer_token(code, realm_id=realm_id))
            return _grant(client, "exchange the code")

    def refresh(self, refresh_token: str) -> TokenGrant:
        with self._lock:
            client = self._auth_client()
            _clear(client)
            self._call("refresh the token", lambda: client.refresh(refresh_token=refresh_token))
            return _grant(client, "refresh the token")

    def revoke(self, token: str) -> None:
        with self._lock:
            client = self._auth_client()
            self._call("revoke the token", lambda: client.revoke(token=token))

    @staticmethod
    def _call(what: str, call: Any) -> None:
        try:
            call()
        except AuthClientError as error:
            code = _error_code(error.content)
            said = f"Intuit answered {error.status_code} to {what}" + (f" ({code})" if code else "")
            if code == "invalid_grant":
                raise GrantInvalid(said) from None
            if error.status_code == 429 or error.status_code >= 500:
                raise QboUnavailable(said) from None
            raise OAuthRefused(said) from None
        except requests.RequestException as error:
            raise QboUnavailable(f"cannot reach Intuit to {what} ({type(error).__name__})") from None
        except ValueError:  # a 200 whose body is not JSON
            raise QboUnavailable(f"Intuit answered {what} with malformed JSON") from None


_FIELDS = ("access_token", "refresh_token", "expires_in", "x_refresh_token_expires_in", "x_refresh_token_hard_expires_in")


def _clear(client: AuthClient) -> None:
    for name in _FIELDS:
        setattr(client, name, None)


def _grant(client: AuthClient, what: str) -> TokenGrant:
    access, refresh = client.access_token, client.refresh_token
    if not isinstance(access, str) or not access or not isinstance(refresh, str) or not refresh:
        raise QboUnavailable(f"Intuit's answer to {what} lacks access_token or refresh_token")
    return TokenGrant(
        access_token=access,
        refresh_token=refresh,
        expires_in=_seconds(client.expires_in) or 3600,
        refresh_expires_in=_seconds(client.x_refresh_token_expires_in),
        refresh_hard_expires_in=_seconds(client.x_refresh_token_hard_expires_in),
    )


def _seconds(value: object) -> int | None:
    try:
        seconds = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
    return seconds if seconds > 0 else None


def _error_code(content: bytes | None) -> str | None:
    try:
        payload = json.loads(content or b"")
    except (ValueError, UnicodeDecodeError):
        return None
    code = payload.get("error") if isinstance(payload, dict) else None
    return code[:64] if isinstance(code, str) and code.replace("_", "").isalnum() else None


def _with_timeout(client: AuthClient, timeout: float) -> None:
    """The client is a ``requests.Session`` that sets no timeout: give every request one."""
    request = client.request

    def timed(method: str, url: str, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", timeout)
        return request(method, url, **kwargs)

    client.request = timed  # type: ignore[method-assign]
