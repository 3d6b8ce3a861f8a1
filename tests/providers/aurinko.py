"""Aurinko played on a ``ProviderServer``: OAuth code exchange, account, revoke, email sync, send.

It speaks PROVIDERS.md's wire format. The mailbox is a change log: a delta token ``u:N`` (``d:N``
for deletions) means "the first N changes seen", pages are ``p:u:N:OFFSET``; a sync start answers
``ready: false`` ``not_ready`` times first. Faults are switched on by the test: dead tokens (401
``token.dead``), an expired delta token (410 ``syncToken.expired``), or any ``Reply`` for a route.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.providers.server import ProviderServer, Recorded, Reply

CLIENT_ID = "istmo-test-client"
CLIENT_SECRET = "aurinko-client-secret-0f3c9e"


def record(
    n: int,
    *,
    sender: str = "cliente@acme.com.pa",
    to: tuple[str, ...] = ("ventas@pyme.pa",),
    subject: str | None = None,
    thread: str | None = None,
    internet_id: str | None = None,
    received: datetime | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """An Aurinko message record."""
    moment = received or datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=n)
    return {
        "id": f"msg-{n}",
        "threadId": thread or f"thread-{n // 3}",
        "internetMessageId": internet_id or f"<m{n}@mail.acme.com.pa>",
        "subject": subject or f"Factura pendiente {n}",
        "from": {"name": "Cliente Acme", "address": sender},
        "to": [{"name": None, "address": a} for a in to],
        "cc": [],
        "bcc": [],
        "receivedAt": moment.isoformat().replace("+00:00", "Z"),
        "sentAt": (moment - timedelta(seconds=30)).isoformat().replace("+00:00", "Z"),
        "bodySnippet": f"Buenos días, adjunto la factura {n}",
        "body": f"<p>Buenos días, adjunto la factura {n}</p>",
        "hasAttachments": n % 5 == 0,
        "sysLabels": ["inbox"],
        **extra,
    }


@dataclass
class FakeAurinko:
    server: ProviderServer
    page_size: int = 50
    not_ready: int = 0
    codes: dict[str, tuple[str, str]] = field(default_factory=dict)  # code -> (account id, token)
    dead_tokens: set[str] = field(default_factory=set)
    revoked: list[str] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    deletions: list[str] = field(default_factory=list)
    expire_tokens: set[str] = field(default_factory=set)
    sent: list[dict[str, Any]] = field(default_factory=list)
    emails: dict[str, str] = field(default_factory=dict)  # account id -> mailbox address
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        s = self.server
        s.route("POST", r"/v1/auth/token/(.+)", self._exchange)
        s.route("GET", r"/v1/account", self._account)
        s.route("DELETE", r"/v1/account/token", self._revoke)
        s.route("POST", r"/v1/email/sync", self._start)
        s.route("GET", r"/v1/email/sync/updated", lambda r: self._page(r, "u"))
        s.route("GET", r"/v1/email/sync/deleted", lambda r: self._page(r, "d"))
        s.route("POST", r"/v1/email/messages", self._send)

    # --- setting up ----------------------------------------------------------------------

    def issue_code(self, code: str = "code-123", *, account_id: str = "8001", token: str = "tok-live-1",
                   email: str = "ventas@pyme.pa") -> str:
        self.codes[code] = (account_id, token)
        self.emails[account_id] = email
        return code

    def add(self, *records: dict[str, Any]) -> None:
        with self._lock:
            self.updates.extend(records)

    def delete(self, *ids: str) -> None:
        with self._lock:
            self.deletions.extend(ids)

    # --- the routes ----------------------------------------------------------------------

    def _authorized(self, request: Recorded) -> str | Reply:
        header = request.header("Authorization") or ""
        if not header.startswith("Bearer "):
            return Reply.json({"code": "unauthorized", "message": "no token"}, status=401)
        token = header[len("Bearer "):]
        known = {t for _, t in self.codes.values()}
        if token in self.dead_tokens or token in self.revoked:
            return Reply.json({"code": "token.dead", "message": "token is no longer valid"}, status=401)
        if token not in known:
            return Reply.json({"code": "unauthorized", "message": "unknown token"}, status=401)
        return token

    def _account_of(self, token: str) -> str:
        return next(a for a, t in self.codes.values() if t == token)

    def _exchange(self, request: Recorded) -> Reply:
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.header("Authorization") != expected:
            return Reply.json({"code": "unauthorized", "message": "bad client credentials"}, status=401)
        code = request.path.rsplit("/", 1)[1]
        if code not in self.codes:
            return Reply.json({"code": "auth.code.invalid", "message": "unknown code"}, status=400)
        account_id, token = self.codes[code]
        return Reply.json({"accountId": int(account_id), "accessToken": token, "userId": "u1", "userSession": "s1"})

    def _account(self, request: Recorded) -> Reply:
        token = self._authorized(request)
        if isinstance(token, Reply):
            return token
        account = self._account_of(token)
        return Reply.json({"id": int(account), "serviceType": "Google", "email": self.emails.get(account)})

    def _revoke(self, request: Recorded) -> Reply:
        token = self._authorized(request)
        if isinstance(token, Reply):
            return token
        self.revoked.append(token)
        return Reply(status=200)

    def _start(self, request: Recorded) -> Reply:
        token = self._authorized(request)
        if isinstance(token, Reply):
            return token
        if not re.fullmatch(r"\d+", request.query.get("daysWithin", "")):
            return Reply.json({"code": "badRequest", "message": "daysWithin"}, status=400)
        with self._lock:
            if self.not_ready > 0:
                self.not_ready -= 1
                return Reply.json({"syncUpdatedToken": None, "syncDeletedToken": None, "ready": False})
        return Reply.json({"syncUpdatedToken": "u:0", "syncDeletedToken": "d:0", "ready": True})

    def _page(self, request: Recorded, kind: str) -> Reply:
        token = self._authorized(request)
        if isinstance(token, Reply):
            return token
        delta, page = request.query.get("deltaToken"), request.query.get("pageToken")
        if (delta is None) == (page is None):
            return Reply.json({"code": "badRequest", "message": "deltaToken or pageToken"}, status=400)
        if delta is not None:
            if delta in self.expire_tokens:
                self.expire_tokens.discard(delta)
                return Reply.json({"code": "syncToken.expired", "message": "start over"}, status=410)
            prefix, start = delta.split(":")
            base, offset = int(start), 0
        else:
            _, prefix, start, skip = page.split(":")
            base, offset = int(start), int(skip)
        if prefix != kind:
            return Reply.json({"code": "badRequest", "message": "token of another kind"}, status=400)
        with self._lock:
            log = self.updates if kind == "u" else [{"id": i} for i in self.deletions]
            snapshot = log[base:]
        chunk = snapshot[offset : offset + self.page_size]
        body: dict[str, Any] = {"records": chunk}
        if offset + self.page_size < len(snapshot):
            body["nextPageToken"] = f"p:{kind}:{base}:{offset + self.page_size}"
        else:
            body["nextDeltaToken"] = f"{kind}:{base + len(snapshot)}"
        return Reply.json(body)

    def _send(self, request: Recorded) -> Reply:
        token = self._authorized(request)
        if isinstance(token, Reply):
            return token
        if request.query != {"bodyType": "html", "returnIds": "true"}:
            return Reply.json({"code": "badRequest"}, status=400)
        message = json.loads(request.body)
        self.sent.append(message)
        n = next(self._ids)
        return Reply.json({"id": f"sent-{n}", "threadId": f"t-{n}"}, status=201)
