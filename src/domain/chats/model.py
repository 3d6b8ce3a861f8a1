"""Chats with the AI assistant: a chat of one user in one login session, its messages, and the
tenant's provider settings (the API key sealed)."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.chats.errors import ChatArchived
from domain.shared.errors import InvalidInput
from domain.shared.model import Aggregate, new_id

MAX_TITLE = 120
MAX_MESSAGE_CHARS = 8000
MAX_ATTACHMENTS = 5
MAX_MODEL_NAME = 100


class ChatStatus(StrEnum):
    ACTIVE = "ACTIVE"
    ARCHIVED = "ARCHIVED"


class MessageRole(StrEnum):
    USER = "USER"
    ASSISTANT = "ASSISTANT"
    TOOL = "TOOL"


class MessageStatus(StrEnum):
    PENDING = "PENDING"
    "an assistant answer the worker has not finished"
    COMPLETE = "COMPLETE"
    FAILED = "FAILED"


class Provider(StrEnum):
    OPENAI = "OPENAI"
    ANTHROPIC = "ANTHROPIC"
    DEEPSEEK = "DEEPSEEK"

    @classmethod
    def parse(cls, value: object, *, field: str = "provider") -> Provider:
        try:
            return cls(str(value).strip().upper())
        except ValueError:
            raise InvalidInput(f"{field} must be one of {', '.join(cls)}, not {str(value)[:32]!r}", field=field) from None


def _clean(text: str) -> str:
    """No control characters (line breaks and tabs kept)."""
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")


def parse_message(value: object) -> str:
    text = _clean(value).strip() if isinstance(value, str) else ""
    if not text:
        raise InvalidInput("message must not be empty", field="message")
    if len(text) > MAX_MESSAGE_CHARS:
        raise InvalidInput(f"message must be at most {MAX_MESSAGE_CHARS} characters, not {len(text)}", field="message")
    return text


def parse_title(value: object) -> str:
    text = " ".join(_clean(value).split()) if isinstance(value, str) else ""
    if not text:
        raise InvalidInput("title must not be empty", field="title")
    if len(text) > MAX_TITLE:
        raise InvalidInput(f"title must be at most {MAX_TITLE} characters, not {len(text)}", field="title")
    return text


def parse_model_name(value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > MAX_MODEL_NAME or not text.isascii() or any(ch.isspace() or not ch.isprintable() for ch in text):
        raise InvalidInput(f"model must be a model name of 1-{MAX_MODEL_NAME} printable ASCII characters", field="model")
    return text


def title_from(message: str) -> str:
    """A new chat's title: the first line of its first message, cut on a word."""
    line = " ".join(message.split())
    if len(line) <= 60:
        return line
    return line[:60].rsplit(" ", 1)[0].rstrip(" ,.;:") + "…"


class Chat(Aggregate):
    def __init__(
        self,
        *,
        id: str,
        tenant_id: str,
        user_id: str,
        session_id: str,
        title: str,
        provider: str | None,
        model: str | None,
        status: ChatStatus,
        created_at: datetime,
        updated_at: datetime,
        next_position: int = 0,
        pending_message_id: str | None = None,
    ) -> None:
        self.id = id
        self.tenant_id = tenant_id
        self.user_id = user_id
        self.session_id = session_id
        self.title = title
        self.provider = provider
        self.model = model
        self.status = status
        self.created_at = created_at
        self.updated_at = updated_at
        self.next_position = next_position
        self.pending_message_id = pending_message_id
        "the user message the worker is answering (one at a time per chat)"

    @classmethod
    def start(cls, *, tenant_id: str, user_id: str, session_id: str, first_message: str, now: datetime) -> Chat:
        return cls(
            id=new_id(), tenant_id=tenant_id, user_id=user_id, session_id=session_id,
            title=title_from(first_message), provider=None, model=None, status=ChatStatus.ACTIVE,
            created_at=now, updated_at=now,
        )

    def ensure_open(self) -> None:
        if self.status is ChatStatus.ARCHIVED or self.status == ChatStatus.ARCHIVED.value:
            raise ChatArchived("this chat is archived: send the message without chatId to start a new one", field="chatId")

    def rename(self, title: object, *, now: datetime) -> None:
        self.title = parse_title(title)
        self.updated_at = now

    def archive(self, *, now: datetime) -> None:
        self.status = ChatStatus.ARCHIVED
        self.updated_at = now

    def add(self, message: ChatMessage, *, now: datetime) -> ChatMessage:
        """Give ``message`` the next position in this chat."""
        message.position = self.next_position
        self.next_position += 1
        self.updated_at = now
        return message


