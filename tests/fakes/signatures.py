"""In-memory signatures with the semantics of ``adapters.db.signatures`` (checked by
``tests/integration/test_signatures_store_contract.py``): tenant-bound repositories, the link
lookup across tenants, and the audit chain with its recorded head."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from adapters.db.registry import Binding
from domain.shared.model import Aggregate, new_id
from domain.signatures.audit import (
    GENESIS,
    SORTED_FIELDS,
    AuditEntry,
    AuditRecord,
    ChainCheck,
    ChainReport,
    ChainStamp,
)
from domain.signatures.model import (
    RequestStatus,
    Signature,
    SignatureRequest,
    SignatureSeal,
    SignedEntityType,
)
from tests.fakes.state import FakeDomain, FakeRepository, States, snapshot, unique

if TYPE_CHECKING:
    from tests.fakes.uow import FakeUnitOfWork


@dataclass
class SignaturesState:
    signatures: dict[str, Signature] = field(default_factory=dict)
    signature_requests: dict[str, SignatureRequest] = field(default_factory=dict)
    signature_seals: dict[str, SignatureSeal] = field(default_factory=dict)
    audit_entries: list[AuditEntry] = field(default_factory=list)
    chain_heads: dict[str, tuple[int, str]] = field(default_factory=dict)
    chain_stamps: list[ChainStamp] = field(default_factory=list)

    def checkout(self) -> SignaturesState:
        work = copy.deepcopy(self)
        work._rebase()
        return work

    def _rebase(self) -> None:
        self._base = {
            name: {key: snapshot(value) for key, value in getattr(self, name).items()}
            for name in ("signatures", "signature_requests", "signature_seals")
        }
        self._base_lengths = (len(self.audit_entries), len(self.chain_stamps))

    def _changed(self, name: str) -> list[Any]:
        base = self._base[name]
        return [value for key, value in getattr(self, name).items() if base.get(key) != snapshot(value)]

    def check(self, work: SignaturesState, store: States, workspace: States) -> None:
        requests = {**self.signature_requests, **{r.id: r for r in work._changed("signature_requests")}}
        unique("signature_requests(token_hash)", (r.token_hash for r in requests.values()))
        added = work.audit_entries[work._base_lengths[0]:]
        unique("signature_audit(tenant_id, seq)", ((e.tenant_id, e.seq) for e in [*self.audit_entries, *added]))
        stamps = work.chain_stamps[work._base_lengths[1]:]
        unique("signature_chain_stamps(tenant_id, seq)", ((s.tenant_id, s.seq) for s in [*self.chain_stamps, *stamps]))

    def apply(self, work: SignaturesState) -> None:
        for name in ("signatures", "signature_requests", "signature_seals"):
            for value in work._changed(name):
                getattr(self, name)[value.id] = copy.deepcopy(value)
        self.audit_entries.extend(copy.deepcopy(work.audit_entries[work._base_lengths[0]:]))
        self.chain_stamps.extend(copy.deepcopy(work.chain_stamps[work._base_lengths[1]:]))
        self.chain_heads.update(work.chain_heads)
        work._rebase()

    def aggregates(self) -> Iterable[Aggregate]:
        yield from self.signatures.values()
        yield from self.signature_requests.values()
        yield from self.signature_seals.values()


class _Bound:
    def __init__(self, uow: FakeUnitOfWork, tenant_id: str) -> None:
        self._uow = uow
        self._tenant_id = tenant_id

    @property
    def _state(self) -> SignaturesState:
        return self._uow.workspace().state("signatures")  # type: ignore[return-value]

    def _own(self, item: Any, verb: str) -> Any:
        if item.tenant_id != self._tenant_id:
            raise PermissionError(f"a {type(item).__name__} of another tenant cannot be {verb} here")
        return item


class FakeSignatureRepository(_Bound):
    def add(self, signature: Signature) -> None:
        self._state.signatures[signature.id] = self._own(signature, "added")

    def get(self, signature_id: str) -> Signature | None:
        found = self._state.signatures.get(signature_id)
        return found if found is not None and found.tenant_id == self._tenant_id else None

    def for_entity(self, entity_type: SignedEntityType, entity_id: str) -> list[Signature]:
        found = [s for s in self._state.signatures.values() if s.tenant_id == self._tenant_id
                 and s.entity_type == entity_type and s.entity_id == entity_id]
        return sorted(found, key=lambda s: (s.signed_at, s.id))


class FakeSignatureRequestRepository(_Bound):
    def add(self, request: SignatureRequest) -> None:
        self._state.signature_requests[request.id] = self._own(request, "added")

    def get(self, request_id: str) -> SignatureRequest | None:
        found = self._state.signature_requests.get(request_id)
        return found if found is not None and found.tenant_id == self._tenant_id else None

    def find(self, status: RequestStatus | None, *, now: datetime, limit: int) -> list[SignatureRequest]:
        def wanted(r: SignatureRequest) -> bool:
            if status is RequestStatus.PENDING:
                return r.status is RequestStatus.PENDING and r.expires_at > now
            if status is RequestStatus.EXPIRED:
                return r.status is RequestStatus.EXPIRED or (r.status is RequestStatus.PENDING and r.expires_at <= now)
            return status is None or r.status is status

        found = [r for r in self._state.signature_requests.values() if r.tenant_id == self._tenant_id and wanted(r)]
        return sorted(found, key=lambda r: (r.created_at, r.id), reverse=True)[:limit]

    def pending_for(self, entity_type: SignedEntityType, entity_id: str) -> list[SignatureRequest]:
        return [r for r in self._state.signature_requests.values() if r.tenant_id == self._tenant_id
                and r.entity_type == entity_type and r.entity_id == entity_id and r.status is RequestStatus.PENDING]


class FakeSigningLinks:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    def find(self, token_hash: str) -> tuple[str, str] | None:
        state: SignaturesState = self._uow.workspace().state("signatures")  # type: ignore[assignment]
        found = next((r for r in state.signature_requests.values() if r.token_hash == token_hash), None)
        return (found.tenant_id, found.id) if found else None


class FakeSealRepository(_Bound):
    def add(self, seal: SignatureSeal) -> None:
        self._state.signature_seals[seal.id] = self._own(seal, "added")

    def for_entity(self, entity_type: SignedEntityType, entity_id: str) -> list[SignatureSeal]:
        found = [s for s in self._state.signature_seals.values() if s.tenant_id == self._tenant_id
                 and s.entity_type == entity_type and s.entity_id == entity_id]
        return sorted(found, key=lambda s: (s.sealed_at, s.id))

    def by_sealed_sha256(self, sha256: str) -> SignatureSeal | None:
        found = [s for s in self._state.signature_seals.values() if s.tenant_id == self._tenant_id
                 and s.sealed_sha256 == sha256]
        return min(found, key=lambda s: s.sealed_at) if found else None


class FakeAuditLog(_Bound):
    def lock(self) -> None:
        self._state.chain_heads.setdefault(self._tenant_id, (0, GENESIS))

    def head(self) -> tuple[int, str]:
        return self._state.chain_heads.get(self._tenant_id, (0, GENESIS))

    def append(self, record: AuditRecord) -> AuditEntry:
        self.lock()
        seq, head = self.head()
        entry = AuditEntry.chain(id=new_id(), tenant_id=self._tenant_id, seq=seq + 1, prev_hash=head, record=record)
        self._state.audit_entries.append(entry)
        self._state.chain_heads[self._tenant_id] = (entry.seq, entry.entry_hash)
        return entry

    def _mine(self) -> list[AuditEntry]:
        return sorted((e for e in self._state.audit_entries if e.tenant_id == self._tenant_id), key=lambda e: e.seq)

    def of(self, *, entity_type: str, entity_id: str) -> list[AuditEntry]:
        return [e for e in self._mine() if e.entity_type == entity_type and e.entity_id == entity_id]

    def add_stamp(self, stamp: ChainStamp) -> None:
        self._state.chain_stamps.append(self._own(stamp, "added"))

    def stamps(self) -> list[ChainStamp]:
        return sorted((s for s in self._state.chain_stamps if s.tenant_id == self._tenant_id), key=lambda s: s.seq)

    def verify(self) -> ChainReport:
        check = ChainCheck()
        for entry in self._mine():
            if not check.add_sorted(tuple(getattr(entry, name) for name in SORTED_FIELDS), entry.entry_hash):
                break
        report = check.report()
        if not report.intact:
            return report
        seq, head = self.head()
        if (seq, head) == (report.entries, report.head_hash):
            return report
        problem = (
            f"entry {report.entries + 1} is missing: the chain ends at entry {report.entries}, but {seq} were recorded"
            if seq > report.entries
            else f"the recorded head (entry {seq}) does not match the chain's last entry ({report.entries})"
        )
        return ChainReport(intact=False, entries=report.entries, head_hash=report.head_hash,
                           first_bad_seq=report.entries + 1 if seq > report.entries else seq, problem=problem)


class FakeChainHeads:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    def unstamped(self) -> list[tuple[str, int, str]]:
        state: SignaturesState = self._uow.workspace().state("signatures")  # type: ignore[assignment]
        stamped = {(s.tenant_id, s.seq) for s in state.chain_stamps}
        return sorted((tenant, seq, head) for tenant, (seq, head) in state.chain_heads.items()
                      if seq > 0 and (tenant, seq) not in stamped)


FAKE_DOMAIN = FakeDomain(
    name="signatures",
    state=SignaturesState,
    exposed=False,
    repositories={
        "signatures": FakeRepository(lambda uow: FakeSignatureRepository(uow, uow.tenant)),
        "signature_requests": FakeRepository(lambda uow: FakeSignatureRequestRepository(uow, uow.tenant)),
        "signature_seals": FakeRepository(lambda uow: FakeSealRepository(uow, uow.tenant)),
        "signature_audit": FakeRepository(lambda uow: FakeAuditLog(uow, uow.tenant)),
        "signing_links": FakeRepository(FakeSigningLinks, Binding.ANY),
        "signature_chain_heads": FakeRepository(FakeChainHeads, Binding.SYSTEM),
    },
)
