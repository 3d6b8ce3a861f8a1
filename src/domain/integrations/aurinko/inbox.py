"""Inbound mail synced from a tenant's mailbox (Aurinko): one stored message per provider message.

A message is identified by its provider id within the mailbox account, and also by its RFC 5322
``internetMessageId``: the same message seen again (a later page, a restarted sync, a move that
gave it a new provider id) updates the one row instead of adding another. Its ``fingerprint``
(a digest of everything stored) tells an unchanged message from a changed one, so syncing the
same mailbox again writes nothing. Clients are linked by the addresses on the message (sender and
every recipient) matching their contacts' (and, once present, their default) emails.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

MAX_SUBJECT = 998
MAX_SNIPPET = 1000
MAX_ID = 255
MAX_MESSAGE_ID = 500
MAX_NAME = 200
MAX_ADDRESS = 320
MAX_RECIPIENTS = 200
MAX_LABELS = 50


@dataclass(frozen=True, slots=True, kw_only=True)
class MailAddress:
    address: str
    """Lower case: addresses are compared case-insensitively."""
    name: str | None = None

    @classmethod
    def of(cls, address: object, name: object = None) -> MailAddress | None:
        if not isinstance(address, str):
            return None
        text = address.strip().strip("<>").strip().lower()
        if not text or "@" not in text or len(text) > MAX_ADDRESS:
            return None
        label = name.strip()[:MAX_NAME] if isinstance(name, str) and name.strip() else None
        return cls(address=text, name=label)


@dataclass(frozen=True, slots=True, kw_only=True)
class InboundMessage:
    """A message as the mailbox provider reports it, normalised (lengths bounded, addresses lowered)."""

    provider_id: str
    thread_id: str | None
    internet_message_id: str | None
    subject: str | None
    sender: MailAddress | None
    to: tuple[MailAddress, ...]
    cc: tuple[MailAddress, ...]
    bcc: tuple[MailAddress, ...]
    received_at: datetime | None
    sent_at: datetime | None
    snippet: str | None
    body: str | None
    has_attachments: bool
    labels: tuple[str, ...]
    in_reply_to: str | None

    def addresses(self) -> tuple[str, ...]:
        """Every address on the message (sender first), each once."""
        seen: dict[str, None] = {}
        for item in (self.sender, *self.to, *self.cc, *self.bcc):
            if item is not None:
                seen.setdefault(item.address, None)
        return tuple(seen)

    def fingerprint(self) -> str:
        def addresses(items: Iterable[MailAddress]) -> list[list[str | None]]:
            return [[item.address, item.name] for item in items]

        canonical = [
            self.provider_id, self.thread_id, self.internet_message_id, self.subject,
            addresses([self.sender] if self.sender else []), addresses(self.to), addresses(self.cc),
            addresses(self.bcc),
            self.received_at.isoformat() if self.received_at else None,
            self.sent_at.isoformat() if self.sent_at else None,
            self.snippet, self.body, self.has_attachments, list(self.labels), self.in_reply_to,
        ]
        return hashlib.sha256(json.dumps(canonical, ensure_ascii=False).encode()).hexdigest()


def bounded(value: object, limit: int) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.strip()
    return text[:limit] if text else None


def client_matches(addresses: Iterable[str], client_emails: dict[str, frozenset[str]]) -> tuple[str, ...]:
    """The clients (ids, sorted) any of whose emails is one of ``addresses``.
    ``client_emails``: lower-cased address -> ids of the clients that have it."""
    found: set[str] = set()
    for address in addresses:
        found |= client_emails.get(address.lower(), frozenset())
    return tuple(sorted(found))
