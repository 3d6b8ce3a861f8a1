"""Read models of the AI assistant."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.chats.model import Chat, ChatMessage, ChatProviderSettings
from domain.shared.errors import InvalidInput
from domain.shared.model import parse_id


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatView:
    id: str
    user_id: str
    session_id: str
    title: str
    provider: str | None
    model: str | None
    status: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatMessageView:
    id: str
    chat_id: str
    position: int
    role: str
    text: str
    attachments: tuple[str, ...]
    tool_calls: tuple[dict[str, Any], ...]
    tool_results: tuple[dict[str, Any], ...]
    status: str
    provider: str | None
    model: str | None
    tokens_in: int
    tokens_out: int
    latency_ms: int | None
    error_code: str | None
    error_message: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatProviderSettingsView:
    provider: str
    model: str
    own_key: bool
    "the tenant's own key (else the instance's)"
    key_hint: str | None
    status: str
    last_error: str | None
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class SentChatMessage:
    chat: ChatView
    message: ChatMessageView
    "the user's message: PENDING until the worker has answered it (then COMPLETE, or FAILED with the reason)"


def chat_view(chat: Chat) -> ChatView:
    return ChatView(
        id=chat.id, user_id=chat.user_id, session_id=chat.session_id, title=chat.title, provider=chat.provider,
        model=chat.model, status=str(chat.status), created_at=chat.created_at, updated_at=chat.updated_at,
    )


def message_view(message: ChatMessage) -> ChatMessageView:
    return ChatMessageView(
        id=message.id, chat_id=message.chat_id, position=message.position, role=str(message.role),
        text=message.text, attachments=tuple(message.attachments or ()), tool_calls=tuple(message.tool_calls or ()),
        tool_results=tuple(message.tool_results or ()), status=str(message.status), provider=message.provider,
        model=message.model, tokens_in=message.tokens_in, tokens_out=message.tokens_out,
        latency_ms=message.latency_ms, error_code=message.error_code, error_message=message.error_message,
        created_at=message.created_at,
    )


def settings_view(settings: ChatProviderSettings) -> ChatProviderSettingsView:
    return ChatProviderSettingsView(
        provider=str(settings.provider), model=settings.model, own_key=settings.api_key_sealed is not None,
        key_hint=settings.key_hint, status=str(settings.status), last_error=settings.last_error,
        updated_at=settings.updated_at,
    )


@dataclass(frozen=True, slots=True)
class ChatCursor:
    """A position in the list of chats, most recently updated first."""

    updated_at: datetime
    chat_id: str

    @classmethod
    def of(cls, view: ChatView) -> ChatCursor:
        return cls(view.updated_at, view.id)

    def encode(self) -> str:
        return base64.urlsafe_b64encode(f"chat|{self.updated_at.isoformat()}|{self.chat_id}".encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, *, field: str = "after") -> ChatCursor:
        try:
            kind, moment, chat_id = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode().split("|")
            updated_at = datetime.fromisoformat(moment)
            if kind != "chat" or updated_at.tzinfo is None:
                raise ValueError("not a chat cursor")
            return cls(updated_at, parse_id(chat_id, field=field))
        except (ValueError, UnicodeDecodeError, binascii.Error, InvalidInput):
            raise InvalidInput(f"{field} is not a cursor this API returned", field=field) from None


def encode_position(position: int) -> str:
    return base64.urlsafe_b64encode(f"msg|{position}".encode()).decode().rstrip("=")


def decode_position(text: str, *, field: str = "after") -> int:
    try:
        kind, number = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode().split("|")
        if kind != "msg" or not number.isascii() or not number.isdigit():
            raise ValueError("not a message cursor")
        return int(number)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise InvalidInput(f"{field} is not a cursor this API returned", field=field) from None
