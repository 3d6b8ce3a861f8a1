"""Chats on SQLAlchemy: the tenant-bound repositories and reader."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from adapters.db.chats.tables import chat_messages, chats
from application.chats.views import ChatCursor, ChatMessageView, ChatView, chat_view, message_view
from domain.chats.model import Chat, ChatMessage, ChatProviderSettings, ChatStatus, MessageRole
from domain.shared.model import Aggregate


@cache
def _conversation() -> Any:
    """A message's chat and its messages up to that one. The message's chat and position are
    scalar subqueries by primary key alone, so the messages are read through the (chat_id,
    position) index whatever the planner's statistics say (as a join, a young table without
    statistics got a nested loop over all of the tenant's messages); the rows read are held to the
    tenant, so another tenant's message id finds nothing. Built once (on first use, once the
    classes are mapped), its values bound on each run."""
    m = chat_messages.c
    mine = chat_messages.alias("mine")
    message_id, tenant_id = bindparam("message_id"), bindparam("tenant_id")
    chat_id = select(mine.c.chat_id).where(mine.c.id == message_id).scalar_subquery()
    position = select(mine.c.position).where(mine.c.id == message_id).scalar_subquery()
    return (
        select(Chat, ChatMessage)
        .join(chats, and_(chats.c.id == m.chat_id, chats.c.tenant_id == tenant_id))
        .where(m.chat_id == chat_id, m.position <= position, m.tenant_id == tenant_id)
        .order_by(m.position)
        .execution_options(populate_existing=True)
    )


@cache
def _with_chat(locked: bool) -> Any:
    """A message and its chat; the message by its primary key alone (an index the planner cannot
    pass over), held to the tenant through its chat's row, which ``locked`` locks."""
    m = chat_messages.c
    statement = (
        select(Chat, ChatMessage)
        .join(chats, and_(chats.c.id == m.chat_id, chats.c.tenant_id == bindparam("tenant_id")))
        .where(m.id == bindparam("message_id"))
        .execution_options(populate_existing=True)
    )
    return statement.with_for_update(of=chats) if locked else statement


@cache
def _tokens_since() -> Any:
    m = chat_messages.c
    return select(func.coalesce(func.sum(m.tokens_in + m.tokens_out), 0)).where(
        m.tenant_id == bindparam("tenant_id"),
        m.created_at >= bindparam("since", type_=m.created_at.type),
        m.role == MessageRole.ASSISTANT,
    )


class SqlAlchemyChatRepository:
    def __init__(self, session: Session, tenant_id: str, seen: list[Aggregate]) -> None:
        self._session = session
        self._tenant_id = tenant_id
        self._seen = seen

    def _own(self, item: Any) -> Any:
        if item.tenant_id != self._tenant_id:
            raise PermissionError("a chat of another tenant cannot be written here")
        if isinstance(item, Aggregate):
            self._seen.append(item)
        return item

    def _chats(self, statement: Any) -> list[Chat]:
        found = list(self._session.scalars(statement.execution_options(populate_existing=True)))
        self._seen.extend(found)
        return found

    def get(self, chat_id: str, *, for_update: bool = False) -> Chat | None:
        statement = select(Chat).where(chats.c.id == chat_id, chats.c.tenant_id == self._tenant_id)
        if for_update and self._session.get_bind().dialect.name != "sqlite":
            statement = statement.with_for_update()
        found = self._chats(statement)
        return found[0] if found else None

    def add(self, chat: Chat) -> None:
        self._session.add(self._own(chat))
        self._session.flush()

    def delete(self, chat: Chat) -> None:
        self._own(chat)
        self._session.execute(chat_messages.delete().where(chat_messages.c.chat_id == chat.id, chat_messages.c.tenant_id == self._tenant_id))
        self._session.delete(chat)

    def session_active(self, user_id: str, session_id: str) -> Chat | None:
        c = chats.c
        found = self._chats(
            select(Chat).where(c.tenant_id == self._tenant_id, c.user_id == user_id, c.session_id == session_id, c.status == ChatStatus.ACTIVE)
            .order_by(c.updated_at.desc(), c.id.desc()).limit(1)
        )
        return found[0] if found else None

    def session_chats(self, user_id: str, session_id: str, *, active_only: bool) -> list[Chat]:
        c = chats.c
        where = [c.tenant_id == self._tenant_id, c.user_id == user_id, c.session_id == session_id]
        if active_only:
            where.append(c.status == ChatStatus.ACTIVE)
        return self._chats(select(Chat).where(*where))

    def add_message(self, message: ChatMessage) -> None:
        self._session.add(self._own(message))

    def message(self, message_id: str) -> ChatMessage | None:
        return self._session.scalars(
            select(ChatMessage).where(chat_messages.c.id == message_id, chat_messages.c.tenant_id == self._tenant_id)
            .execution_options(populate_existing=True)
        ).one_or_none()

    def messages(self, chat_id: str) -> list[ChatMessage]:
        m = chat_messages.c
        return list(self._session.scalars(
            select(ChatMessage).where(m.chat_id == chat_id, m.tenant_id == self._tenant_id).order_by(m.position)
        ))

    def conversation(self, message_id: str) -> tuple[Chat, list[ChatMessage]] | None:
        """One query: the chat of the message, and its messages up to that one, by position (see
        ``_conversation``)."""
        rows = self._session.execute(
            _conversation(), {"message_id": message_id, "tenant_id": self._tenant_id}
        ).all()
        if not rows:
            return None
        chat = rows[0][0]
        self._seen.append(chat)
        return chat, [row[1] for row in rows]

    def with_chat(self, message_id: str, *, for_update: bool = False) -> tuple[Chat, ChatMessage] | None:
        locked = for_update and self._session.get_bind().dialect.name != "sqlite"
        statement = _with_chat(locked)
        row = self._session.execute(statement, {"message_id": message_id, "tenant_id": self._tenant_id}).one_or_none()
        if row is None:
            return None
        self._seen.append(row[0])
        return row[0], row[1]

    def tokens_since(self, since: datetime) -> int:
        total = self._session.execute(_tokens_since(), {"tenant_id": self._tenant_id, "since": since}).scalar_one()
        return int(total)


