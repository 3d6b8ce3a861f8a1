"""The tenant profile repository, one contract for the fake and SQLAlchemy (SQLite and PostgreSQL):
read back as saved, replaced in place, and each tenant's own (another tenant's is never seen)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from adapters.db.uow import SqlAlchemyUnitOfWork
from application.invoicing.profiles import profile_view
from domain.invoicing.issuer import IssuerDetails, Province, TenantProfile
from tests.fakes.clock import FakeClock
from tests.fakes.uow import FakeStore, fake_uow_factory
from tests.integration.test_invoicing_store_contract import T0, Backend


def details(name: str = "Ferretería El Istmo, S.A.", **kw: object) -> IssuerDetails:
    fields: dict[str, object] = {
        "legal_name": name, "taxpayer_type": "JURIDICO", "ruc": "155612345-2-2021", "dv": "45",
        "address": "Vía España", "province": "PANAMA", "payment_terms_days": 30,
        "payment_instructions": "Banco General\nYappy 6000-0000", "currency": "PAB",
    }
    return IssuerDetails.parse(**{**fields, **kw})  # type: ignore[arg-type]


class ProfileStoreContract:
    @pytest.fixture
    def backend(self) -> Backend:
        raise NotImplementedError

    def test_a_profile_reads_back_as_saved_and_is_replaced_in_place(self, backend: Backend) -> None:
        acme = backend.tenant("acme")
        with backend.uow(acme) as uow:
            assert uow.tenant_profile.get() is None
            profile = TenantProfile.create(tenant_id=acme, details=details(), now=T0)
            uow.tenant_profile.add(profile)
            uow.commit()
        with backend.uow(acme) as uow:
            saved = uow.tenant_profile.get()
            assert saved is not None
            assert repr(profile_view(saved)) == repr(profile_view(profile))
            assert saved.province == Province.PANAMA
            saved.update(details=details("Otra, S.A.", province=None, phone="+507 6123-4567"), now=T0)
            uow.commit()
        with backend.uow(acme) as uow:
            again = uow.tenant_profile.get()
            assert again is not None
            assert (again.legal_name, again.province, again.phone) == ("Otra, S.A.", None, "+507 6123-4567")

    def test_another_tenants_profile_is_never_seen_or_written(self, backend: Backend) -> None:
        acme, globex = backend.tenant("acme"), backend.tenant("globex")
        with backend.uow(acme) as uow:
            uow.tenant_profile.add(TenantProfile.create(tenant_id=acme, details=details(), now=T0))
            uow.commit()
        with backend.uow(globex) as uow:
            assert uow.tenant_profile.get() is None
            with pytest.raises(PermissionError):
                uow.tenant_profile.add(TenantProfile.create(tenant_id=acme, details=details(), now=T0))


class TestFakeProfileStore(ProfileStoreContract):
    @pytest.fixture
    def backend(self) -> Backend:
        clock = FakeClock(T0)
        return Backend("fake", clock, fake_uow_factory(FakeStore(), clock))


class TestSqlAlchemyProfileStore(ProfileStoreContract):
    @pytest.fixture
    def backend(self, engine: Engine) -> Iterator[Backend]:
        clock = FakeClock(T0)
        sessions = sessionmaker(bind=engine, expire_on_commit=False)
        yield Backend(
            engine.dialect.name, clock,
            lambda tenant_id: SqlAlchemyUnitOfWork(tenant_id, session_factory=sessions, clock=clock),
        )
