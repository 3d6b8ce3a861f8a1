"""Signatures on SQLAlchemy: tenant-bound repositories, the link lookup across tenants, and the audit chain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from adapters.db.repository import TenantRepository
from adapters.db.signatures.tables import (
    signature_audit,
    signature_chain_heads,
    signature_chain_stamps,
    signature_requests,
    signature_seals,
    signatures,
)
from application.shared.ports import Clock
from domain.shared.model import new_id
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


class SqlAlchemySignatureRepository(TenantRepository[Signature]):
    kind = "signature"

    def get(self, signature_id: str) -> Signature | None:
        return self._one(
            select(Signature).where(signatures.c.tenant_id == self._tenant_id, signatures.c.id == signature_id)
        )

    def for_entity(self, entity_type: SignedEntityType, entity_id: str) -> list[Signature]:
        return self._all(
            select(Signature)
            .where(
                signatures.c.tenant_id == self._tenant_id,
                signatures.c.entity_type == entity_type,
                signatures.c.entity_id == entity_id,
            )
            .order_by(signatures.c.signed_at, signatures.c.id)
        )


class SqlAlchemySignatureRequestRepository(TenantRepository[SignatureRequest]):
    kind = "signature request"

    def get(self, request_id: str) -> SignatureRequest | None:
        return self._one(
            select(SignatureRequest).where(
                signature_requests.c.tenant_id == self._tenant_id, signature_requests.c.id == request_id
            )
        )

    def find(self, status: RequestStatus | None, *, now: datetime, limit: int) -> list[SignatureRequest]:
        c = signature_requests.c
        statement = select(SignatureRequest).where(c.tenant_id == self._tenant_id)
        if status is RequestStatus.PENDING:
            statement = statement.where(c.status == RequestStatus.PENDING, c.expires_at > now)
        elif status is RequestStatus.EXPIRED:
            statement = statement.where(
                or_(c.status == RequestStatus.EXPIRED, and_(c.status == RequestStatus.PENDING, c.expires_at <= now))
            )
        elif status is not None:
            statement = statement.where(c.status == status)
        return self._all(statement.order_by(c.created_at.desc(), c.id.desc()).limit(limit))

    def pending_for(self, entity_type: SignedEntityType, entity_id: str) -> list[SignatureRequest]:
        c = signature_requests.c
        return self._all(
            select(SignatureRequest).where(
                c.tenant_id == self._tenant_id, c.entity_type == entity_type, c.entity_id == entity_id,
                c.status == RequestStatus.PENDING,
            )
        )


class SqlAlchemySigningLinks:
    """Across tenants: the request a token hash opens (the hash is unique)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def find(self, token_hash: str) -> tuple[str, str] | None:
        row = self._session.execute(
            select(signature_requests.c.tenant_id, signature_requests.c.id).where(
                signature_requests.c.token_hash == token_hash
            )
        ).first()
        return (row.tenant_id, row.id) if row else None


class SqlAlchemySealRepository(TenantRepository[SignatureSeal]):
    kind = "signature seal"

    def by_sealed_sha256(self, sha256: str) -> SignatureSeal | None:
        found = self._all(
            select(SignatureSeal)
            .where(signature_seals.c.tenant_id == self._tenant_id, signature_seals.c.sealed_sha256 == sha256)
            .order_by(signature_seals.c.sealed_at)
            .limit(1)
        )
        return found[0] if found else None

    def for_entity(self, entity_type: SignedEntityType, entity_id: str) -> list[SignatureSeal]:
        c = signature_seals.c
        return self._all(
            select(SignatureSeal)
            .where(c.tenant_id == self._tenant_id, c.entity_type == entity_type, c.entity_id == entity_id)
            .order_by(c.sealed_at, c.id)
        )


_COLUMNS = [signature_audit.c[name] for name in SORTED_FIELDS]


