"""One HTTP client for Aurinko: base URL from config, explicit timeouts, errors by what they call for.

401 -> ``TokenRejected`` (Aurinko's code: ``token.dead``, ``token.refresh.failed``, ``unauthorized``);
410 -> ``SyncTokenExpired``; 429 -> ``ProviderUnavailable`` with ``Retry-After``; 408 and 5xx,
timeouts, connection errors and malformed JSON -> ``ProviderUnavailable``; other 4xx ->
``ProviderRefused``. Reasons name the status and Aurinko's error code only: never a token, a
secret, a header or the body of the answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from application.integrations.aurinko.ports import (
    ProviderRefused,
    ProviderUnavailable,
    SyncTokenExpired,
    TokenRejected,
)

_CODE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
DEFAULT_BASE_URL = "https://api.aurinko.io"


class AurinkoHttp:
    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout = (connect_timeout, read_timeout)
        self._session = session or requests.Session()

    def request(
        self,
        method: str,
        path: str,
        *,
        bearer: str | None = None,
        basic: tuple[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        expect_json: bool = True,
        malformed_ok: bool = False,
    ) -> Any:
        """The decoded JSON of a 2xx answer (None without one). ``malformed_ok``: a 2xx whose body
        is not JSON is None too (the request was taken: a send must not be retried for that)."""
        headers = {"Accept": "application/json"}
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        try:
            response = self._session.request(
                method,
                f"{self.base_url}{path}",
                params=params,
                json=body,
                headers=headers,
                auth=basic,
                timeout=self._timeout,
                allow_redirects=False,
            )
        except requests.ConnectTimeout:
            raise ProviderUnavailable(f"{method} {_route(path)}: cannot connect to Aurinko in time") from None
        except requests.Timeout:
            raise ProviderUnavailable(
                f"{method} {_route(path)}: Aurinko did not answer in time", maybe_processed=True
            ) from None
        except requests.ConnectionError as error:
            refused = _never_connected(error)
            raise ProviderUnavailable(
                f"{method} {_route(path)}: " + ("cannot reach Aurinko" if refused else "the connection to Aurinko dropped"),
                maybe_processed=not refused,
            ) from None
        except requests.RequestException as error:
            raise ProviderUnavailable(f"{method} {_route(path)}: cannot reach Aurinko ({type(error).__name__})") from None
        return self._answer(method, path, response, expect_json, malformed_ok)

    def _answer(
        self, method: str, path: str, response: requests.Response, expect_json: bool, malformed_ok: bool
    ) -> Any:
        status = response.status_code
        where = f"{method} {_route(path)}"
        if 200 <= status < 300:
            if not expect_json or not response.content:
                return None
            try:
                return response.json()
            except (ValueError, json.JSONDecodeError):
                if malformed_ok:
                    return None
                raise ProviderUnavailable(f"{where}: Aurinko answered {status} with malformed JSON") from None
        code = _error_code(response)
        said = f"{where}: Aurinko answered {status}" + (f" {code}" if code else "")
        if status == 401:
            raise TokenRejected(said, code=code or "unauthorized")
        if status == 410:
            raise SyncTokenExpired(said)
        if status == 429:
            raise ProviderUnavailable(said, retry_after=retry_after(response.headers.get("Retry-After")))
        if status == 408 or status >= 500:
            raise ProviderUnavailable(said, retry_after=retry_after(response.headers.get("Retry-After")))
        if 300 <= status < 400:
            raise ProviderUnavailable(f"{where}: Aurinko answered an unexpected redirect ({status})")
        raise ProviderRefused(said, status=status)


def _never_connected(error: requests.ConnectionError) -> bool:
    """True when no connection was made (refused, DNS, unreachable): nothing reached Aurinko."""
    from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError

    cause: Any = error.args[0] if error.args else None
    if isinstance(cause, MaxRetryError):
        cause = cause.reason
    return isinstance(cause, NewConnectionError | NameResolutionError)


def _route(path: str) -> str:
    """The path without ids or codes in it (``/v1/auth/token/{code}`` must not leak the code)."""
    if path.startswith("/v1/auth/token/"):
        return "/v1/auth/token/{code}"
    return path


def _error_code(response: requests.Response) -> str | None:
    try:
        payload = response.json()
    except (ValueError, json.JSONDecodeError):
        return None
    if not isinstance(payload, dict):
        return None
    for key in ("code", "errorCode", "error"):
        value = payload.get(key)
        if isinstance(value, str) and _CODE.match(value):
            return value
    return None


def retry_after(value: str | None, *, now: datetime | None = None) -> timedelta | None:
    """``Retry-After`` as seconds or an HTTP date; None when absent or unreadable. At most a day."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return timedelta(seconds=min(int(text), 86400))
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - (now or datetime.now(UTC))
    return max(timedelta(0), min(delta, timedelta(days=1)))
