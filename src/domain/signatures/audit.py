"""The audit trail: an append-only, hash-chained log of what happened to signatures, per tenant.

Each entry stores ``entry_hash = SHA-256(prev_hash || canonical JSON of the entry without
entry_hash)``, where ``prev_hash`` is the previous entry's hash (64 zeros for the first) and the
canonical JSON is RFC 8785's: keys sorted, no spaces, UTF-8, strings escaped as ECMAScript does.
Entries hold only strings, integers and null (times as UTC ``...Z`` strings, keys in ASCII), for
which that is exactly ``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)``.

Changing a stored entry changes its hash; removing or reordering one breaks the ``seq`` numbering
or the link to the previous hash. ``ChainCheck`` walks the entries in ``seq`` order and names the
first one that does not hold.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

GENESIS = "0" * 64
MAX_TEXT = 500


class AuditEvent(StrEnum):
    REQUEST_CREATED = "REQUEST_CREATED"
    EMAIL_QUEUED = "EMAIL_QUEUED"
    WHATSAPP_QUEUED = "WHATSAPP_QUEUED"
    LINK_OPENED = "LINK_OPENED"
    DOCUMENT_VIEWED = "DOCUMENT_VIEWED"
    SIGNED = "SIGNED"
    DECLINED = "DECLINED"
    REVOKED = "REVOKED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    SEALED = "SEALED"


def clean_text(value: str | None, limit: int = MAX_TEXT) -> str | None:
    """Text as the log keeps it: control, format and surrogate characters out, at most ``limit``."""
    if value is None:
        return None
    kept = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") else ch for ch in value)
    return kept.strip()[:limit] or None


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditRecord:
    """What happened, before it has a place in the chain."""

    event: AuditEvent
    occurred_at: datetime
    actor: str
    entity_type: str
    entity_id: str
    document_sha256: str | None = None
    request_id: str | None = None
    signature_id: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    details: Mapping[str, str] = field(default_factory=dict)


class AuditEntry:
    """One link of a tenant's chain (mapped to its table; never updated or deleted)."""

    def __init__(
        self,
        *,
        id: str,
        tenant_id: str,
        seq: int,
        event: str,
        occurred_at: str,
        actor: str,
        entity_type: str,
        entity_id: str,
        document_sha256: str | None,
        request_id: str | None,
        signature_id: str | None,
        ip: str | None,
        user_agent: str | None,
        details: str,
        prev_hash: str,
        entry_hash: str,
    ) -> None:
        self.id = id
        self.tenant_id = tenant_id
        self.seq = seq
        self.event = event
        self.occurred_at = occurred_at
        self.actor = actor
        self.entity_type = entity_type
        self.entity_id = entity_id
        self.document_sha256 = document_sha256
        self.request_id = request_id
        self.signature_id = signature_id
        self.ip = ip
        self.user_agent = user_agent
        self.details = details
        self.prev_hash = prev_hash
        self.entry_hash = entry_hash

    @classmethod
    def chain(cls, *, id: str, tenant_id: str, seq: int, prev_hash: str, record: AuditRecord) -> AuditEntry:
        details = {str(k): clean_text(str(v)) or "" for k, v in sorted(record.details.items())}
        entry = cls(
            id=id,
            tenant_id=tenant_id,
            seq=seq,
            event=record.event.value,
            occurred_at=utc_text(record.occurred_at),
            actor=clean_text(record.actor, 200) or "system",
            entity_type=record.entity_type,
            entity_id=record.entity_id,
            document_sha256=record.document_sha256,
            request_id=record.request_id,
            signature_id=record.signature_id,
            ip=clean_text(record.ip, 64),
            user_agent=clean_text(record.user_agent, 300),
            details=canonical_json(details),
            prev_hash=prev_hash,
            entry_hash="",
        )
        entry.entry_hash = entry_hash(entry.fields())
        return entry

    def fields(self) -> dict[str, Any]:
        """Everything hashed: every column but ``entry_hash``."""
        return {name: getattr(self, name) for name in HASHED_FIELDS}

    @property
    def details_map(self) -> dict[str, str]:
        return dict(json.loads(self.details or "{}"))


