"""The WhatsApp domain's persistence: the tenant's connection, client numbers, templates, the message log."""

from __future__ import annotations

from adapters.db.deliveries.log import SqlAlchemyStaleDeliveries
from adapters.db.registry import Binding, DbModule, Repository
from adapters.db.whatsapp.repositories import (
    SqlAlchemyWhatsappDirectory,
    SqlAlchemyWhatsappReader,
    SqlAlchemyWhatsappRepository,
)
from adapters.db.whatsapp.tables import map_classes, whatsapp_messages

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
)
