"""The WhatsApp domain's persistence: the tenant's connection, client numbers, templates, the message log."""

from __future__ import annotations

from adapters.db.deliveries.log import SqlAlchemyStaleDeliveries
from adapters.db.registry import Binding, DbModule, Repository, SealedColumn
from adapters.db.whatsapp.repositories import (
    SqlAlchemyWhatsappDirectory,
    SqlAlchemyWhatsappReader,
    SqlAlchemyWhatsappRepository,
)
from adapters.db.whatsapp.tables import map_classes, whatsapp_connections, whatsapp_messages
from domain.whatsapp.connection import secret_context

DB_MODULE = DbModule(
    name="whatsapp",
    map_classes=map_classes,
    repositories={
        "whatsapp": Repository(lambda s: SqlAlchemyWhatsappRepository(s.session, s.tenant, s.seen)),
        "whatsapp_views": Repository(lambda s: SqlAlchemyWhatsappReader(s.session, s.tenant)),
        "whatsapp_directory": Repository(lambda s: SqlAlchemyWhatsappDirectory(s.session), Binding.ANY),
        "stale_whatsapps": Repository(
            lambda s: SqlAlchemyStaleDeliveries(s.session, "whatsapp", whatsapp_messages), Binding.SYSTEM
        ),
    },
    sealed=tuple(
        SealedColumn(
            table=whatsapp_connections, key_column="id", sealed_column=f"{name}_sealed",
            context=lambda row, name=name: secret_context(row["tenant_id"], row["id"], name),
        )
        for name in ("access_token", "app_secret", "verify_token")
    ),
)