class ChainStamp:
    """An RFC 3161 timestamp token (DER, base64) over a tenant's chain head (its hash's 32 bytes,
    as a SHA-256 message imprint): the head existed by the TSA's time."""

    def __init__(self, *, id: str, tenant_id: str, seq: int, head_hash: str, token: str, stamped_at: datetime) -> None:
        self.id = id
        self.tenant_id = tenant_id
        self.seq = seq
        self.head_hash = head_hash
        self.token = token
        self.stamped_at = stamped_at


HASHED_FIELDS = (
    "id", "tenant_id", "seq", "event", "occurred_at", "actor", "entity_type", "entity_id",
    "document_sha256", "request_id", "signature_id", "ip", "user_agent", "details", "prev_hash",
)


def canonical_json(value: Any) -> str:
    """RFC 8785 for strings, integers, null, lists and objects with ASCII keys (see the module)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


SORTED_FIELDS = tuple(sorted(HASHED_FIELDS))
"""The hashed fields in canonical (sorted) order: rows read in this order hash without re-sorting."""
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_SEQ, _ID, _PREV = (SORTED_FIELDS.index(name) for name in ("seq", "id", "prev_hash"))


def sorted_hash(values: tuple[Any, ...]) -> str:
    """The entry hash of the hashed fields' values given in ``SORTED_FIELDS`` order (the chain
    check's hot path: one C-encoded dict, keys already in canonical order)."""
    body = _ENCODER.encode(dict(zip(SORTED_FIELDS, values, strict=True))).encode("utf-8")
    return hashlib.sha256(str(values[_PREV]).encode("ascii", "replace") + body).hexdigest()


def entry_hash(fields: Mapping[str, Any]) -> str:
    return sorted_hash(tuple(fields[name] for name in SORTED_FIELDS))


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainReport:
    intact: bool
    entries: int
    head_hash: str
    first_bad_seq: int | None = None
    first_bad_id: str | None = None
    problem: str | None = None


class ChainCheck:
    """Feed the entries' fields in ``seq`` order (``add``), then ``report()``; stops at the first fault."""

    def __init__(self) -> None:
        self._expected_seq = 1
        self._head = GENESIS
        self._count = 0
        self._fault: tuple[int, str, str] | None = None

    @property
    def failed(self) -> bool:
        return self._fault is not None

    def add(self, fields: Mapping[str, Any], stored_hash: str) -> bool:
        """False once a fault is found (the rest need not be read)."""
        return self.add_sorted(tuple(fields[name] for name in SORTED_FIELDS), stored_hash)

    def add_sorted(self, values: tuple[Any, ...], stored_hash: str) -> bool:
        """``add`` with the hashed fields' values in ``SORTED_FIELDS`` order."""
        if self._fault is not None:
            return False
        seq, entry_id = int(values[_SEQ]), str(values[_ID])
        if seq != self._expected_seq:
            problem = (
                f"entry {self._expected_seq} is missing (the next one found is {seq}): removed or renumbered"
                if seq > self._expected_seq
                else f"entry {seq} appears again after entry {self._expected_seq - 1}: duplicated or renumbered"
            )
            self._fault = (seq, entry_id, problem)
            return False
        if values[_PREV] != self._head:
            problem = f"entry {seq} does not follow entry {seq - 1}: an entry was removed, replaced or reordered"
            self._fault = (seq, entry_id, problem)
            return False
        if sorted_hash(values) != stored_hash:
            self._fault = (seq, entry_id, f"entry {seq} was edited: its content no longer matches its hash")
            return False
        self._head = stored_hash
        self._expected_seq += 1
        self._count += 1
        return True

    def report(self) -> ChainReport:
        if self._fault is None:
            return ChainReport(intact=True, entries=self._count, head_hash=self._head)
        seq, entry_id, problem = self._fault
        return ChainReport(
            intact=False, entries=self._count, head_hash=self._head,
            first_bad_seq=seq, first_bad_id=entry_id, problem=problem,
        )


def check_chain(entries: Iterable[AuditEntry]) -> ChainReport:
    check = ChainCheck()
    for entry in entries:
        if not check.add(entry.fields(), entry.entry_hash):
            break
    return check.report()