class SqlAlchemyChatReader:
    def __init__(self, session: Session, tenant_id: str) -> None:
        self._session = session
        self._tenant_id = tenant_id

    def get(self, chat_id: str, user_id: str) -> ChatView | None:
        chat = self._session.scalars(
            select(Chat).where(chats.c.id == chat_id, chats.c.tenant_id == self._tenant_id, chats.c.user_id == user_id)
        ).one_or_none()
        return None if chat is None else chat_view(chat)

    def find(self, user_id: str, *, include_archived: bool, first: int, after: ChatCursor | None) -> list[ChatView]:
        c = chats.c
        where = [c.tenant_id == self._tenant_id, c.user_id == user_id]
        if not include_archived:
            where.append(c.status == ChatStatus.ACTIVE)
        if after is not None:
            where.append(or_(c.updated_at < after.updated_at, and_(c.updated_at == after.updated_at, c.id < after.chat_id)))
        rows = self._session.scalars(select(Chat).where(*where).order_by(c.updated_at.desc(), c.id.desc()).limit(first))
        return [chat_view(chat) for chat in rows]

    def messages(self, chat_id: str, *, first: int, after: int | None) -> list[ChatMessageView]:
        m = chat_messages.c
        where = [m.chat_id == chat_id, m.tenant_id == self._tenant_id]
        if after is not None:
            where.append(m.position > after)
        rows = self._session.scalars(select(ChatMessage).where(*where).order_by(m.position).limit(first))
        return [message_view(message) for message in rows]

    def message(self, message_id: str) -> ChatMessageView | None:
        found = self._session.scalars(
            select(ChatMessage).where(chat_messages.c.id == message_id, chat_messages.c.tenant_id == self._tenant_id)
        ).one_or_none()
        return None if found is None else message_view(found)


class SqlAlchemyChatSettings:
    def __init__(self, session: Session, tenant_id: str, seen: list[Aggregate]) -> None:
        self._session = session
        self._tenant_id = tenant_id
        self._seen = seen

    def get(self) -> ChatProviderSettings | None:
        from adapters.db.chats.tables import chat_provider_settings

        found = self._session.scalars(
            select(ChatProviderSettings).where(chat_provider_settings.c.tenant_id == self._tenant_id)
            .execution_options(populate_existing=True)
        ).one_or_none()
        if found is not None:
            self._seen.append(found)
        return found

    def add(self, settings: ChatProviderSettings) -> None:
        if settings.tenant_id != self._tenant_id:
            raise PermissionError("settings of another tenant cannot be written here")
        self._seen.append(settings)
        self._session.add(settings)
