"""In-memory chats with the semantics of ``adapters.db.chats`` (checked by
``tests/integration/test_chats_store_contract.py``): chats, their messages, each tenant's
provider settings; and a scripted in-process ``ChatModel`` for the unit tests."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from application.chats.ports import ModelError, ModelReply, ModelRequest, OnText, ProviderAccess, ToolCall
from application.chats.views import ChatCursor, ChatMessageView, ChatView, chat_view, message_view
from domain.chats.model import Chat, ChatMessage, ChatProviderSettings, ChatStatus, MessageRole
from domain.shared.model import Aggregate
from tests.fakes.state import FakeDomain, FakeRepository, States, snapshot, unique

if TYPE_CHECKING:
    from tests.fakes.uow import FakeUnitOfWork


def _copy(item: Any) -> Any:
    """A fresh object of the same class, built through ``__init__``."""
    fields = {k: copy.deepcopy(v) for k, v in vars(item).items() if not k.startswith("_")}
    return type(item)(**fields)


@dataclass
class ChatsState:
    chats: dict[str, Chat] = field(default_factory=dict)
    chat_messages: dict[str, ChatMessage] = field(default_factory=dict)
    chat_settings: dict[str, ChatProviderSettings] = field(default_factory=dict)
    "by tenant id"

    def checkout(self) -> ChatsState:
        work = ChatsState(
            chats={k: _copy(v) for k, v in self.chats.items()},
            chat_messages={k: _copy(v) for k, v in self.chat_messages.items()},
            chat_settings={k: _copy(v) for k, v in self.chat_settings.items()},
        )
        work._rebase()
        return work

    def _rebase(self) -> None:
        self._base = {name: {k: snapshot(v) for k, v in getattr(self, name).items()} for name in ("chats", "chat_messages", "chat_settings")}

    def _changes(self, name: str) -> tuple[dict[str, Any], list[str]]:
        items, base = getattr(self, name), self._base[name]
        return {k: v for k, v in items.items() if base.get(k) != snapshot(v)}, [k for k in base if k not in items]

    def check(self, work: ChatsState, store: States, workspace: States) -> None:
        """chat_messages(chat_id, position) is unique; a message's chat and a chat's tenant exist."""
        messages = dict(self.chat_messages)
        changed, removed = work._changes("chat_messages")
        messages.update(changed)
        for key in removed:
            messages.pop(key, None)
        unique("chat_messages(chat_id, position)", ((m.chat_id, m.position) for m in messages.values()))
        chats = {**self.chats, **work.chats}
        for message in changed.values():
            if message.chat_id not in chats:
                raise LookupError(f"chat_messages.chat_id: no chat {message.chat_id} (foreign key)")
        tenants = {**store.tenants, **workspace.tenants}
        for chat in work._changes("chats")[0].values():
            if chat.tenant_id not in tenants:
                raise LookupError(f"chats.tenant_id: no tenant {chat.tenant_id} (foreign key)")

    def apply(self, work: ChatsState) -> None:
        for name in ("chats", "chat_messages", "chat_settings"):
            changed, removed = work._changes(name)
            target = getattr(self, name)
            for key, value in changed.items():
                target[key] = _copy(value)
            for key in removed:
                target.pop(key, None)
        for chat_id in [k for k in self.chat_messages if self.chat_messages[k].chat_id not in self.chats]:
            self.chat_messages.pop(chat_id)  # ON DELETE CASCADE
        work.chat_messages = {k: v for k, v in work.chat_messages.items() if v.chat_id in work.chats}
        work._rebase()

    def aggregates(self) -> Iterable[Aggregate]:
        yield from self.chats.values()
        yield from self.chat_settings.values()


class _Bound:
    def __init__(self, uow: FakeUnitOfWork, tenant_id: str) -> None:
        self._uow = uow
        self._tenant_id = tenant_id

    @property
    def _state(self) -> ChatsState:
        return self._uow.workspace().state("chats")  # type: ignore[return-value]

    def _chats(self) -> list[Chat]:
        return [c for c in self._state.chats.values() if c.tenant_id == self._tenant_id]

    def _messages(self, chat_id: str) -> list[ChatMessage]:
        found = [m for m in self._state.chat_messages.values() if m.chat_id == chat_id and m.tenant_id == self._tenant_id]
        return sorted(found, key=lambda m: m.position)


class FakeChatRepository(_Bound):
    def _own(self, item: Any) -> Any:
        if item.tenant_id != self._tenant_id:
            raise PermissionError("a chat of another tenant cannot be written here")
        return item

    def get(self, chat_id: str, *, for_update: bool = False) -> Chat | None:
        return next((c for c in self._chats() if c.id == chat_id), None)

    def add(self, chat: Chat) -> None:
        self._state.chats[chat.id] = self._own(chat)

    def delete(self, chat: Chat) -> None:
        self._own(chat)
        self._state.chats.pop(chat.id, None)
        for message in self._messages(chat.id):
            self._state.chat_messages.pop(message.id, None)

    def _session(self, user_id: str, session_id: str) -> list[Chat]:
        return [c for c in self._chats() if c.user_id == user_id and c.session_id == session_id]

    def session_active(self, user_id: str, session_id: str) -> Chat | None:
        active = [c for c in self._session(user_id, session_id) if c.status == ChatStatus.ACTIVE]
        return max(active, key=lambda c: (c.updated_at, c.id), default=None)

    def session_chats(self, user_id: str, session_id: str, *, active_only: bool) -> list[Chat]:
        return [c for c in self._session(user_id, session_id) if not active_only or c.status == ChatStatus.ACTIVE]

    def add_message(self, message: ChatMessage) -> None:
        self._state.chat_messages[message.id] = self._own(message)

    def message(self, message_id: str) -> ChatMessage | None:
        found = self._state.chat_messages.get(message_id)
        return found if found is not None and found.tenant_id == self._tenant_id else None

    def messages(self, chat_id: str) -> list[ChatMessage]:
        return self._messages(chat_id)

    def conversation(self, message_id: str) -> tuple[Chat, list[ChatMessage]] | None:
        message = self.message(message_id)
        chat = None if message is None else self.get(message.chat_id)
        if message is None or chat is None:
            return None
        return chat, [m for m in self._messages(chat.id) if m.position <= message.position]

    def with_chat(self, message_id: str, *, for_update: bool = False) -> tuple[Chat, ChatMessage] | None:
        message = self.message(message_id)
        chat = None if message is None else self.get(message.chat_id)
        return None if message is None or chat is None else (chat, message)

    def tokens_since(self, since: datetime) -> int:
        return sum(
            m.tokens_in + m.tokens_out for m in self._state.chat_messages.values()
            if m.tenant_id == self._tenant_id and m.created_at >= since and m.role == MessageRole.ASSISTANT
        )


class FakeChatReader(_Bound):
    def get(self, chat_id: str, user_id: str) -> ChatView | None:
        found = next((c for c in self._chats() if c.id == chat_id and c.user_id == user_id), None)
        return None if found is None else chat_view(found)

    def find(self, user_id: str, *, include_archived: bool, first: int, after: ChatCursor | None) -> list[ChatView]:
        rows = [c for c in self._chats() if c.user_id == user_id and (include_archived or c.status == ChatStatus.ACTIVE)]
        rows.sort(key=lambda c: (c.updated_at, c.id), reverse=True)
        if after is not None:
            rows = [c for c in rows if (c.updated_at, c.id) < (after.updated_at, after.chat_id)]
        return [chat_view(c) for c in rows[:first]]

    def messages(self, chat_id: str, *, first: int, after: int | None) -> list[ChatMessageView]:
        rows = [m for m in self._messages(chat_id) if after is None or m.position > after]
        return [message_view(m) for m in rows[:first]]

    def message(self, message_id: str) -> ChatMessageView | None:
        found = self._state.chat_messages.get(message_id)
        return None if found is None or found.tenant_id != self._tenant_id else message_view(found)


class FakeChatSettings(_Bound):
    def get(self) -> ChatProviderSettings | None:
        return self._state.chat_settings.get(self._tenant_id)

    def add(self, settings: ChatProviderSettings) -> None:
        if settings.tenant_id != self._tenant_id:
            raise PermissionError("settings of another tenant cannot be written here")
        self._state.chat_settings[self._tenant_id] = settings


FAKE_DOMAIN = FakeDomain(
    name="chats",
    state=ChatsState,
    exposed=False,
    repositories={
        "chats": FakeRepository(lambda uow: FakeChatRepository(uow, uow.tenant)),
        "chat_views": FakeRepository(lambda uow: FakeChatReader(uow, uow.tenant)),
        "chat_settings": FakeRepository(lambda uow: FakeChatSettings(uow, uow.tenant)),
    },
)


# --- the model -------------------------------------------------------------------------------------


Scripted = Callable[[ModelRequest], ModelReply | ModelError]


@dataclass
class FakeChatModel:
    """Answers from ``script`` (a reply, or a ``ModelError`` to raise); relays its text in two pieces."""

    script: Scripted
    name: str = "OPENAI"
    takes_images: bool = True
    requests: list[ModelRequest] = field(default_factory=list)

    def complete(self, request: ModelRequest, on_text: OnText | None = None) -> ModelReply:
        self.requests.append(request)
        reply = self.script(request)
        if isinstance(reply, ModelError):
            raise reply
        if on_text is not None and reply.text:
            half = len(reply.text) // 2
            on_text(reply.text[:half])
            on_text(reply.text[half:])
        return reply


@dataclass
class FakeChatModels:
    model: FakeChatModel
    keys: dict[str, str] = field(default_factory=dict)
    "the instance's keys, by provider"
    connected: list[ProviderAccess] = field(default_factory=list)

    def connect(self, access: ProviderAccess) -> FakeChatModel:
        self.connected.append(access)
        self.model.name = str(access.provider)
        return self.model

    def instance_access(self, provider: str) -> ProviderAccess | None:
        key = self.keys.get(str(provider))
        return None if key is None else ProviderAccess(provider=str(provider), api_key=key)

    def base_url(self, provider: str) -> str | None:
        return None


def reply(text: str = "", *calls: tuple[str, str]) -> ModelReply:
    tool_calls = tuple(ToolCall(f"call_{n}", name, arguments) for n, (name, arguments) in enumerate(calls))
    return ModelReply(text=text, tool_calls=tool_calls, stop="tool_calls" if calls else "end", tokens_in=10, tokens_out=3)
