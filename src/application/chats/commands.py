"""Commands and queries of the AI assistant, and its limits."""

from __future__ import annotations

from dataclasses import dataclass

from application.shared.messages import Command, Query

TURN_JOB = "chats.turn"


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatPolicy:
    max_tool_rounds: int = 8
    "model calls that may ask for tools per user message; the ninth request for tools ends the turn"
    history_tokens: int = 24_000
    "the history sent is trimmed to this many (estimated) tokens, a tool call never split from its result"
    daily_tokens: int = 500_000
    "tokens (in + out) a tenant's assistant may use per UTC day"
    turn_seconds: float = 120.0
    "a turn's deadline, all model calls and tools included"
    max_answer_tokens: int = 1500
    page_size: int = 20
    max_page_size: int = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class SendChatMessage(Command):
    """No ``chat_id``: continue the session's active chat, or start one."""

    message: str
    chat_id: str | None = None
    attachment_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RunChatTurn(Command):
    """The worker's part: answer the user message ``message_id`` (system work of one tenant)."""

    message_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RenameChat(Command):
    chat_id: str
    title: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteChat(Command):
    chat_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ArchiveSessionChats(Command):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigureChatProvider(Command):
    """``api_key`` None: use the instance's key for that provider."""

    provider: str
    model: str
    api_key: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GetChatProviderSettings(Query):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class FindChats(Query):
    first: int | None = None
    after: str | None = None
    include_archived: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class GetChat(Query):
    chat_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class GetChatMessages(Query):
    chat_id: str
    first: int | None = None
    after: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GetChatMessage(Query):
    message_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class GetCurrentSessionActiveChat(Query):
    pass


def session_of(actor: object) -> str:
    """The login session: the token's ``sid``, or one session per user when it has none."""
    session = getattr(actor, "session_id", None)
    return session or f"user:{getattr(actor, 'user_id')}"
