"""The AI assistant's persistence: chats, messages, the tenant's provider settings (key sealed)."""

from __future__ import annotations

from adapters.db.chats.repositories import SqlAlchemyChatReader, SqlAlchemyChatRepository, SqlAlchemyChatSettings
from adapters.db.chats.tables import chat_provider_settings, map_classes
from adapters.db.registry import DbModule, Repository, SealedColumn
from domain.chats.model import key_context

DB_MODULE = DbModule(
    name="chats",
    map_classes=map_classes,
    repositories={
        "chats": Repository(lambda s: SqlAlchemyChatRepository(s.session, s.tenant, s.seen)),
        "chat_views": Repository(lambda s: SqlAlchemyChatReader(s.session, s.tenant)),
        "chat_settings": Repository(lambda s: SqlAlchemyChatSettings(s.session, s.tenant, s.seen)),
    },
    sealed=(
        SealedColumn(
            table=chat_provider_settings, key_column="id", sealed_column="api_key_sealed",
            context=lambda row: key_context(row["tenant_id"], row["id"]),
        ),
    ),
)
