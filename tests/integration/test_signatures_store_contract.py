"""One contract for the signatures repositories of the unit of work, run against the in-memory
fakes (``tests/fakes/signatures.py``) and the SQLAlchemy adapters on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from adapters.db.uow import SqlAlchemyUnitOfWork
from application.shared.ports import DuplicateEntry, UnitOfWork
from domain.shared.model import new_id
from domain.signatures.audit import AuditEvent, AuditRecord, ChainStamp
from domain.signatures.model import (
    RequestChannel,
    RequestStatus,
    Signature,
    SignatureRequest,
    SignedEntityType,
    hash_token,
)
from domain.tenancy.model import Tenant
from tests.fakes.clock import FakeClock
from tests.fakes.uow import FakeStore, fake_uow_factory

T0 = datetime(2026, 12, 1, 12, 0, 0, 123456, tzinfo=UTC)


@dataclass
class Backend:
    name: str
    uow: Callable[[str | None], UnitOfWork]

    def tenant(self, slug: str) -> str:
        with self.uow(None) as uow:
            tenant = Tenant.create(slug=slug, name=slug.title(), now=T0)
            uow.tenants.add(tenant)  # type: ignore[attr-defined]
            uow.commit()
        return tenant.id


def record(n: int) -> AuditRecord:
    return AuditRecord(event=AuditEvent.LINK_OPENED, occurred_at=T0 + timedelta(seconds=n), actor="recipient:a@b.pa",
                       entity_type="INVOICE", entity_id=f"inv-{n % 2}", ip="10.0.0.1", details={"n": str(n)})


def request_of(tenant_id: str, token: str, *, expires: datetime, created: datetime = T0) -> SignatureRequest:
    return SignatureRequest.open(
        token=token, tenant_id=tenant_id, entity_type=SignedEntityType.INVOICE, entity_id="inv-1",
        document_file_id=new_id(), document_sha256="a" * 64, document_name="F.pdf", channel=RequestChannel.EMAIL,
        recipient_name="Ana", recipient_email="a@b.pa", recipient_phone=None, message=None, created_by="u",
        created_at=created, expires_at=expires,
    )


class SignaturesStoreContract:
    @pytest.fixture
    def backend(self) -> Backend:
        raise NotImplementedError

    def test_the_chain_grows_across_units_of_work_per_tenant_and_its_heads_are_stamped_once(self, backend: Backend) -> None:
        acme, globex = backend.tenant("acme"), backend.tenant("globex")
        for start, count in ((0, 3), (3, 2)):
            with backend.uow(acme) as uow:
                for n in range(start, start + count):
                    uow.signature_audit.append(record(n))  # type: ignore[attr-defined]
                uow.commit()
        with backend.uow(acme) as uow:
            report = uow.signature_audit.verify()  # type: ignore[attr-defined]
            entries = [e.seq for e in uow.signature_audit.of(entity_type="INVOICE", entity_id="inv-1")]  # type: ignore[attr-defined]
            head = uow.signature_audit.head()  # type: ignore[attr-defined]
        assert (report.intact, report.entries, report.head_hash) == (True, 5, head[1]) and head[0] == 5
        assert entries == [2, 4]
        with backend.uow(globex) as uow:
            assert uow.signature_audit.verify().entries == 0  # type: ignore[attr-defined]
            assert uow.signature_audit.head() == (0, "0" * 64)  # type: ignore[attr-defined]
        with backend.uow(None) as uow:
            assert uow.signature_chain_heads.unstamped() == [(acme, 5, head[1])]  # type: ignore[attr-defined]
        with backend.uow(acme) as uow:
            uow.signature_audit.add_stamp(ChainStamp(  # type: ignore[attr-defined]
                id=new_id(), tenant_id=acme, seq=5, head_hash=head[1], token="dG9rZW4=", stamped_at=T0))
            uow.commit()
        with backend.uow(None) as uow:
            assert uow.signature_chain_heads.unstamped() == []  # type: ignore[attr-defined]
        with backend.uow(acme) as uow:
            assert [s.seq for s in uow.signature_audit.stamps()] == [5]  # type: ignore[attr-defined]
        with pytest.raises(PermissionError), backend.uow(None) as uow:
            uow.signature_audit.head()  # type: ignore[attr-defined]

    def test_requests_by_status_by_link_and_per_tenant(self, backend: Backend) -> None:
        acme, globex = backend.tenant("acme"), backend.tenant("globex")
        now = T0 + timedelta(hours=1)
        open_one = request_of(acme, "t-open", expires=now + timedelta(days=1), created=T0 + timedelta(seconds=3))
        past = request_of(acme, "t-past", expires=now, created=T0 + timedelta(seconds=2))
        signed = request_of(acme, "t-signed", expires=now + timedelta(days=1), created=T0 + timedelta(seconds=1))
        signed.sign(signature_id=new_id(), consent=True, now=T0)
        with backend.uow(acme) as uow:
            for request in (open_one, past, signed):
                uow.signature_requests.add(request)  # type: ignore[attr-defined]
            uow.commit()
        with backend.uow(acme) as uow:
            find = uow.signature_requests.find  # type: ignore[attr-defined]
            assert [r.id for r in find(RequestStatus.PENDING, now=now, limit=10)] == [open_one.id]
            assert [r.id for r in find(RequestStatus.EXPIRED, now=now, limit=10)] == [past.id]
            assert [r.id for r in find(None, now=now, limit=10)] == [open_one.id, past.id, signed.id]
            assert [r.id for r in find(None, now=now, limit=2)] == [open_one.id, past.id]
            pending = uow.signature_requests.pending_for(SignedEntityType.INVOICE, "inv-1")  # type: ignore[attr-defined]
            assert {r.id for r in pending} == {open_one.id, past.id}
        with backend.uow(None) as uow:
            assert uow.signing_links.find(hash_token("t-past")) == (acme, past.id)  # type: ignore[attr-defined]
            assert uow.signing_links.find(hash_token("nope")) is None  # type: ignore[attr-defined]
        with backend.uow(globex) as uow:
            assert uow.signature_requests.get(open_one.id) is None  # type: ignore[attr-defined]
            assert uow.signature_requests.find(None, now=now, limit=10) == []  # type: ignore[attr-defined]
        with pytest.raises(DuplicateEntry), backend.uow(globex) as uow:
            uow.signature_requests.add(request_of(globex, "t-open", expires=now))  # type: ignore[attr-defined]
            uow.commit()

    def test_signatures_are_read_per_entity_in_order_and_never_across_tenants(self, backend: Backend) -> None:
        acme, globex = backend.tenant("acme"), backend.tenant("globex")

        def signature(at: int) -> Signature:
            return Signature.apply(
                tenant_id=acme, entity_type=SignedEntityType.QUOTE, entity_id="q-1", document_file_id=new_id(),
                document_sha256="b" * 64, image_file_id=None, typed_name="Ana", signer_user_id="u", signer_name="Ana",
                signer_email=None, reason=None, request_id=None, signed_at=T0 + timedelta(seconds=at), ip=None,
                user_agent=None,
            )

        later, earlier = signature(5), signature(1)
        with backend.uow(acme) as uow:
            uow.signatures.add(later)  # type: ignore[attr-defined]
            uow.signatures.add(earlier)  # type: ignore[attr-defined]
            uow.commit()
        with backend.uow(acme) as uow:
            found = uow.signatures.for_entity(SignedEntityType.QUOTE, "q-1")  # type: ignore[attr-defined]
            assert [s.id for s in found] == [earlier.id, later.id]
            revoked = uow.signatures.get(later.id)  # type: ignore[attr-defined]
            revoked.revoke(by="u", reason="error", now=T0)
            uow.commit()
        with backend.uow(acme) as uow:
            assert uow.signatures.get(later.id).revoked  # type: ignore[attr-defined]
        with backend.uow(globex) as uow:
            assert uow.signatures.get(later.id) is None  # type: ignore[attr-defined]
            assert uow.signatures.for_entity(SignedEntityType.QUOTE, "q-1") == []  # type: ignore[attr-defined]
            with pytest.raises(PermissionError):
                uow.signatures.add(signature(9))  # type: ignore[attr-defined]


class TestFakeSignaturesStore(SignaturesStoreContract):
    @pytest.fixture
    def backend(self) -> Backend:
        return Backend("fake", fake_uow_factory(FakeStore(), FakeClock(T0)))


class TestSqlAlchemySignaturesStore(SignaturesStoreContract):
    @pytest.fixture
    def backend(self, engine: Engine) -> Backend:
        sessions = sessionmaker(bind=engine, expire_on_commit=False)
        clock = FakeClock(T0)
        return Backend("sqlalchemy", lambda tenant_id: SqlAlchemyUnitOfWork(tenant_id, session_factory=sessions, clock=clock))
