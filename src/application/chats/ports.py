"""Ports of the AI assistant: the chat model (one port, three providers behind it), the relay of a
turn's progress to its stream, and the repositories and readers of chats."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from application.chats.views import ChatCursor, ChatMessageView, ChatView
from application.files.ports import FilesUnitOfWork
from application.jobs.ports import JobsUnitOfWork
from domain.chats.model import Chat, ChatMessage, ChatProviderSettings

# --- the model --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    arguments: str
    "the raw JSON text the model wrote (validated before any query runs)"


@dataclass(frozen=True, slots=True)
class ImagePart:
    """An image, or a PDF sent as the file itself (a scan, to providers that read PDFs)."""

    mime: str
    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Turn:
    """One message of the conversation as every provider gets it, normalised."""

    role: Literal["user", "assistant", "tool"]
    text: str = ""
    images: tuple[ImagePart, ...] = ()
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    "a tool turn: which call it answers"
    tool_error: bool = False
    reasoning: str | None = None
    "DeepSeek's reasoning_content of an assistant turn with tool calls, sent back in tool rounds"


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolSpec:
    name: str
    description: str
    parameters: dict[str, Any]
    "a strict JSON Schema object"


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelRequest:
    model: str
    system: str
    turns: tuple[Turn, ...]
    tools: tuple[ToolSpec, ...] = ()
    max_tokens: int = 1024
    timeout: float = 60.0
    "seconds left of the turn's deadline"
    json_schema: dict[str, Any] | None = None
    "structured output: the answer is one JSON object of this schema"
    schema_name: str = "answer"


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelReply:
    text: str
    tool_calls: tuple[ToolCall, ...]
    stop: Literal["end", "tool_calls", "max_tokens", "other"]
    tokens_in: int
    tokens_out: int
    reasoning: str | None = None
    data: dict[str, Any] | None = None
    "structured output, parsed"


ErrorKind = Literal["auth", "balance", "rate_limited", "unavailable", "bad_request", "timeout"]


class ModelError(Exception):
    """What a provider answered instead of a reply, normalised across providers."""

    def __init__(self, kind: ErrorKind, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status
        self.retry_after = retry_after


OnText = Callable[[str], None]


class ChatModel(Protocol):
    name: str
    "the provider: OPENAI, ANTHROPIC or DEEPSEEK"
    takes_images: bool

    def complete(self, request: ModelRequest, on_text: OnText | None = None) -> ModelReply:
        """One model call (streamed when ``on_text`` is given, each text delta passed to it as it
        arrives). Retries 429/5xx/529 with backoff, honouring Retry-After, within the timeout;
        raises ``ModelError``."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderAccess:
    provider: str
    api_key: str
    base_url: str | None = None


class ChatModels(Protocol):
    def connect(self, access: ProviderAccess) -> ChatModel: ...

    def instance_access(self, provider: str) -> ProviderAccess | None:
        """The operator's key (and base URL) for ``provider``, or None when the instance has none."""
        ...

    def base_url(self, provider: str) -> str | None:
        """Where the instance reaches ``provider`` (operator configuration, never a tenant's)."""
        ...


# --- the stream relay -------------------------------------------------------------------------


class TurnEvents(Protocol):
    """Progress of a turn, from the worker that runs it to whoever streams it. Events of one turn
    are numbered from 1; a listener gives the last number it saw."""

    def publish(self, turn_id: str, event: dict[str, Any]) -> None: ...

    def listen(self, turn_id: str, *, after: int, wait: float) -> list[tuple[int, dict[str, Any]]]:
        """Events after number ``after``, waiting up to ``wait`` seconds for the first one."""
        ...


# --- persistence ------------------------------------------------------------------------------


class ChatRepository(Protocol):
    def get(self, chat_id: str, *, for_update: bool = False) -> Chat | None: ...

    def add(self, chat: Chat) -> None: ...

    def delete(self, chat: Chat) -> None: ...

    def session_active(self, user_id: str, session_id: str) -> Chat | None:
        """The session's newest ACTIVE chat."""
        ...

    def session_chats(self, user_id: str, session_id: str, *, active_only: bool) -> list[Chat]: ...

    def add_message(self, message: ChatMessage) -> None: ...

    def message(self, message_id: str) -> ChatMessage | None: ...

    def messages(self, chat_id: str) -> list[ChatMessage]:
        """In order (position)."""
        ...

    def conversation(self, message_id: str) -> tuple[Chat, list[ChatMessage]] | None:
        """The chat of message ``message_id`` and its messages up to and including that one, in order."""
        ...

    def with_chat(self, message_id: str, *, for_update: bool = False) -> tuple[Chat, ChatMessage] | None:
        """The message and its chat, read together (the chat locked with ``for_update``)."""
        ...

    def tokens_since(self, since: datetime) -> int:
        """Tokens (in + out) the tenant's assistant messages used since ``since``."""
        ...


class ChatReader(Protocol):
    def get(self, chat_id: str, user_id: str) -> ChatView | None: ...

    def find(self, user_id: str, *, include_archived: bool, first: int, after: ChatCursor | None) -> list[ChatView]: ...

    def messages(self, chat_id: str, *, first: int, after: int | None) -> list[ChatMessageView]:
        """Oldest first, from position ``after + 1``."""
        ...

    def message(self, message_id: str) -> ChatMessageView | None: ...


class ChatSettingsRepository(Protocol):
    def get(self) -> ChatProviderSettings | None: ...

    def add(self, settings: ChatProviderSettings) -> None: ...


class ChatsUnitOfWork(JobsUnitOfWork, FilesUnitOfWork, Protocol):
    chats: ChatRepository
    chat_views: ChatReader
    chat_settings: ChatSettingsRepository


class PdfText(Protocol):
    def extract(self, data: bytes) -> tuple[str, int]:
        """The text layer of a PDF and its page count; ValueError if it is not a readable PDF."""
        ...


Attachments = Sequence[str]
Listen = Iterator[tuple[int, dict[str, Any]]]
