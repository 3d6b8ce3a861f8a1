"""The QuickBooks connector's persistence: the connection, OAuth states, sync links and reader in
a unit of work bound to a tenant; the directory (who a webhook is for) only in system work."""

from __future__ import annotations

from adapters.db.integrations.quickbooks.stores import (
    SqlAlchemyQuickbooksConnectionRepository,
    SqlAlchemyQuickbooksDirectory,
    SqlAlchemyQuickbooksReader,
    SqlAlchemyQuickbooksStateStore,
    SqlAlchemySyncLinkRepository,
)
from adapters.db.integrations.quickbooks.tables import map_classes, qbo_connections
from adapters.db.registry import Binding, DbModule, Repository, SealedColumn
from domain.integrations.quickbooks.connection import token_context

DB_MODULE = DbModule(
    name="integrations.quickbooks",
    map_classes=map_classes,
    repositories={
        "quickbooks_connections": Repository(
            lambda s: SqlAlchemyQuickbooksConnectionRepository(s.session, s.tenant, s.seen)
        ),
        "quickbooks_states": Repository(lambda s: SqlAlchemyQuickbooksStateStore(s.session, s.tenant)),
        "quickbooks_links": Repository(lambda s: SqlAlchemySyncLinkRepository(s.session, s.tenant)),
        "quickbooks_views": Repository(lambda s: SqlAlchemyQuickbooksReader(s.session, s.tenant)),
        "quickbooks_directory": Repository(lambda s: SqlAlchemyQuickbooksDirectory(s.session), Binding.SYSTEM),
    },
    sealed=(
        SealedColumn(
            table=qbo_connections, key_column="id", sealed_column="access_sealed",
            context=lambda row: token_context(row["tenant_id"], row["id"], "access"),
        ),
        SealedColumn(
            table=qbo_connections, key_column="id", sealed_column="refresh_sealed",
            context=lambda row: token_context(row["tenant_id"], row["id"], "refresh"),
        ),
    ),
)
