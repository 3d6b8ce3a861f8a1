"""One contract for the emails repositories and readers of the unit of work.

It runs against the in-memory fakes (``tests/fakes/emails.py``) and against the SQLAlchemy
adapters on SQLite and PostgreSQL, so the fakes the unit tests rely on cannot drift.
Views are compared by ``repr``: a plain string instead of an enum is a difference.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from adapters.db.uow import SqlAlchemyUnitOfWork
from application.emails.views import client_email_view, email_message_view
from application.emails.views import EmailMessageCursor, EmailMessageFilter
from application.shared.ports import DuplicateEntry, UnitOfWork
from domain.emails.model import (
    ClientEmail,
    EmailContent,
    EmailKind,
    EmailLocale,
    EmailMessage,
    EmailSettings,
    EmailTemplate,
    RecipientKind,
    Recipients,
)
from domain.invoicing.clients import Client, ClientDetails
from domain.shared.delivery import DeliveryStatus
from domain.tenancy.model import Tenant
from tests.fakes.clock import FakeClock
from tests.fakes.uow import FakeStore, fake_uow_factory

T0 = datetime(2026, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)


@dataclass
class Backend:
    name: str
    uow: Callable[[str | None], UnitOfWork]

    def tenant(self, slug: str) -> str:
        with self.uow(None) as uow:
            tenant = Tenant.create(slug=slug, name=slug.title(), now=T0)
            uow.tenants.add(tenant)
            uow.commit()
        return tenant.id

    def client(self, tenant_id: str) -> str:
        details = ClientDetails.parse(name="Cliente", ruc=None, dv=None, taxpayer_type="CONSUMIDOR_FINAL", address=None)
        with self.uow(tenant_id) as uow:
            client = Client.create(tenant_id=tenant_id, details=details, now=T0)
            uow.clients.add(client)
            uow.commit()
        return client.id

    def message(self, tenant_id: str, *, at: datetime = T0, entity: tuple[str, str] | None = None) -> EmailMessage:
        message = EmailMessage.queue(
            tenant_id=tenant_id,
            kind=EmailKind.INVOICE,
            recipients=Recipients.of(["ana@x.com"], ["b@x.com"], ["c@x.com"]),
            content=EmailContent.of(subject="Factura", html="<p>h</p>", text="t"),
            from_address=None,
            reply_to=["r@x.com"],
            attachment_file_ids=["3f1d7e8a-0000-4000-8000-000000000001", "3f1d7e8a-0000-4000-8000-000000000002"],
            entity=entity,
            message_id_domain="istmo.test",
            created_by="owner@acme.pa",
            now=at,
        )
        with self.uow(tenant_id) as uow:
            uow.email_messages.add(message)
            uow.commit()
        return message


class EmailStoreContract:
    @pytest.fixture
    def backend(self) -> Backend:
        raise NotImplementedError

    @pytest.fixture
    def acme(self, backend: Backend) -> str:
        return backend.tenant("acme")

    @pytest.fixture
    def globex(self, backend: Backend) -> str:
        return backend.tenant("globex")

    def test_a_message_reads_back_exactly_and_its_delivery_state_is_kept(self, backend: Backend, acme: str) -> None:
        message = backend.message(acme)
        with backend.uow(acme) as uow:
            assert repr(uow.email_message_views.get(message.id)) == repr(email_message_view(message))
            loaded = uow.email_messages.get_for_update(message.id)
            assert loaded is not None
            loaded.begin_attempt(now=T0 + timedelta(seconds=1))
            uow.commit()
        with backend.uow(acme) as uow:
            loaded = uow.email_messages.get_for_update(message.id)
            assert loaded is not None and loaded.status is DeliveryStatus.SENDING
            loaded.record_sent(provider="smtp", provider_message_id="q1", response="250 ok", now=T0 + timedelta(seconds=2))
            uow.commit()
        with backend.uow(acme) as uow:
            view = uow.email_message_views.get(message.id)
            assert view is not None and view.status is DeliveryStatus.SENT
            assert [(a.number, str(a.outcome), a.response) for a in view.attempts] == [(1, "SENT", "250 ok")]
            assert view.attempts[0].started_at == T0 + timedelta(seconds=1)
            assert view.sent_at == T0 + timedelta(seconds=2)
            assert (view.to, view.cc, view.bcc, view.reply_to) == (("ana@x.com",), ("b@x.com",), ("c@x.com",), ("r@x.com",))
            assert len(view.attachment_file_ids) == 2

    def test_an_uncommitted_change_is_not_kept(self, backend: Backend, acme: str) -> None:
        message = backend.message(acme)
        with backend.uow(acme) as uow:
            loaded = uow.email_messages.get_for_update(message.id)
            assert loaded is not None
            loaded.begin_attempt(now=T0)
        with backend.uow(acme) as uow:
            view = uow.email_message_views.get(message.id)
            assert view is not None and view.status is DeliveryStatus.QUEUED and view.attempts == ()

    def test_messages_are_the_tenants_own(self, backend: Backend, acme: str, globex: str) -> None:
        theirs = backend.message(globex)
        with backend.uow(acme) as uow:
            assert uow.email_message_views.get(theirs.id) is None
            assert uow.email_messages.get_for_update(theirs.id) is None
            assert uow.email_message_views.find(EmailMessageFilter(), first=10, after=None) == []

    def test_find_filters_and_pages_newest_first(self, backend: Backend, acme: str) -> None:
        made = [
            backend.message(acme, at=T0 + timedelta(seconds=i), entity=("INVOICE", "i-1") if i % 2 else None)
            for i in range(5)
        ]
        with backend.uow(acme) as uow:
            reader = uow.email_message_views
            page = reader.find(EmailMessageFilter(), first=2, after=None)
            assert [v.id for v in page] == [made[4].id, made[3].id]
            rest = reader.find(EmailMessageFilter(), first=10, after=EmailMessageCursor.of(page[-1]))
            assert [v.id for v in rest] == [made[2].id, made[1].id, made[0].id]
            linked = reader.find(EmailMessageFilter(entity_type="INVOICE", entity_id="i-1"), first=10, after=None)
            assert [v.id for v in linked] == [made[3].id, made[1].id]
            queued = reader.find(EmailMessageFilter(statuses=(DeliveryStatus.QUEUED,), kind=EmailKind.INVOICE), first=10, after=None)
            assert len(queued) == 5
            assert reader.find(EmailMessageFilter(statuses=(DeliveryStatus.SENT,)), first=10, after=None) == []

    def test_client_emails_are_unique_per_client_and_listed_oldest_first(self, backend: Backend, acme: str) -> None:
        client_id = backend.client(acme)
        first = ClientEmail.add_to([], tenant_id=acme, client_id=client_id, email="a@x.com", kind=RecipientKind.TO, now=T0)
        second = ClientEmail.add_to(
            [], tenant_id=acme, client_id=client_id, email="b@x.com", kind=RecipientKind.BCC, now=T0 + timedelta(seconds=1)
        )
        with backend.uow(acme) as uow:
            uow.client_emails.add(first)
            uow.client_emails.add(second)
            uow.commit()
        with backend.uow(acme) as uow:
            assert [repr(client_email_view(e)) for e in uow.client_emails.of_client(client_id)] == [
                repr(client_email_view(first)), repr(client_email_view(second))
            ]
            assert repr(uow.client_email_views.of_clients([client_id, "nobody"])) == repr(
                {client_id: [client_email_view(first), client_email_view(second)], "nobody": []}
            )
        with backend.uow(acme) as uow:
            uow.client_emails.add(
                ClientEmail.add_to([], tenant_id=acme, client_id=client_id, email="a@x.com", kind=RecipientKind.CC, now=T0)
            )
            with pytest.raises(DuplicateEntry):
                uow.commit()
        with backend.uow(acme) as uow:
            loaded = uow.client_emails.get(first.id)
            assert loaded is not None
            uow.client_emails.delete(loaded)
            uow.commit()
        with backend.uow(acme) as uow:
            assert [e.id for e in uow.client_emails.of_client(client_id)] == [second.id]

    def test_client_emails_of_another_tenant_are_not_seen(self, backend: Backend, acme: str, globex: str) -> None:
        client_id = backend.client(globex)
        theirs = ClientEmail.add_to([], tenant_id=globex, client_id=client_id, email="a@x.com", kind=RecipientKind.TO, now=T0)
        with backend.uow(globex) as uow:
            uow.client_emails.add(theirs)
            uow.commit()
        with backend.uow(acme) as uow:
            assert uow.client_emails.get(theirs.id) is None
            assert uow.client_emails.of_client(client_id) == []
            assert uow.client_email_views.of_clients([client_id]) == {client_id: []}
            with pytest.raises(PermissionError):
                uow.client_emails.add(theirs)

    def test_templates_are_kept_per_kind_and_locale(self, backend: Backend, acme: str, globex: str) -> None:
        template = EmailTemplate(
            tenant_id=acme, kind=EmailKind.QUOTE, locale=EmailLocale.EN, subject="Q {{ quote.number }}",
            html=None, text="t", updated_at=T0,
        )
        with backend.uow(acme) as uow:
            uow.email_templates.add(template)
            uow.commit()
        with backend.uow(acme) as uow:
            loaded = uow.email_templates.get(EmailKind.QUOTE, EmailLocale.EN)
            assert loaded is not None and (loaded.subject, loaded.html, loaded.text) == ("Q {{ quote.number }}", None, "t")
            assert uow.email_templates.get(EmailKind.QUOTE, EmailLocale.ES) is None
            loaded.change(subject="New", html="<p/>", text=None, now=T0 + timedelta(hours=1))
            uow.commit()
        with backend.uow(globex) as uow:
            assert uow.email_templates.get(EmailKind.QUOTE, EmailLocale.EN) is None
            assert uow.email_templates.all() == []
        with backend.uow(acme) as uow:
            [kept] = uow.email_templates.all()
            assert (kept.subject, kept.html, kept.text, kept.updated_at) == ("New", "<p/>", None, T0 + timedelta(hours=1))
            uow.email_templates.delete(kept)
            uow.commit()
        with backend.uow(acme) as uow:
            assert uow.email_templates.all() == []


    def test_settings_are_one_row_per_tenant(self, backend: Backend, acme: str, globex: str) -> None:
        with backend.uow(acme) as uow:
            assert uow.email_settings.get() is None
            uow.email_settings.add(
                EmailSettings(tenant_id=acme, smtp_url_sealed="sealed", smtp_summary="smtp://h:587", from_address=None, updated_at=T0)
            )
            uow.commit()
        with backend.uow(acme) as uow:
            kept = uow.email_settings.get()
            assert kept is not None and (kept.smtp_url_sealed, kept.smtp_summary) == ("sealed", "smtp://h:587")
            kept.change(smtp_url_sealed=None, smtp_summary=None, from_address="f@acme.pa", now=T0 + timedelta(seconds=1))
            uow.commit()
        with backend.uow(acme) as uow:
            kept = uow.email_settings.get()
            assert kept is not None and (kept.smtp_url_sealed, kept.from_address) == (None, "f@acme.pa")
        with backend.uow(globex) as uow:
            assert uow.email_settings.get() is None


class TestFakeEmailStore(EmailStoreContract):
    @pytest.fixture
    def backend(self) -> Backend:
        return Backend("fake", fake_uow_factory(FakeStore(), FakeClock(T0)))


class TestSqlAlchemyEmailStore(EmailStoreContract):
    @pytest.fixture
    def backend(self, engine: Engine) -> Iterator[Backend]:
        clock = FakeClock(T0)
        sessions = sessionmaker(bind=engine, expire_on_commit=False)
        yield Backend(
            engine.dialect.name,
            lambda tenant_id: SqlAlchemyUnitOfWork(tenant_id, session_factory=sessions, clock=clock),
        )