class SqlAlchemyAuditLog:
    """The tenant's chain. Appending takes the tenant's head row (an upsert: its row lock on
    PostgreSQL, the write lock on SQLite) until the transaction ends, reads the head, adds the
    entry after it and moves the head."""

    def __init__(self, session: Session, tenant_id: str, clock: Clock) -> None:
        self._session = session
        self._tenant_id = tenant_id
        self._clock = clock
        self._locked = False

    def lock(self) -> None:
        if self._locked:
            return
        dialect = self._session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(signature_chain_heads).values(
            tenant_id=self._tenant_id, seq=0, head_hash=GENESIS, locked_at=self._clock.now()
        )
        statement = statement.on_conflict_do_update(
            index_elements=["tenant_id"], set_={"locked_at": statement.excluded.locked_at}
        )
        self._session.execute(statement)
        self._locked = True

    def head(self) -> tuple[int, str]:
        row = self._session.execute(
            select(signature_chain_heads.c.seq, signature_chain_heads.c.head_hash).where(
                signature_chain_heads.c.tenant_id == self._tenant_id
            )
        ).first()
        return (int(row.seq), str(row.head_hash)) if row else (0, GENESIS)

    def append(self, record: AuditRecord) -> AuditEntry:
        self.lock()
        seq, head = self.head()
        entry = AuditEntry.chain(id=new_id(), tenant_id=self._tenant_id, seq=seq + 1, prev_hash=head, record=record)
        self._session.add(entry)
        self._session.execute(
            update(signature_chain_heads)
            .where(signature_chain_heads.c.tenant_id == self._tenant_id)
            .values(seq=entry.seq, head_hash=entry.entry_hash)
        )
        return entry

    def add_stamp(self, stamp: ChainStamp) -> None:
        if stamp.tenant_id != self._tenant_id:
            raise PermissionError("a chain stamp of another tenant cannot be added here")
        self._session.add(stamp)

    def stamps(self) -> list[ChainStamp]:
        return list(self._session.scalars(
            select(ChainStamp).where(signature_chain_stamps.c.tenant_id == self._tenant_id)
            .order_by(signature_chain_stamps.c.seq)
        ))

    def of(self, *, entity_type: str, entity_id: str) -> list[AuditEntry]:
        c = signature_audit.c
        return list(self._session.scalars(
            select(AuditEntry)
            .where(c.tenant_id == self._tenant_id, c.entity_type == entity_type, c.entity_id == entity_id)
            .order_by(c.seq)
        ))

    def verify(self) -> ChainReport:
        check = ChainCheck()
        statement = (
            select(*_COLUMNS, signature_audit.c.entry_hash)
            .where(signature_audit.c.tenant_id == self._tenant_id)
            .order_by(signature_audit.c.seq)
            .execution_options(yield_per=5000)
        )
        for row in self._session.execute(statement):
            if not check.add_sorted(tuple(row[:-1]), row[-1]):
                break
        report = check.report()
        if not report.intact:
            return report
        recorded = self._session.execute(
            select(signature_chain_heads.c.seq, signature_chain_heads.c.head_hash).where(
                signature_chain_heads.c.tenant_id == self._tenant_id
            )
        ).first()
        seq, head = (int(recorded.seq), str(recorded.head_hash)) if recorded else (0, GENESIS)
        if (seq, head) == (report.entries, report.head_hash):
            return report
        problem = (
            f"entry {report.entries + 1} is missing: the chain ends at entry {report.entries}, "
            f"but {seq} were recorded"
            if seq > report.entries
            else f"the recorded head (entry {seq}) does not match the chain's last entry ({report.entries})"
        )
        return ChainReport(
            intact=False, entries=report.entries, head_hash=report.head_hash,
            first_bad_seq=report.entries + 1 if seq > report.entries else seq, problem=problem,
        )



class SqlAlchemyChainHeads:
    """System work: every tenant's chain head not timestamped yet."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def unstamped(self) -> list[tuple[str, int, str]]:
        heads, stamps = signature_chain_heads, signature_chain_stamps
        stamped = select(stamps.c.id).where(stamps.c.tenant_id == heads.c.tenant_id, stamps.c.seq == heads.c.seq)
        rows = self._session.execute(
            select(heads.c.tenant_id, heads.c.seq, heads.c.head_hash)
            .where(heads.c.seq > 0, ~stamped.exists())
            .order_by(heads.c.tenant_id)
        )
        return [(row.tenant_id, int(row.seq), str(row.head_hash)) for row in rows]
