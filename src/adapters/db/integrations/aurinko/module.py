"""The Aurinko connector's persistence: the tenant's connection, OAuth states and inbox in a unit of
work bound to a tenant; the directory (who a webhook is for) only in system work."""

from __future__ import annotations

from adapters.db.integrations.aurinko.connections import (
    SqlAlchemyAurinkoConnectionReader,
    SqlAlchemyAurinkoConnectionRepository,
    SqlAlchemyAurinkoDirectory,
    SqlAlchemyOAuthStateStore,
)
from adapters.db.integrations.aurinko.inbox import SqlAlchemyInboxReader, SqlAlchemyInboxStore
from adapters.db.integrations.aurinko.tables import aurinko_connections, map_classes
from adapters.db.registry import Binding, DbModule, Repository, SealedColumn
from domain.integrations.aurinko.connection import token_context

DB_MODULE = DbModule(
    name="integrations.aurinko",
    map_classes=map_classes,
    repositories={
        "aurinko_connections": Repository(
            lambda s: SqlAlchemyAurinkoConnectionRepository(s.session, s.tenant, s.seen)
        ),
        "aurinko_connection_views": Repository(
            lambda s: SqlAlchemyAurinkoConnectionReader(s.session, s.tenant)
        ),
        "oauth_states": Repository(lambda s: SqlAlchemyOAuthStateStore(s.session, s.tenant)),
        "inbox": Repository(lambda s: SqlAlchemyInboxStore(s.session, s.tenant)),
        "inbox_views": Repository(lambda s: SqlAlchemyInboxReader(s.session, s.tenant)),
        "aurinko_directory": Repository(lambda s: SqlAlchemyAurinkoDirectory(s.session), Binding.SYSTEM),
    },
    sealed=(
        SealedColumn(
            table=aurinko_connections, key_column="id", sealed_column="token_sealed",
            context=lambda row: token_context(row["tenant_id"], row["id"]),
        ),
    ),
)
