"""``QuickbooksHttpApi``: the Accounting API v3 on ``requests`` (a thin adapter, see the README).

``{base}/v3/company/{realm}/{entity}?minorversion=75``, JSON in and out, a bearer token per call.
A ``Fault`` is a fault whatever the status (QuickBooks sometimes answers one with 200); 401 is
``AccessRejected`` (refresh and try once more); 429 honours ``Retry-After``; 5xx, timeouts and
connection errors are ``QboUnavailable``. Reasons name the status and the fault, never a token.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import requests

from adapters.aurinko.http import retry_after
from application.integrations.quickbooks.ports import AccessRejected, FaultError, QboFault, QboUnavailable
from domain.integrations.quickbooks.connection import CurrencyPrefs

MINOR_VERSION = "75"
PRODUCTION = "https://quickbooks.api.intuit.com"
SANDBOX = "https://sandbox-quickbooks.api.intuit.com"


class QuickbooksHttpApi:
    def __init__(
        self, base_url: str = PRODUCTION, *, connect_timeout: float = 5.0, read_timeout: float = 30.0,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout = (connect_timeout, read_timeout)
        self._session = session or _session_for(self.base_url)

    def __repr__(self) -> str:
        return f"QuickbooksHttpApi(base_url={self.base_url!r})"

    # --- the port ---

    def create(self, realm_id: str, token: str, entity: str, body: Mapping[str, Any], *, request_id: str) -> dict[str, Any]:
        answer = self._send("POST", realm_id, token, entity.lower(), body=body, params={"requestid": request_id})
        return _object(answer, entity)

    def update(
        self, realm_id: str, token: str, entity: str, body: Mapping[str, Any], *, request_id: str,
        operation: str | None = None,
    ) -> dict[str, Any]:
        params = {"requestid": request_id}
        if operation:
            params["operation"] = operation
        answer = self._send("POST", realm_id, token, entity.lower(), body=body, params=params)
        return _object(answer, entity)

    def read(self, realm_id: str, token: str, entity: str, qbo_id: str) -> dict[str, Any]:
        answer = self._send("GET", realm_id, token, f"{entity.lower()}/{quote(qbo_id, safe='')}")
        return _object(answer, entity)

    def query(self, realm_id: str, token: str, statement: str) -> list[dict[str, Any]]:
        answer = self._send("GET", realm_id, token, "query", params={"query": statement})
        response = answer.get("QueryResponse") if isinstance(answer, dict) else None
        if not isinstance(response, dict):
            return []
        for value in response.values():
            if isinstance(value, list):
                return [item for item in value if isinstance(item, dict)]
        return []

    def company_name(self, realm_id: str, token: str) -> str | None:
        answer = self._send("GET", realm_id, token, f"companyinfo/{quote(realm_id, safe='')}")
        info = answer.get("CompanyInfo") if isinstance(answer, dict) else None
        name = info.get("CompanyName") if isinstance(info, dict) else None
        return name.strip()[:200] if isinstance(name, str) and name.strip() else None

    def currency(self, realm_id: str, token: str) -> CurrencyPrefs:
        answer = self._send("GET", realm_id, token, "preferences")
        prefs = answer.get("Preferences") if isinstance(answer, dict) else None
        currency = prefs.get("CurrencyPrefs") if isinstance(prefs, dict) else None
        home = currency.get("HomeCurrency") if isinstance(currency, dict) else None
        code = home.get("value") if isinstance(home, dict) else None
        if not isinstance(code, str) or not re.fullmatch(r"[A-Z]{3}", code.strip()):
            raise QboUnavailable("QuickBooks' preferences carry no home currency")
        return CurrencyPrefs(home=code.strip(), multicurrency=currency.get("MultiCurrencyEnabled") is True)  # type: ignore[union-attr]

    def changes(
        self, realm_id: str, token: str, entities: Sequence[str], since: datetime
    ) -> dict[str, list[dict[str, Any]]]:
        moment = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        answer = self._send("GET", realm_id, token, "cdc", params={"entities": ",".join(entities), "changedSince": moment})
        found: dict[str, list[dict[str, Any]]] = {entity: [] for entity in entities}
        for cdc in answer.get("CDCResponse", []) if isinstance(answer, dict) else []:
            for response in cdc.get("QueryResponse", []) if isinstance(cdc, dict) else []:
                if not isinstance(response, dict):
                    continue
                for entity in entities:
                    items = response.get(entity)
                    if isinstance(items, list):
                        found[entity].extend(item for item in items if isinstance(item, dict))
        return found

    # --- the wire ---

    def _send(
        self, method: str, realm_id: str, token: str, path: str, *, body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Any:
        url = f"{self.base_url}/v3/company/{quote(realm_id, safe='')}/{path}"
        where = f"{method} /{path.split('/')[0]}"
        headers = {"Accept": "application/json", "Authorization": f"Bearer {token}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = self._session.request(
                method, url, params={**(params or {}), "minorversion": MINOR_VERSION},
                data=json.dumps(body) if body is not None else None, headers=headers, timeout=self._timeout,
                allow_redirects=False,
            )
        except requests.Timeout:
            raise QboUnavailable(f"{where}: QuickBooks did not answer in time") from None
        except requests.RequestException as error:
            raise QboUnavailable(f"{where}: cannot reach QuickBooks ({type(error).__name__})") from None
        payload = _json(response)
        fault = _fault(payload, response.status_code)
        status = response.status_code
        if status == 401:
            raise AccessRejected(f"{where}: QuickBooks answered 401")
        if status == 429:
            raise QboUnavailable(f"{where}: QuickBooks answered 429", retry_after=retry_after(response.headers.get("Retry-After")))
        if status >= 500 or status == 408:
            raise QboUnavailable(f"{where}: QuickBooks answered {status}", retry_after=retry_after(response.headers.get("Retry-After")))
        if fault is not None:
            raise fault
        if not 200 <= status < 300:
            raise QboFault([FaultError(code=str(status), message=f"QuickBooks answered {status}", detail=None, element=None)], status=status)
        if payload is None:
            raise QboUnavailable(f"{where}: QuickBooks answered {status} with malformed JSON")
        return payload


def _session_for(base_url: str) -> requests.Session:
    """One session (its connections kept alive) for every call. The environment's proxy and CA
    settings are read here, once, not on every request (``requests`` reads the whole environment
    per request otherwise, scanning every variable twice)."""
    session = requests.Session()
    session.proxies.update(requests.utils.get_environ_proxies(base_url))
    session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    session.trust_env = False
    return session


def _json(response: requests.Response) -> Any:
    try:
        return response.json() if response.content else None
    except (ValueError, json.JSONDecodeError):
        return None


def _fault(payload: Any, status: int) -> QboFault | None:
    fault = payload.get("Fault") if isinstance(payload, dict) else None
    if not isinstance(fault, dict):
        return None
    errors = []
    for error in fault.get("Error") or []:
        if isinstance(error, dict):
            errors.append(
                FaultError(
                    code=str(error.get("code")) if error.get("code") is not None else None,
                    message=str(error.get("Message") or "QuickBooks refused the request")[:500],
                    detail=str(error["Detail"])[:500] if error.get("Detail") else None,
                    element=str(error["element"])[:200] if error.get("element") else None,
                )
            )
    return QboFault(errors, status=status, fault_type=str(fault.get("type")) if fault.get("type") else None)


def _object(answer: Any, entity: str) -> dict[str, Any]:
    found = answer.get(entity) if isinstance(answer, dict) else None
    if not isinstance(found, dict) or found.get("Id") in (None, ""):
        raise QboUnavailable(f"QuickBooks' answer carries no {entity} with an Id")
    return found
