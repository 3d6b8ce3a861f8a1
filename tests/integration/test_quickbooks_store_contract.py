"""One contract for the QuickBooks connection repository, run against the in-memory fake the token
tests use (``tests/fakes/quickbooks.py``) and the SQLAlchemy adapter on SQLite and PostgreSQL, so
the fake cannot drift from what the database does: one connection per tenant, only the tenant's
own, nothing kept without a commit, the row read again under its lock, the catch-up lease."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from adapters.db.uow import SqlAlchemyUnitOfWork
from domain.integrations.quickbooks.connection import QuickbooksConnection, TokenPair
from domain.shared.model import new_id
from domain.tenancy.model import Tenant
from tests.fakes.clock import FakeClock
from tests.fakes.quickbooks import FakeConnectionsStore, FakeConnectionsUnitOfWork

T0 = datetime(2026, 3, 4, 5, 6, 7, 123000, tzinfo=UTC)
PAIR = TokenPair(access_sealed="a", refresh_sealed="r", access_expires_at=T0 + timedelta(hours=1),
                 refresh_expires_at=T0 + timedelta(days=100), refresh_hard_expires_at=T0 + timedelta(days=1825))


@dataclass
class Backend:
    uow: Callable[[str], Any]
    tenant: Callable[[str], str]

    def connect(self, tenant_id: str, realm: str = "123") -> QuickbooksConnection:
        connection = QuickbooksConnection.connect(
            id=new_id(), tenant_id=tenant_id, realm_id=realm, company_name="Acme", tokens=PAIR, user_id="u", now=T0
        )
        with self.uow(tenant_id) as uow:
            uow.quickbooks_connections.add(connection)
            uow.commit()
        return connection


class QuickbooksStoreContract:
    @pytest.fixture
    def backend(self) -> Backend:
        raise NotImplementedError

    def test_a_connection_is_the_tenants_own_and_what_is_not_committed_is_not_kept(self, backend: Backend) -> None:
        acme, globex = backend.tenant("acme"), backend.tenant("globex")
        made = backend.connect(acme)

        with backend.uow(acme) as uow:
            found = uow.quickbooks_connections.get()
            assert found is not None and (found.id, found.realm_id, found.refresh_sealed) == (made.id, "123", "r")
            assert found.refresh_hard_expires_at == PAIR.refresh_hard_expires_at
            found.company_name = "changed, not committed"
        with backend.uow(globex) as uow:
            assert uow.quickbooks_connections.get() is None
            with pytest.raises(PermissionError):
                uow.quickbooks_connections.add(made)
        with backend.uow(acme) as uow:
            assert uow.quickbooks_connections.get().company_name == "Acme"  # type: ignore[union-attr]

    def test_the_locked_read_sees_what_was_committed_and_a_change_under_it_is_kept(self, backend: Backend) -> None:
        acme = backend.tenant("acme")
        backend.connect(acme)
        with backend.uow(acme) as uow:
            locked = uow.quickbooks_connections.get_for_update()
            assert locked is not None
            locked.store_tokens(TokenPair(access_sealed="a2", refresh_sealed="r2", access_expires_at=T0 + timedelta(hours=2),
                                          refresh_expires_at=None, refresh_hard_expires_at=None), now=T0)
            uow.commit()
        with backend.uow(acme) as uow:
            found = uow.quickbooks_connections.get_for_update()
            assert found is not None and (found.access_sealed, found.refresh_sealed) == ("a2", "r2")
            assert found.refresh_hard_expires_at == PAIR.refresh_hard_expires_at, "an answer without it keeps it"

    def test_one_catch_up_at_a_time_until_its_lease_ends(self, backend: Backend) -> None:
        acme = backend.tenant("acme")
        backend.connect(acme)
        with backend.uow(acme) as uow:
            assert uow.quickbooks_connections.claim_catch_up(now=T0, until=T0 + timedelta(minutes=10)) is True
            uow.commit()
        with backend.uow(acme) as uow:
            assert uow.quickbooks_connections.claim_catch_up(now=T0 + timedelta(minutes=9), until=T0) is False
            assert uow.quickbooks_connections.claim_catch_up(
                now=T0 + timedelta(minutes=11), until=T0 + timedelta(minutes=21)
            ) is True
            uow.quickbooks_connections.release_catch_up()
            uow.commit()
        with backend.uow(acme) as uow:
            assert uow.quickbooks_connections.claim_catch_up(now=T0, until=T0 + timedelta(minutes=10)) is True


class TestFakeQuickbooksStore(QuickbooksStoreContract):
    @pytest.fixture
    def backend(self) -> Backend:
        store = FakeConnectionsStore()
        return Backend(lambda tenant_id: FakeConnectionsUnitOfWork(store, tenant_id), lambda slug: new_id())


class TestSqlAlchemyQuickbooksStore(QuickbooksStoreContract):
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
