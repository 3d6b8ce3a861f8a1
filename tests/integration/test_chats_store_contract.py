"""One contract for the chats repositories and reader, run on the in-memory fakes
(``tests/fakes/chats.py``) and on the SQLAlchemy adapters (SQLite and PostgreSQL), so the fakes the
unit tests use cannot drift from the real thing. Views are compared by ``repr``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from adapters.db.uow import SqlAlchemyUnitOfWork
from application.chats.views import ChatCursor, chat_view, message_view
from application.shared.ports import DuplicateEntry, UnitOfWork
from domain.chats.model import Chat, ChatMessage, ChatProviderSettings, MessageRole, Provider, SettingsStatus
from domain.tenancy.model import Tenant
from tests.fakes.clock import FakeClock
from tests.fakes.uow import FakeStore, fake_uow_factory

T0 = datetime(2026, 11, 24, 12, 0, 0, 123456, tzinfo=UTC)


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

    def chat(self, tenant_id: str, *, user: str = "u1", session: str = "s1", at: datetime = T0, texts: int = 2) -> Chat:
        with self.uow(tenant_id) as uow:
            chat = Chat.start(tenant_id=tenant_id, user_id=user, session_id=session, first_message="¿Cuánto me deben?", now=at)
            uow.chats.add(chat)
            for n in range(texts):
                role = MessageRole.USER if n % 2 == 0 else MessageRole.ASSISTANT
                message = ChatMessage.new(chat, role, now=at, text=f"m{n}", tool_calls=[{"id": "c", "name": "t", "arguments": "{}"}] if n == 1 else None)
                message.tokens_in, message.tokens_out = 7 * n, 3 * n
                uow.chats.add_message(message)
            uow.commit()
        return chat


class ChatsStoreContract:
    @pytest.fixture
    def backend(self) -> Backend:
        raise NotImplementedError

    def test_a_chat_and_its_messages_read_back_exactly(self, backend: Backend) -> None:
        acme = backend.tenant("acme")
        chat = backend.chat(acme, texts=3)
        with backend.uow(acme) as uow:
            assert repr(uow.chat_views.get(chat.id, "u1")) == repr(chat_view(chat))
            stored = uow.chats.messages(chat.id)
            assert [m.position for m in stored] == [0, 1, 2] and stored[1].tool_calls == [{"id": "c", "name": "t", "arguments": "{}"}]
            views = uow.chat_views.messages(chat.id, first=2, after=0)
            assert [v.text for v in views] == ["m1", "m2"] and repr(views[0]) == repr(message_view(stored[1]))
            assert uow.chat_views.message(stored[2].id).text == "m2"
            assert uow.chats.tokens_since(T0) == 10 and uow.chats.tokens_since(T0 + timedelta(seconds=1)) == 0

    def test_a_conversation_is_its_chat_and_the_messages_up_to_one(self, backend: Backend) -> None:
        acme, globex = backend.tenant("acme"), backend.tenant("globex")
        chat = backend.chat(acme, texts=4)
        backend.chat(acme, texts=2)
        theirs = backend.chat(globex, texts=2)
        with backend.uow(acme) as uow:
            stored = uow.chats.messages(chat.id)
            found = uow.chats.conversation(stored[2].id)
            assert found is not None and found[0].id == chat.id
            assert [m.id for m in found[1]] == [m.id for m in stored[:3]]
            first = uow.chats.conversation(stored[0].id)
            assert first is not None and [m.text for m in first[1]] == ["m0"]
            assert [m.id for m in uow.chats.conversation(stored[3].id)[1]] == [m.id for m in stored]
        with backend.uow(globex) as uow:
            other = uow.chats.messages(theirs.id)[1].id
        with backend.uow(acme) as uow:
            assert uow.chats.conversation(other) is None and uow.chats.conversation(chat.id) is None
            assert uow.chats.with_chat(other) is None and uow.chats.with_chat(chat.id, for_update=True) is None
            second = uow.chats.messages(chat.id)[1]
            pair = uow.chats.with_chat(second.id, for_update=True)
            assert pair is not None and pair[0].id == chat.id and pair[1].id == second.id and pair[1].text == "m1"

    def test_chats_are_the_tenants_and_the_users_own(self, backend: Backend) -> None:
        acme, globex = backend.tenant("acme"), backend.tenant("globex")
        theirs = backend.chat(globex)
        mine = backend.chat(acme)
        with backend.uow(acme) as uow:
            assert uow.chats.get(theirs.id) is None and uow.chat_views.get(theirs.id, "u1") is None
            assert uow.chats.messages(theirs.id) == [] and uow.chat_views.messages(theirs.id, first=10, after=None) == []
            assert uow.chat_views.get(mine.id, "u2") is None
            with pytest.raises(PermissionError):
                uow.chats.add(Chat.start(tenant_id=globex, user_id="u1", session_id="s", first_message="x", now=T0))

    def test_session_and_listing_order(self, backend: Backend) -> None:
        acme = backend.tenant("acme")
        old = backend.chat(acme, at=T0)
        new = backend.chat(acme, at=T0 + timedelta(minutes=1))
        other_session = backend.chat(acme, session="s2", at=T0 + timedelta(minutes=2))
        with backend.uow(acme) as uow:
            assert uow.chats.session_active("u1", "s1").id == new.id
            assert {c.id for c in uow.chats.session_chats("u1", "s1", active_only=True)} == {old.id, new.id}
            chat = uow.chats.get(new.id)
            chat.archive(now=T0 + timedelta(minutes=3))
            uow.commit()
        with backend.uow(acme) as uow:
            assert uow.chats.session_active("u1", "s1").id == old.id
            active = uow.chat_views.find("u1", include_archived=False, first=10, after=None)
            assert [c.id for c in active] == [other_session.id, old.id]
            every = uow.chat_views.find("u1", include_archived=True, first=10, after=None)
            assert [c.id for c in every] == [new.id, other_session.id, old.id]
            rest = uow.chat_views.find("u1", include_archived=True, first=10, after=ChatCursor.of(every[0]))
            assert [c.id for c in rest] == [other_session.id, old.id]

    def test_a_position_is_taken_once_and_deleting_a_chat_removes_its_messages(self, backend: Backend) -> None:
        acme = backend.tenant("acme")
        chat = backend.chat(acme)
        with backend.uow(acme) as uow:
            loaded = uow.chats.get(chat.id)
            clash = ChatMessage.new(loaded, MessageRole.USER, now=T0, text="again")
            clash.position = 0
            uow.chats.add_message(clash)
            with pytest.raises(DuplicateEntry):
                uow.commit()
        with backend.uow(acme) as uow:
            uow.chats.delete(uow.chats.get(chat.id))
            uow.commit()
        with backend.uow(acme) as uow:
            assert uow.chats.get(chat.id) is None and uow.chats.messages(chat.id) == []

    def test_settings_are_one_per_tenant(self, backend: Backend) -> None:
        acme, globex = backend.tenant("acme"), backend.tenant("globex")
        with backend.uow(acme) as uow:
            uow.chat_settings.add(ChatProviderSettings(
                id="9b2f6a4e-0000-4000-8000-000000000001", tenant_id=acme, provider=Provider.DEEPSEEK, model="deepseek-v4-flash",
                api_key_sealed="sealed", key_hint="…1234", status=SettingsStatus.VALID, last_error=None, updated_at=T0))
            uow.commit()
        with backend.uow(globex) as uow:
            assert uow.chat_settings.get() is None
        with backend.uow(acme) as uow:
            found = uow.chat_settings.get()
            assert (found.provider, found.model, found.key_hint) == (Provider.DEEPSEEK, "deepseek-v4-flash", "…1234")


class TestFakeChatsStore(ChatsStoreContract):
    @pytest.fixture
    def backend(self) -> Backend:
        return Backend("fake", fake_uow_factory(FakeStore(), FakeClock(T0)))


class TestSqlAlchemyChatsStore(ChatsStoreContract):
    @pytest.fixture
    def backend(self, engine: Engine) -> Iterator[Backend]:
        sessions = sessionmaker(bind=engine, expire_on_commit=False)
        clock = FakeClock(T0)
        yield Backend(engine.dialect.name, lambda tenant_id: SqlAlchemyUnitOfWork(tenant_id, session_factory=sessions, clock=clock))
