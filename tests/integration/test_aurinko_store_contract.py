"""One contract for the Aurinko connection repository and reader, the OAuth state store, the inbox
store and the directory of the unit of work, run against the in-memory fakes the handler tests
use (``tests/fakes/aurinko.py``) and the SQLAlchemy adapters on SQLite and PostgreSQL, so the
fakes cannot drift from what the database does."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from adapters.db.uow import SqlAlchemyUnitOfWork
from application.integrations.aurinko.ports import ConnectionRef, MessageWrite, StoredMessage
from domain.integrations.aurinko.connection import AurinkoConnection, ServiceType
from domain.integrations.aurinko.inbox import InboundMessage, MailAddress
from domain.shared.model import new_id
from domain.tenancy.model import Tenant
from tests.fakes.aurinko import FakeAurinkoStore, FakeAurinkoUnitOfWork
from tests.fakes.clock import FakeClock

T0 = datetime(2026, 3, 4, 5, 6, 7, 123000, tzinfo=UTC)


@dataclass
class Backend:
    uow: Callable[[str | None], Any]
    make_tenant: Callable[[str], str]

    def tenant(self, slug: str) -> str:
        return self.make_tenant(slug)

    def connect(self, tenant_id: str, account_id: str) -> AurinkoConnection:
        connection = AurinkoConnection.connect(
            id=new_id(), tenant_id=tenant_id, account_id=account_id, email=f"{account_id}@acme.pa",
            service_type=ServiceType.GOOGLE, scopes=("Mail.Read",), token_sealed="sealed", user_id="u", now=T0,
        )
        with self.uow(tenant_id) as uow:
            uow.aurinko_connections.add(connection)
            uow.commit()
        return connection


def inbound(provider_id: str, internet_message_id: str | None, subject: str = "Hola") -> InboundMessage:
    return InboundMessage(
        provider_id=provider_id, thread_id="t1", internet_message_id=internet_message_id, subject=subject,
        sender=MailAddress(address="ana@cliente.pa", name="Ana"), to=(MailAddress(address="caja@acme.pa"),), cc=(),
        bcc=(), received_at=T0, sent_at=T0, snippet="Hola", body="Hola", has_attachments=False, labels=("INBOX",),
        in_reply_to=None,
    )


class AurinkoStoreContract:
    @pytest.fixture
    def backend(self) -> Backend:
        raise NotImplementedError

    def test_a_connection_is_the_tenants_own_and_what_is_not_committed_is_not_kept(self, backend: Backend) -> None:
        acme, globex = backend.tenant("acme"), backend.tenant("globex")
        connection = backend.connect(acme, "acct-1")
        with backend.uow(acme) as uow:
            stored = uow.aurinko_connections.get()
            assert stored is not None
            assert (stored.id, stored.account_id, stored.token_sealed) == (connection.id, "acct-1", "sealed")
            view = uow.aurinko_connection_views.get()
        assert view is not None and (view.id, view.account_id, view.email, view.scopes) == (
            connection.id, "acct-1", "acct-1@acme.pa", ("Mail.Read",))
        with backend.uow(globex) as uow:
            assert uow.aurinko_connections.get() is None and uow.aurinko_connection_views.get() is None
        with backend.uow(acme) as uow:
            uow.aurinko_connections.get().mark_needs_reconnect("401", now=T0)
        with backend.uow(acme) as uow:  # left without commit: rolled back
            assert uow.aurinko_connection_views.get().reconnect_reason is None

    def test_the_sync_lease_is_held_by_one_run_until_it_ends_or_is_released(self, backend: Backend) -> None:
        acme = backend.tenant("acme")
        connection = backend.connect(acme, "acct-1")

        def claim(now: datetime, until: datetime, connection_id: str = connection.id) -> bool:
            with backend.uow(acme) as uow:
                won = uow.aurinko_connections.claim_sync(connection_id, now=now, until=until)
                uow.commit()
            return bool(won)

        assert not claim(T0, T0 + timedelta(minutes=5), connection_id=new_id())
        assert claim(T0, T0 + timedelta(minutes=5))
        assert not claim(T0 + timedelta(minutes=1), T0 + timedelta(minutes=6))
        assert not claim(T0 + timedelta(minutes=5), T0 + timedelta(minutes=10))  # until is inclusive
        with backend.uow(acme) as uow:
            uow.aurinko_connections.extend_sync(connection.id, until=T0 + timedelta(minutes=20))
            uow.commit()
        assert not claim(T0 + timedelta(minutes=19), T0 + timedelta(minutes=25))
        assert claim(T0 + timedelta(minutes=21), T0 + timedelta(minutes=26))  # the holder vanished
        with backend.uow(acme) as uow:
            uow.aurinko_connections.release_sync(connection.id)
            uow.commit()
        with backend.uow(acme) as uow:
            uow.aurinko_connections.extend_sync(connection.id, until=T0 + timedelta(hours=1))  # not held: no-op
            uow.commit()
        assert claim(T0 + timedelta(minutes=22), T0 + timedelta(minutes=27))

    def test_an_oauth_state_is_consumed_once_and_forgotten_after_it_expires(self, backend: Backend) -> None:
        acme = backend.tenant("acme")

        def consume(nonce: str, now: datetime) -> bool:
            with backend.uow(acme) as uow:
                fresh = uow.oauth_states.consume(nonce, expires_at=T0 + timedelta(minutes=10), now=now)
                uow.commit()
            return bool(fresh)

        assert consume("n1", T0) and not consume("n1", T0 + timedelta(minutes=9))
        assert consume("n2", T0)
        # past its expiry the record is gone (the signed state itself is refused as expired first)
        assert consume("n1", T0 + timedelta(minutes=11))

    def test_the_directory_lists_active_connections_and_matches_an_account_only_when_unique(self, backend: Backend) -> None:
        acme, globex, initech = backend.tenant("acme"), backend.tenant("globex"), backend.tenant("initech")
        a, g = backend.connect(acme, "acct-1"), backend.connect(globex, "acct-2")
        backend.connect(initech, "acct-3")
        with backend.uow(initech) as uow:
            uow.aurinko_connections.get().mark_needs_reconnect("401", now=T0)
            uow.commit()
        with backend.uow(None) as uow:
            listed = uow.aurinko_directory.active_connections()
            assert listed == sorted(
                [ConnectionRef(tenant_id=acme, connection_id=a.id), ConnectionRef(tenant_id=globex, connection_id=g.id)],
                key=lambda ref: ref.connection_id,
            )
            assert uow.aurinko_directory.by_account("acct-1") == ConnectionRef(tenant_id=acme, connection_id=a.id)
            assert uow.aurinko_directory.by_account("acct-3") is None  # not active
            assert uow.aurinko_directory.by_account("nobody") is None
        backend.connect(backend.tenant("hooli"), "acct-1")  # the same mailbox in two tenants
        with backend.uow(None) as uow:
            assert uow.aurinko_directory.by_account("acct-1") is None

    def test_the_inbox_finds_updates_and_marks_deleted_the_tenants_own_messages(self, backend: Backend) -> None:
        acme, globex = backend.tenant("acme"), backend.tenant("globex")
        first, second = MessageWrite(id=new_id(), message=inbound("p1", "<m1@x>"), fingerprint="f1"), MessageWrite(
            id=new_id(), message=inbound("p2", None), fingerprint="f2")
        with backend.uow(acme) as uow:
            uow.inbox.insert("acct-1", [first, second], now=T0)
            uow.commit()

        def existing(tenant_id: str, provider_ids: list[str], internet_ids: list[str]) -> list[StoredMessage]:
            with backend.uow(tenant_id) as uow:
                return sorted(uow.inbox.existing("acct-1", provider_ids, internet_ids), key=lambda m: m.provider_id)

        assert existing(acme, ["p1", "p2", "p9"], []) == [
            StoredMessage(id=first.id, provider_id="p1", internet_message_id="<m1@x>", fingerprint="f1", deleted=False),
            StoredMessage(id=second.id, provider_id="p2", internet_message_id=None, fingerprint="f2", deleted=False),
        ]
        assert [m.id for m in existing(acme, [], ["<m1@x>"])] == [first.id]
        assert existing(globex, ["p1", "p2"], ["<m1@x>"]) == []
        with backend.uow(acme) as uow:
            assert uow.inbox.mark_deleted("acct-1", ["p1", "p9"], now=T0) == 1
            assert uow.inbox.mark_deleted("acct-1", ["p1"], now=T0) == 0  # once
            uow.commit()
        assert existing(acme, ["p1"], [])[0].deleted
        with backend.uow(acme) as uow:  # seen again, changed: updated and no longer deleted
            uow.inbox.update("acct-1", [replace(first, message=inbound("p1", "<m1@x>", "Re: Hola"), fingerprint="f3")], now=T0)
            uow.commit()
        assert existing(acme, ["p1"], []) == [
            StoredMessage(id=first.id, provider_id="p1", internet_message_id="<m1@x>", fingerprint="f3", deleted=False)
        ]


class TestFakeAurinkoStore(AurinkoStoreContract):
    @pytest.fixture
    def backend(self) -> Backend:
        store = FakeAurinkoStore()
        return Backend(lambda tenant_id: FakeAurinkoUnitOfWork(store, tenant_id), make_tenant=lambda slug: new_id())


class TestSqlAlchemyAurinkoStore(AurinkoStoreContract):
    @pytest.fixture
    def backend(self, engine: Engine) -> Iterator[Backend]:
        clock = FakeClock(T0)
        sessions = sessionmaker(bind=engine, expire_on_commit=False)

        def uow(tenant_id: str | None) -> SqlAlchemyUnitOfWork:
            return SqlAlchemyUnitOfWork(tenant_id, session_factory=sessions, clock=clock)

        def make_tenant(slug: str) -> str:
            with uow(None) as work:
                tenant = Tenant.create(slug=slug, name=slug.title(), now=T0)
                work.tenants.add(tenant)
                work.commit()
            return tenant.id

        yield Backend(uow, make_tenant)
