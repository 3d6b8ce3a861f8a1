"""Chats: send a message (the turn itself runs in the worker), rename, delete, archive, read."""

from __future__ import annotations

from datetime import datetime, time, timezone

from application.chats.commands import (
    TURN_JOB,
    ArchiveSessionChats,
    ChatPolicy,
    DeleteChat,
    FindChats,
    GetChat,
    GetChatMessage,
    GetChatMessages,
    GetCurrentSessionActiveChat,
    RenameChat,
    SendChatMessage,
    session_of,
)
from application.chats.ports import ChatsUnitOfWork
from application.chats.settings import ProviderChoice
from application.chats.views import (
    ChatCursor,
    ChatMessageView,
    ChatView,
    SentChatMessage,
    chat_view,
    decode_position,
    encode_position,
    message_view,
)
from application.shared.actors import tenant_actor
from application.shared.messages import Page, page_size
from application.shared.ports import Clock
from domain.chats.attachments import check_file_for_chat
from domain.chats.errors import TokenBudgetSpent
from domain.chats.model import MAX_ATTACHMENTS, Chat, ChatMessage, MessageRole, MessageStatus, parse_message
from domain.shared.errors import Conflict, InvalidInput, NotFound
from domain.shared.model import parse_id
from domain.tenancy.model import Actor


def start_of_day(now: datetime) -> datetime:
    return datetime.combine(now.astimezone(timezone.utc).date(), time(), tzinfo=timezone.utc)


def check_budget(uow: ChatsUnitOfWork, policy: ChatPolicy, now: datetime) -> None:
    spent = uow.chats.tokens_since(start_of_day(now))
    if spent >= policy.daily_tokens:
        raise TokenBudgetSpent(
            f"today's AI budget of {policy.daily_tokens} tokens is spent ({spent} used); it renews at 00:00 UTC"
        )


def own_chat(uow: ChatsUnitOfWork, actor: Actor, chat_id: str, *, for_update: bool = False) -> Chat:
    chat = uow.chats.get(parse_id(chat_id, field="chatId"), for_update=for_update)
    if chat is None or chat.user_id != actor.user_id:
        raise NotFound(f"chat {chat_id} not found", field="chatId")
    return chat


class SendChatMessageHandler:
    def __init__(self, clock: Clock, policy: ChatPolicy, choice: ProviderChoice) -> None:
        self._clock = clock
        self._policy = policy
        self._choice = choice

    def __call__(self, cmd: SendChatMessage, uow: ChatsUnitOfWork) -> SentChatMessage:
        actor = tenant_actor(cmd.actor)
        text = parse_message(cmd.message)
        if len(cmd.attachment_ids) > MAX_ATTACHMENTS:
            raise InvalidInput(f"at most {MAX_ATTACHMENTS} attachments per message", field="attachmentIds")
        file_ids = list(dict.fromkeys(parse_id(i, field="attachmentIds") for i in cmd.attachment_ids))
        now = self._clock.now()
        session = session_of(actor)
        with uow:
            chat = None
            if cmd.chat_id is not None:
                chat = own_chat(uow, actor, cmd.chat_id, for_update=True)
                chat.ensure_open()
            provider = self._choice.provider_of(uow)
            check_budget(uow, self._policy, now)
            for file_id in file_ids:
                file = uow.file_views.get(file_id)
                if file is None:
                    raise NotFound(f"file {file_id} not found", field="attachmentIds")
                check_file_for_chat(name=file.name, mime=file.mime, size=file.size, provider=provider)
            if chat is None:
                chat = uow.chats.session_active(actor.user_id, session)
                if chat is None:
                    chat = Chat.start(tenant_id=actor.tenant_id, user_id=actor.user_id, session_id=session, first_message=text, now=now)
                    uow.chats.add(chat)
                else:
                    chat = own_chat(uow, actor, chat.id, for_update=True)
            if chat.pending_message_id is not None:
                raise Conflict("the assistant is still answering the previous message in this chat", field="chatId")
            message = ChatMessage.new(chat, MessageRole.USER, now=now, text=text, attachments=file_ids, status=MessageStatus.PENDING)
            uow.chats.add_message(message)
            chat.pending_message_id = message.id
            uow.jobs.enqueue(TURN_JOB, {"message_id": message.id}, idempotency_key=f"chat-turn:{message.id}", max_attempts=2)
            uow.commit()
            return SentChatMessage(chat=chat_view(chat), message=message_view(message))


class RenameChatHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: RenameChat, uow: ChatsUnitOfWork) -> ChatView:
        actor = tenant_actor(cmd.actor)
        with uow:
            chat = own_chat(uow, actor, cmd.chat_id, for_update=True)
            chat.rename(cmd.title, now=self._clock.now())
            uow.commit()
            return chat_view(chat)


class DeleteChatHandler:
    def __call__(self, cmd: DeleteChat, uow: ChatsUnitOfWork) -> str:
        actor = tenant_actor(cmd.actor)
        with uow:
            chat = own_chat(uow, actor, cmd.chat_id, for_update=True)
            uow.chats.delete(chat)
            uow.commit()
            return chat.id


class ArchiveSessionChatsHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: ArchiveSessionChats, uow: ChatsUnitOfWork) -> int:
        actor = tenant_actor(cmd.actor)
        now = self._clock.now()
        with uow:
            chats = uow.chats.session_chats(actor.user_id, session_of(actor), active_only=True)
            for chat in chats:
                chat.archive(now=now)
            uow.commit()
            return len(chats)


class FindChatsHandler:
    def __init__(self, policy: ChatPolicy) -> None:
        self._policy = policy

    def __call__(self, query: FindChats, uow: ChatsUnitOfWork) -> Page[ChatView]:
        actor = tenant_actor(query.actor)
        first = page_size(query.first, default=self._policy.page_size, maximum=self._policy.max_page_size)
        after = ChatCursor.decode(query.after) if query.after else None
        with uow:
            rows = uow.chat_views.find(actor.user_id, include_archived=query.include_archived, first=first + 1, after=after)
        return Page.of(rows, first, lambda view: ChatCursor.of(view).encode())


class GetChatHandler:
    def __call__(self, query: GetChat, uow: ChatsUnitOfWork) -> ChatView:
        actor = tenant_actor(query.actor)
        with uow:
            view = uow.chat_views.get(parse_id(query.chat_id, field="id"), actor.user_id)
        if view is None:
            raise NotFound(f"chat {query.chat_id} not found", field="id")
        return view


class GetChatMessagesHandler:
    def __init__(self, policy: ChatPolicy) -> None:
        self._policy = policy

    def __call__(self, query: GetChatMessages, uow: ChatsUnitOfWork) -> Page[ChatMessageView]:
        actor = tenant_actor(query.actor)
        first = page_size(query.first, default=self._policy.max_page_size, maximum=self._policy.max_page_size)
        after = decode_position(query.after) if query.after else None
        with uow:
            if uow.chat_views.get(parse_id(query.chat_id, field="id"), actor.user_id) is None:
                raise NotFound(f"chat {query.chat_id} not found", field="id")
            rows = uow.chat_views.messages(query.chat_id, first=first + 1, after=after)
        return Page.of(rows, first, lambda view: encode_position(view.position))


class GetChatMessageHandler:
    def __call__(self, query: GetChatMessage, uow: ChatsUnitOfWork) -> ChatMessageView:
        actor = tenant_actor(query.actor)
        with uow:
            view = uow.chat_views.message(parse_id(query.message_id, field="messageId"))
            if view is None or uow.chat_views.get(view.chat_id, actor.user_id) is None:
                raise NotFound(f"message {query.message_id} not found", field="messageId")
            return view


class GetCurrentSessionActiveChatHandler:
    def __call__(self, query: GetCurrentSessionActiveChat, uow: ChatsUnitOfWork) -> ChatView | None:
        actor = tenant_actor(query.actor)
        with uow:
            chat = uow.chats.session_active(actor.user_id, session_of(actor))
            return None if chat is None else chat_view(chat)
