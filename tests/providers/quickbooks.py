"""QuickBooks Online played on a ``ProviderServer``: Intuit's discovery document, token endpoint
(authorization code, rotating refresh tokens, ``invalid_grant`` for a used or revoked one) and
revocation, and the Accounting API v3 of any number of companies.

The API enforces what the connector relies on: ``requestid`` replays the first answer of a write;
an update needs the object's current ``SyncToken`` (else fault 5010, stale object); a second
customer with the same ``DisplayName`` is fault 6240; a line whose tax code the company does not
have is a fault answered with HTTP 200 (as QuickBooks sometimes does); ``throttle`` answers 429 with
``Retry-After``; ``/cdc`` lists objects changed since ``changedSince``; ``/query`` reads
``select * from <Entity> where <Field> = '<value>'``. ``deliver`` signs a webhook body the way
Intuit does (``intuit-signature``: base64 HMAC-SHA256 of the raw body with the verifier token).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from tests.providers.server import ProviderServer, Recorded, Reply

CLIENT_ID = "qbo-test-client"
CLIENT_SECRET = "qbo-client-secret-5a1e"
VERIFIER_TOKEN = "qbo-webhook-verifier-token-9d2b"
REALM = "9130350001"
TAX_CODES = {"0": "TAX0", "7": "TAX7", "10": "TAX10", "15": "TAX15"}
ITEM = "1"


def fault(code: str, message: str, *, detail: str | None = None, element: str | None = None,
          status: int = 400, kind: str = "ValidationFault") -> Reply:
    error: dict[str, Any] = {"Message": message, "Detail": detail or message, "code": code}
    if element:
        error["element"] = element
    return Reply.json({"Fault": {"Error": [error], "type": kind}, "time": _now()}, status=status)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Company:
    realm: str
    name: str = "Contabilidad Istmo S.A."
    objects: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # entity -> id -> object
    replies: dict[str, tuple[int, bytes]] = field(default_factory=dict)  # requestid -> first answer
    tax_codes: set[str] = field(default_factory=lambda: set(TAX_CODES.values()))
    home_currency: str = "USD"
    multicurrency: bool = False

    def of(self, entity: str) -> dict[str, dict[str, Any]]:
        return self.objects.setdefault(entity, {})


@dataclass
class FakeQuickbooks:
    server: ProviderServer
    codes: dict[str, str] = field(default_factory=dict)  # code -> realm
    access: dict[str, str] = field(default_factory=dict)  # access token -> realm
    refresh: dict[str, str] = field(default_factory=dict)  # live refresh token -> realm
    used_refresh: set[str] = field(default_factory=set)
    revoked: list[str] = field(default_factory=list)
    refresh_calls: int = 0
    companies: dict[str, Company] = field(default_factory=dict)
    throttle: int = 0
    """How many API requests to answer 429 (Retry-After: ``retry_after``) before serving again."""
    retry_after: int = 7
    throttle_after: int = 0
    """How many API requests to serve before ``throttle`` starts."""
    lose_answers: int = 0
    """How many writes to apply and then answer 502 (the answer lost on the way back)."""
    refresh_delay: float = 0.0
    """Seconds the token endpoint takes to answer a refresh (a storm test widens its window)."""
    hold_after_invoices: int | None = None
    """Once this many invoices exist, each write is applied and its answer held until ``release()``
    (a crash test kills a worker while its creates are stored and unanswered)."""
    held: int = 0
    _released: threading.Event = field(default_factory=threading.Event)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _ids: Any = field(default_factory=lambda: itertools.count(100))

    def __post_init__(self) -> None:
        s = self.server
        s.route("GET", r"/\.well-known/openid_configuration/?", self._discovery)
        s.route("POST", r"/oauth2/v1/tokens/bearer", self._token)
        s.route("POST", r"/v2/oauth2/tokens/revoke", self._revoke)
        s.route("GET", r"/v3/company/(\d+)/companyinfo/(\d+)", self._company_info)
        s.route("GET", r"/v3/company/(\d+)/preferences", self._preferences)
        s.route("GET", r"/v3/company/(\d+)/query", self._query)
        s.route("GET", r"/v3/company/(\d+)/cdc", self._cdc)
        s.route("GET", r"/v3/company/(\d+)/(customer|invoice|payment)/([^/]+)", self._read)
        s.route("POST", r"/v3/company/(\d+)/(customer|invoice|payment)", self._write)
        self.company(REALM)

    @property
    def discovery_url(self) -> str:
        return f"{self.server.url}/.well-known/openid_configuration"

    def company(self, realm: str) -> Company:
        with self._lock:
            return self.companies.setdefault(realm, Company(realm))

    def issue_code(self, realm: str = REALM) -> str:
        code = f"code-{next(self._ids)}"
        with self._lock:
            self.codes[code] = realm
        return code

    def expire_access_tokens(self) -> None:
        with self._lock:
            self.access.clear()

    def api_requests(self, method: str = "POST", entity: str = "invoice") -> list[Recorded]:
        return self.server.received(method, rf"/v3/company/\d+/{entity}")

    # --- OAuth ---

    def _discovery(self, _r: Recorded) -> Reply:
        u = self.server.url
        return Reply.json({
            "issuer": "https://oauth.platform.intuit.com/op/v1",
            "authorization_endpoint": f"{u}/connect/oauth2",
            "token_endpoint": f"{u}/oauth2/v1/tokens/bearer",
            "revocation_endpoint": f"{u}/v2/oauth2/tokens/revoke",
            "userinfo_endpoint": f"{u}/v1/openid_connect/userinfo",
            "jwks_uri": f"{u}/op/v1/jwks",
        })

    def _client_ok(self, r: Recorded) -> bool:
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        return r.header("Authorization") == expected

    def _tokens(self, realm: str, r: Recorded) -> Reply:
        access, refresh = f"at-{next(self._ids)}", f"rt-{next(self._ids)}"
        self.access[access] = realm
        self.refresh[refresh] = realm
        body: dict[str, Any] = {
            "token_type": "bearer", "access_token": access, "refresh_token": refresh,
            "expires_in": 3600, "x_refresh_token_expires_in": 8726400,
        }
        if (r.header("x-include-refresh-token-hard-expires-in") or "").lower() == "true":
            body["x_refresh_token_hard_expires_in"] = 157680000
        return Reply.json(body)

    def _token(self, r: Recorded) -> Reply:
        if not self._client_ok(r):
            return Reply.json({"error": "invalid_client"}, status=401)
        form = {k: v[0] for k, v in parse_qs(r.body.decode()).items()}
        grant = form.get("grant_type")
        if grant == "authorization_code":
            with self._lock:
                realm = self.codes.pop(form.get("code", ""), None)
                if realm is None:
                    return Reply.json({"error": "invalid_grant"}, status=400)
                return self._tokens(realm, r)
        if grant == "refresh_token":
            if self.refresh_delay:
                threading.Event().wait(self.refresh_delay)
            with self._lock:
                self.refresh_calls += 1
                token = form.get("refresh_token", "")
                realm = self.refresh.pop(token, None)  # rotates: a used refresh token is dead
                if realm is None:
                    return Reply.json({"error": "invalid_grant"}, status=400)
                self.used_refresh.add(token)
                return self._tokens(realm, r)
        return Reply.json({"error": "unsupported_grant_type"}, status=400)

    def _revoke(self, r: Recorded) -> Reply:
        if not self._client_ok(r):
            return Reply.json({"error": "invalid_client"}, status=401)
        token = r.json().get("token", "")
        with self._lock:
            self.revoked.append(token)
            realm = self.refresh.pop(token, None) or self.access.pop(token, None)
            if realm is not None:
                for at in [a for a, rr in self.access.items() if rr == realm]:
                    del self.access[at]
        return Reply(200)

    # --- the API ---

    def _authorized(self, r: Recorded, realm: str) -> Reply | None:
        header = r.header("Authorization") or ""
        with self._lock:
            if not header.startswith("Bearer ") or self.access.get(header[7:]) != realm:
                return Reply.json({"fault": {"error": [{"message": "message=AuthenticationFailed; errorCode=003200",
                                                        "code": "3200"}], "type": "AUTHENTICATION"}}, status=401)
            if self.throttle_after > 0:
                self.throttle_after -= 1
            elif self.throttle > 0:
                self.throttle -= 1
                return Reply.json({"Fault": {"Error": [{"Message": "ThrottleExceeded", "code": "003001"}]}},
                                  status=429, headers={"Retry-After": str(self.retry_after)})
        if r.query.get("minorversion") != "75":
            return fault("2010", "minorversion must be 75 in this fake")
        return None

    def _realm(self, r: Recorded) -> str:
        return re.match(r"/v3/company/(\d+)/", r.path).group(1)  # type: ignore[union-attr]

    def _company_info(self, r: Recorded) -> Reply:
        realm = self._realm(r)
        if (denied := self._authorized(r, realm)) is not None:
            return denied
        return Reply.json({"CompanyInfo": {"CompanyName": self.company(realm).name, "Id": "1"}})

    def _preferences(self, r: Recorded) -> Reply:
        realm = self._realm(r)
        if (denied := self._authorized(r, realm)) is not None:
            return denied
        company = self.company(realm)
        return Reply.json({"Preferences": {"CurrencyPrefs": {
            "MultiCurrencyEnabled": company.multicurrency, "HomeCurrency": {"value": company.home_currency},
        }}, "time": _now()})

    def _read(self, r: Recorded) -> Reply:
        realm = self._realm(r)
        if (denied := self._authorized(r, realm)) is not None:
            return denied
        entity = r.path.split("/")[4].capitalize()
        found = self.company(realm).of(entity).get(r.path.split("/")[5])
        if found is None:
            return fault("610", "Object Not Found", detail="Something you're trying to use has been made inactive or deleted")
        return Reply.json({entity: found, "time": _now()})

    def _write(self, r: Recorded) -> Reply:
        realm = self._realm(r)
        if (denied := self._authorized(r, realm)) is not None:
            return denied
        entity = r.path.split("/")[4].capitalize()
        company = self.company(realm)
        request_id = r.query.get("requestid")
        with self._lock:
            if request_id and request_id in company.replies:
                status, body = company.replies[request_id]
                return Reply(status, body, {"Content-Type": "application/json"})
            reply = self._apply(company, entity, r.json(), r.query.get("operation"))
            if request_id:
                company.replies[request_id] = (reply.status, reply.body)
            if self.lose_answers > 0:
                self.lose_answers -= 1
                return Reply(502, b"Bad Gateway")
            hold = self.hold_after_invoices is not None and len(company.of("Invoice")) >= self.hold_after_invoices
            if hold:
                self.held += 1
        if hold:
            self._released.wait(60)
        return reply

    def release(self) -> None:
        """Answer the held writes, and hold no more."""
        self.hold_after_invoices = None
        self._released.set()

    def _apply(self, company: Company, entity: str, body: dict[str, Any], operation: str | None) -> Reply:
        objects = company.of(entity)
        now = _now()
        if body.get("Id") is not None:  # an update or a void
            current = objects.get(str(body["Id"]))
            if current is None:
                return fault("610", "Object Not Found")
            if str(body.get("SyncToken")) != current["SyncToken"]:
                return fault("5010", "Stale Object Error",
                             detail="You and another user were working on the same thing.", element="SyncToken")
            if operation == "void":
                current["Balance"] = 0
                current["PrivateNote"] = "Voided"
                current["voided"] = True
            else:
                if entity == "Customer" and "DisplayName" in body and self._name_taken(objects, body["DisplayName"], current["Id"]):
                    return fault("6240", "Duplicate Name Exists Error",
                                 detail="The name supplied already exists. : Another customer is already using this name.")
                current.update({k: v for k, v in body.items() if k not in ("Id", "SyncToken", "sparse", "MetaData")})
            current["SyncToken"] = str(int(current["SyncToken"]) + 1)
            current["MetaData"]["LastUpdatedTime"] = now
            return Reply.json({entity: current, "time": now})
        if entity == "Customer" and self._name_taken(objects, body.get("DisplayName", ""), None):
            return fault("6240", "Duplicate Name Exists Error",
                         detail="The name supplied already exists. : Another customer is already using this name.")
        if entity == "Invoice":
            for index, line in enumerate(body.get("Line", [])):
                code = (line.get("SalesItemLineDetail") or {}).get("TaxCodeRef", {}).get("value")
                if line.get("DetailType") == "SalesItemLineDetail" and code not in company.tax_codes:
                    # QuickBooks answers some validation faults with HTTP 200.
                    return fault("6000", "A business validation error has occurred while processing your request",
                                 detail=f"Business Validation Error: Invalid tax code {code} on line {index + 1}",
                                 element="TaxCodeRef", status=200)
            customer = str((body.get("CustomerRef") or {}).get("value"))
            if customer not in company.of("Customer"):
                return fault("2500", "Invalid Reference Id", detail=f"Customer {customer} does not exist",
                             element="CustomerRef")
        if entity in ("Invoice", "Payment"):
            currency = (body.get("CurrencyRef") or {}).get("value", company.home_currency)
            customer_currency = (company.of("Customer").get(str((body.get("CustomerRef") or {}).get("value"))) or {}).get(
                "CurrencyRef", {"value": company.home_currency})["value"]
            if currency != company.home_currency and not company.multicurrency:
                return fault("6000", "A business validation error has occurred while processing your request",
                             detail=f"Business Validation Error: multicurrency is off; {currency} is not the home currency",
                             element="CurrencyRef")
            if currency != customer_currency:
                return fault("6000", "A business validation error has occurred while processing your request",
                             detail=f"Business Validation Error: the customer's currency is {customer_currency}",
                             element="CurrencyRef")
        if entity == "Payment":
            for line in body.get("Line", []):
                for txn in line.get("LinkedTxn", []):
                    if str(txn.get("TxnId")) not in company.of("Invoice"):
                        return fault("2500", "Invalid Reference Id", element="LinkedTxn")
        created = {**body, "Id": str(next(self._ids)), "SyncToken": "0",
                   "MetaData": {"CreateTime": now, "LastUpdatedTime": now}}
        objects[created["Id"]] = created
        return Reply.json({entity: created, "time": now})

    @staticmethod
    def _name_taken(objects: dict[str, dict[str, Any]], name: str, except_id: str | None) -> bool:
        return any(o.get("DisplayName", "").lower() == name.lower() and o["Id"] != except_id for o in objects.values())

    def _query(self, r: Recorded) -> Reply:
        realm = self._realm(r)
        if (denied := self._authorized(r, realm)) is not None:
            return denied
        match = re.match(
            r"select \* from (\w+) where (\w+) = '((?:[^'\\]|\\.)*)'", r.query.get("query", ""), re.IGNORECASE
        )
        if match is None:
            return fault("4000", "Error parsing query")
        entity, name, value = match.group(1), match.group(2), re.sub(r"\\(.)", r"\1", match.group(3))
        with self._lock:
            found = [o for o in self.company(realm).of(entity).values() if str(o.get(name)) == value]
        return Reply.json({"QueryResponse": {entity: found, "startPosition": 1, "maxResults": len(found)}, "time": _now()})

    def _cdc(self, r: Recorded) -> Reply:
        realm = self._realm(r)
        if (denied := self._authorized(r, realm)) is not None:
            return denied
        since = datetime.fromisoformat(r.query["changedSince"])
        responses = []
        with self._lock:
            for entity in r.query.get("entities", "").split(","):
                changed = [
                    o for o in self.company(realm).of(entity).values()
                    if datetime.fromisoformat(o["MetaData"]["LastUpdatedTime"]) >= since
                ]
                responses.append({entity: changed, "startPosition": 1, "maxResults": len(changed)})
        return Reply.json({"CDCResponse": [{"QueryResponse": responses}], "time": _now()})

    # --- changes made "in QuickBooks" and webhooks ---

    def record_payment(self, realm: str, invoice_id: str, amount: float, *, customer: str | None = None) -> dict[str, Any]:
        """A payment entered by the accountant in QuickBooks against an invoice."""
        with self._lock:
            company = self.company(realm)
            invoice = company.of("Invoice")[invoice_id]
            reply = self._apply(company, "Payment", {
                "CustomerRef": invoice["CustomerRef"] if customer is None else {"value": customer},
                "TotalAmt": amount, "TxnDate": invoice["TxnDate"],
                "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}],
            }, None)
            return json.loads(reply.body)["Payment"]

    def edit_customer(self, realm: str, customer_id: str, **changes: Any) -> dict[str, Any]:
        return self.edit(realm, "Customer", customer_id, **changes)

    def edit(self, realm: str, entity: str, qbo_id: str, **changes: Any) -> dict[str, Any]:
        """An object changed by the accountant in QuickBooks."""
        with self._lock:
            current = self.company(realm).of(entity)[qbo_id]
            current.update(changes)
            current["SyncToken"] = str(int(current["SyncToken"]) + 1)
            current["MetaData"]["LastUpdatedTime"] = _now()
            return current

    def delete(self, realm: str, entity: str, qbo_id: str) -> None:
        """Deleted by the accountant: CDC reports it as ``{"Id", "status": "Deleted", "MetaData"}``."""
        with self._lock:
            self.company(realm).of(entity)[qbo_id] = {
                "domain": "QBO", "status": "Deleted", "Id": qbo_id, "MetaData": {"LastUpdatedTime": _now()},
            }


def sign(body: bytes, token: str = VERIFIER_TOKEN) -> str:
    return base64.b64encode(hmac.new(token.encode(), body, hashlib.sha256).digest()).decode()


def cloud_events(*realms_and_entities: tuple[str, str, str]) -> bytes:
    """A CloudEvents array: (realm, entity, id) each."""
    return json.dumps([
        {"specversion": "1.0", "id": f"evt-{realm}-{entity}-{qbo_id}", "source": "intuit.dsnBgbseACLLRZNxo2dfc4evmEJdxde58xeeYcZliOU=",
         "type": f"qbo.{entity.lower()}.updated.v1", "datacontenttype": "application/json", "time": _now(),
         "intuitentityid": qbo_id, "intuitaccountid": realm, "data": {}}
        for realm, entity, qbo_id in realms_and_entities
    ]).encode()


def legacy_notification(realm: str, entity: str, qbo_id: str) -> bytes:
    return json.dumps({"eventNotifications": [{"realmId": realm, "dataChangeEvent": {"entities": [
        {"name": entity, "id": qbo_id, "operation": "Update", "lastUpdated": _now()}]}}]}).encode()
