"""One contract for the WhatsApp repository, reader and directory of the unit of work, run against
the in-memory fakes (``tests/fakes/whatsapp.py``) and the SQLAlchemy adapters on SQLite and
PostgreSQL, so the fakes the unit tests rely on cannot drift. Views are compared by ``repr``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from adapters.db.uow import SqlAlchemyUnitOfWork
from application.shared.ports import DuplicateEntry, UnitOfWork
from application.whatsapp.views import WhatsappMessageCursor, WhatsappMessageFilter
from domain.invoicing.clients import Client, ClientDetails
from domain.tenancy.model import Tenant
from domain.whatsapp.connection import ClientWhatsapp, ConnectionStatus, WhatsappConnection, WhatsappTemplate
from domain.whatsapp.content import MessageContent, MessageKind
from domain.whatsapp.messages import PROVIDER, Direction, InboundWhatsapp, MessageStatus, WhatsappDelivery
from domain.shared.model import new_id
from tests.fakes.clock import FakeClock
from tests.fakes.uow import FakeStore, fake_uow_factory

T0 = datetime(2026, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)


@dataclass
class Backend:
    uow: Callable[[str | None], UnitOfWork]

    def tenant(self, slug: str) -> str:
        with self.uow(None) as uow:
            tenant = Tenant.create(slug=slug, name=slug.title(), now=T0)
            uow.tenants.add(tenant)
            uow.commit()
        return tenant.id

    def client(self, tenant_id: str) -> str:
        details = ClientDetails.parse(name="Ana", ruc=None, dv=None, taxpayer_type="CONSUMIDOR_FINAL", address=None)
        client = Client.create(tenant_id=tenant_id, details=details, now=T0)
        with self.uow(tenant_id) as uow:
            uow.clients.add(client)
            uow.commit()
        return client.id


def connection(tenant_id: str, pnid: str, digest: str) -> WhatsappConnection:
    return WhatsappConnection(
        id=new_id(), tenant_id=tenant_id, phone_number_id=pnid, waba_id="1", access_token_sealed="s1",
        app_secret_sealed="s2", verify_token_sealed="s3", verify_token_digest=digest,
        status=ConnectionStatus.CONNECTED, last_error=None, connected_at=T0, updated_at=T0,
    )


def outbound(tenant_id: str, phone: str, at: datetime, client_id: str | None = None) -> WhatsappDelivery:
    return WhatsappDelivery.outbound(
        tenant_id=tenant_id, phone=phone, client_id=client_id,
        content=MessageContent.of_template(name="hola", language="es", parameters=["a", "b"]), created_by="u", now=at,
    )


class WhatsappStoreContract:
    @pytest.fixture
    def backend(self) -> Backend:
        raise NotImplementedError

    def test_connection_directory_and_uniqueness(self, backend: Backend) -> None:
        acme, globex = backend.tenant("acme"), backend.tenant("globex")
        with backend.uow(acme) as uow:
            uow.whatsapp.add_connection(connection(acme, "111", "d1"))
            uow.commit()
        with backend.uow(None) as uow:
            route = uow.whatsapp_directory.by_phone_number_id("111")
            assert route is not None and (route.tenant_id, route.sealed) == (acme, "s2")
            assert uow.whatsapp_directory.by_verify_token_digest("d1").sealed == "s3"
            assert uow.whatsapp_directory.by_phone_number_id("222") is None
        with backend.uow(globex) as uow:
            assert uow.whatsapp.connection() is None and uow.whatsapp_views.connection() is None
            uow.whatsapp.add_connection(connection(globex, "111", "d2"))
            with pytest.raises(DuplicateEntry):
                uow.commit()
        with backend.uow(acme) as uow:
            view = uow.whatsapp_views.connection()
            assert view is not None and view.phone_number_id == "111" and view.status is ConnectionStatus.CONNECTED
            uow.whatsapp.delete_connection(uow.whatsapp.connection())
            uow.commit()
        with backend.uow(acme) as uow:
            assert uow.whatsapp.connection() is None

    def test_numbers_by_client_and_by_phone(self, backend: Backend) -> None:
        acme, globex = backend.tenant("acme"), backend.tenant("globex")
        first, second = backend.client(acme), backend.client(acme)
        with backend.uow(acme) as uow:
            uow.whatsapp.add_number(ClientWhatsapp.create(tenant_id=acme, client_id=first, phone="+50761234567", now=T0))
            uow.whatsapp.add_number(ClientWhatsapp.create(tenant_id=acme, client_id=second, phone="+50761234567",
                                                          now=T0 + timedelta(seconds=1)))
            uow.whatsapp.add_number(ClientWhatsapp.create(tenant_id=acme, client_id=first, phone="+14155552671",
                                                          now=T0 + timedelta(seconds=2)))
            uow.commit()
        with backend.uow(acme) as uow:
            numbers = uow.whatsapp_views.numbers_of([first, second])
            assert [n.phone for n in numbers[first]] == ["+50761234567", "+14155552671"]
            assert uow.whatsapp_views.clients_by_phone(["+50761234567", "+1"]) == {"+50761234567": first}
            assert uow.whatsapp.number_exists(first, "+14155552671") and not uow.whatsapp.number_exists(second, "+14155552671")
            uow.whatsapp.add_number(ClientWhatsapp.create(tenant_id=acme, client_id=first, phone="+50761234567", now=T0))
            with pytest.raises(DuplicateEntry):
                uow.commit()
        with backend.uow(globex) as uow:
            assert uow.whatsapp_views.numbers_of([first]) == {}
            assert uow.whatsapp.number(numbers[first][0].id) is None

    def test_templates(self, backend: Backend) -> None:
        acme = backend.tenant("acme")
        with backend.uow(acme) as uow:
            uow.whatsapp.add_template(WhatsappTemplate.create(tenant_id=acme, name="b", language="es", body_parameters=1,
                                                              document_header=True, now=T0))
            uow.whatsapp.add_template(WhatsappTemplate.create(tenant_id=acme, name="a", language="es", body_parameters=0,
                                                              document_header=False, now=T0))
            uow.commit()
        with backend.uow(acme) as uow:
            assert [(t.name, t.body_parameters, t.document_header) for t in uow.whatsapp_views.templates()] == [
                ("a", 0, False), ("b", 1, True)]
            assert uow.whatsapp.template_named("b", "es").body_parameters == 1
            assert uow.whatsapp.template_named("b", "en") is None

    def test_messages_views_filters_pages_and_the_window(self, backend: Backend) -> None:
        acme, globex = backend.tenant("acme"), backend.tenant("globex")
        client = backend.client(acme)
        messages = [outbound(acme, "+50761234567", T0 + timedelta(seconds=i), client if i % 2 else None) for i in range(5)]
        with backend.uow(acme) as uow:
            for message in messages:
                uow.whatsapp.add_delivery(message)
            uow.whatsapp.add_inbound(InboundWhatsapp.receive(
                tenant_id=acme, phone="+50761234567", client_id=client, wamid="wamid.IN1", kind=MessageKind.TEXT,
                text="hola", provider_at=T0 - timedelta(hours=1), now=T0))
            uow.whatsapp.add_inbound(InboundWhatsapp.receive(
                tenant_id=acme, phone="+50761234567", client_id=client, wamid="wamid.IN2", kind=MessageKind.TEXT,
                text="otra", provider_at=T0 - timedelta(minutes=5), now=T0))
            uow.commit()
        with backend.uow(acme) as uow:
            message = uow.whatsapp.message_for_update(messages[0].id)
            message.begin_attempt(now=T0)
            message.record_sent(provider=PROVIDER, provider_message_id="wamid.OUT0", response="accepted", now=T0)
            uow.commit()
        with backend.uow(acme) as uow:
            views = uow.whatsapp_views
            page = views.messages(WhatsappMessageFilter(direction=Direction.OUTBOUND), first=2, after=None)
            assert [m.id for m in page] == [messages[4].id, messages[3].id]
            rest = views.messages(WhatsappMessageFilter(direction=Direction.OUTBOUND), first=10,
                                  after=WhatsappMessageCursor.of(page[-1]))
            assert [m.id for m in rest] == [m.id for m in messages[2::-1]]
            by_client = views.messages(WhatsappMessageFilter(client_id=client, direction=Direction.OUTBOUND), first=10, after=None)
            assert [m.id for m in by_client] == [messages[3].id, messages[1].id]
            sent = views.messages(WhatsappMessageFilter(statuses=frozenset({MessageStatus.SENT})), first=10, after=None)
            assert [(m.id, m.wamid, m.attempts, m.template_parameters) for m in sent] == [
                (messages[0].id, "wamid.OUT0", 1, ("a", "b"))]
            assert repr(views.message(messages[0].id)) == repr(sent[0])
            assert views.last_inbound_at(["+50761234567", "+1"]) == {"+50761234567": T0 - timedelta(minutes=5)}
            assert list(uow.whatsapp.outbound_by_wamid(["wamid.OUT0", "wamid.IN1"])) == ["wamid.OUT0"]
            assert uow.whatsapp.inbound_exists("wamid.IN1") and not uow.whatsapp.inbound_exists("wamid.X")
            uow.whatsapp.add_inbound(InboundWhatsapp.receive(
                tenant_id=acme, phone="+50761234567", client_id=None, wamid="wamid.IN1", kind=MessageKind.TEXT,
                text="again", provider_at=T0, now=T0))
            with pytest.raises(DuplicateEntry):
                uow.commit()
        with backend.uow(globex) as uow:
            assert uow.whatsapp_views.messages(WhatsappMessageFilter(), first=10, after=None) == []
            assert uow.whatsapp.message_for_update(messages[0].id) is None
            assert uow.whatsapp_views.last_inbound_at(["+50761234567"]) == {}

    def test_nothing_is_kept_without_commit(self, backend: Backend) -> None:
        acme = backend.tenant("acme")
        message = outbound(acme, "+50761234567", T0)
        with backend.uow(acme) as uow:
            uow.whatsapp.add_delivery(message)
        with backend.uow(acme) as uow:
            assert uow.whatsapp.message_for_update(message.id) is None


class TestFakeWhatsappStore(WhatsappStoreContract):
    @pytest.fixture
    def backend(self) -> Backend:
        clock = FakeClock(T0)
        return Backend(fake_uow_factory(FakeStore(), clock))


class TestSqlAlchemyWhatsappStore(WhatsappStoreContract):
    @pytest.fixture
    def backend(self, engine: Engine) -> Iterator[Backend]:
        clock = FakeClock(T0)
        sessions = sessionmaker(bind=engine, expire_on_commit=False)
        yield Backend(lambda tenant_id: SqlAlchemyUnitOfWork(tenant_id, session_factory=sessions, clock=clock))