class ChatMessage:
    def __init__(
        self,
        *,
        id: str,
        tenant_id: str,
        chat_id: str,
        position: int,
        role: MessageRole,
        text: str,
        attachments: list[str],
        tool_calls: list[dict[str, Any]],
        tool_results: list[dict[str, Any]],
        status: MessageStatus,
        provider: str | None,
        model: str | None,
        tokens_in: int,
        tokens_out: int,
        latency_ms: int | None,
        error_code: str | None,
        error_message: str | None,
        created_at: datetime,
        reasoning: str | None = None,
    ) -> None:
        self.id = id
        self.tenant_id = tenant_id
        self.chat_id = chat_id
        self.position = position
        self.role = role
        self.text = text
        self.attachments = attachments
        self.tool_calls = tool_calls
        self.tool_results = tool_results
        self.status = status
        self.provider = provider
        self.model = model
        self.tokens_in = tokens_in
        self.tokens_out = tokens_out
        self.latency_ms = latency_ms
        self.error_code = error_code
        self.error_message = error_message
        self.created_at = created_at
        self.reasoning = reasoning

    @classmethod
    def new(cls, chat: Chat, role: MessageRole, *, now: datetime, text: str = "", status: MessageStatus = MessageStatus.COMPLETE,
            attachments: list[str] | None = None, tool_calls: list[dict[str, Any]] | None = None,
            tool_results: list[dict[str, Any]] | None = None) -> ChatMessage:
        message = cls(
            id=new_id(), tenant_id=chat.tenant_id, chat_id=chat.id, position=0, role=role, text=text,
            attachments=list(attachments or []), tool_calls=list(tool_calls or []), tool_results=list(tool_results or []),
            status=status, provider=None, model=None, tokens_in=0, tokens_out=0, latency_ms=None,
            error_code=None, error_message=None, created_at=now,
        )
        return chat.add(message, now=now)

    def fail(self, code: str, message: str) -> None:
        self.status = MessageStatus.FAILED
        self.error_code = code
        self.error_message = message[:500]


class SettingsStatus(StrEnum):
    VALID = "VALID"
    INVALID = "INVALID"
    "the provider refused the key (401/403): configure it again"


class ChatProviderSettings(Aggregate):
    """One per tenant: which provider and model its assistant uses, and its own API key (sealed),
    or none to use the instance's key for that provider."""

    def __init__(
        self,
        *,
        id: str,
        tenant_id: str,
        provider: Provider,
        model: str,
        api_key_sealed: str | None,
        key_hint: str | None,
        status: SettingsStatus,
        last_error: str | None,
        updated_at: datetime,
    ) -> None:
        self.id = id
        self.tenant_id = tenant_id
        self.provider = provider
        self.model = model
        self.api_key_sealed = api_key_sealed
        self.key_hint = key_hint
        self.status = status
        self.last_error = last_error
        self.updated_at = updated_at

    def mark_invalid(self, reason: str, *, now: datetime) -> None:
        self.status = SettingsStatus.INVALID
        self.last_error = reason[:500]
        self.updated_at = now


def key_context(tenant_id: str, settings_id: str) -> str:
    """What a sealed API key is bound to: copied to another row or tenant, it does not open."""
    return f"chats:{tenant_id}:{settings_id}:api_key"


def key_hint(key: str) -> str:
    """What the settings show of a key: its last four characters."""
    return "…" + key[-4:]
