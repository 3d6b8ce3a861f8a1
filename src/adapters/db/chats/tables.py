"""The AI assistant's tables: chats, their messages, and each tenant's provider settings."""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.dialects import postgresql

from adapters.db.metadata import mapper_registry, metadata
from adapters.db.types import StrEnumType, UtcDateTime, id_column
from domain.chats.model import (
    Chat,
    ChatMessage,
    ChatProviderSettings,
    ChatStatus,
    MessageRole,
    MessageStatus,
    Provider,
    SettingsStatus,
)

_JSON = JSON().with_variant(postgresql.JSONB(), "postgresql")

chats = Table(
    "chats",
    metadata,
    id_column(primary_key=True),
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", String(254), nullable=False),
    Column("session_id", String(254), nullable=False),
    Column("title", String(200), nullable=False),
    Column("provider", String(32), nullable=True),
    Column("model", String(100), nullable=True),
    Column("status", StrEnumType(ChatStatus), nullable=False),
    Column("next_position", Integer, nullable=False),
    id_column("pending_message_id", nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index("ix_chats_tenant_id_user_id_updated_at", "tenant_id", "user_id", "updated_at", "id"),
    Index("ix_chats_tenant_id_user_id_session_id", "tenant_id", "user_id", "session_id", "status"),
)

chat_messages = Table(
    "chat_messages",
    metadata,
    id_column(primary_key=True),
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    id_column("chat_id", ForeignKey("chats.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("role", StrEnumType(MessageRole), nullable=False),
    Column("text", Text, nullable=False),
    Column("attachments", _JSON, nullable=False),
    Column("tool_calls", _JSON, nullable=False),
    Column("tool_results", _JSON, nullable=False),
    Column("reasoning", Text, nullable=True),
    Column("status", StrEnumType(MessageStatus), nullable=False),
    Column("provider", String(32), nullable=True),
    Column("model", String(100), nullable=True),
    Column("tokens_in", Integer, nullable=False),
    Column("tokens_out", Integer, nullable=False),
    Column("latency_ms", Integer, nullable=True),
    Column("error_code", String(64), nullable=True),
    Column("error_message", String(500), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("chat_id", "position"),
    Index("ix_chat_messages_tenant_id_created_at", "tenant_id", "created_at"),
)

chat_provider_settings = Table(
    "chat_provider_settings",
    metadata,
    id_column(primary_key=True),
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("provider", StrEnumType(Provider), nullable=False),
    Column("model", String(100), nullable=False),
    Column("api_key_sealed", Text, nullable=True),
    Column("key_hint", String(16), nullable=True),
    Column("status", StrEnumType(SettingsStatus), nullable=False),
    Column("last_error", String(500), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
)


def map_classes() -> None:
    mapper_registry.map_imperatively(Chat, chats)
    mapper_registry.map_imperatively(ChatMessage, chat_messages)
    mapper_registry.map_imperatively(ChatProviderSettings, chat_provider_settings)
