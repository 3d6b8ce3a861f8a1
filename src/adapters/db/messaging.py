"""Stop-gap: the emails, WhatsApp and deliveries repositories, registered from this one place while
those domains are being reworked. Their tables are in ``adapters.db.orm``; both move to
``adapters/db/emails/``, ``adapters/db/whatsapp/`` and ``adapters/db/deliveries/`` (each with its
own ``module.py``) in one step afterwards, and this module goes."""

from __future__ import annotations

from adapters.db import orm
from adapters.db.deliveries import SqlAlchemyStaleDeliveries
from adapters.db.emails import (
    SqlAlchemyClientEmailReader,
    SqlAlchemyClientEmailRepository,
    SqlAlchemyEmailMessageReader,
    SqlAlchemyEmailMessageRepository,
    SqlAlchemyEmailSettingsRepository,
    SqlAlchemyEmailTemplateRepository,
)
from adapters.db.registry import Binding, DbModule, Repository
from adapters.db.whatsapp import (
    SqlAlchemyWhatsappDirectory,
    SqlAlchemyWhatsappReader,
    SqlAlchemyWhatsappRepository,
)

DB_MODULE = DbModule(
    name="messaging (emails, whatsapp, deliveries)",
    map_classes=orm.map_classes,
    repositories={
        "client_emails": Repository(lambda s: SqlAlchemyClientEmailRepository(s.session, s.tenant, s.seen)),
        "client_email_views": Repository(lambda s: SqlAlchemyClientEmailReader(s.session, s.tenant)),
        "email_messages": Repository(lambda s: SqlAlchemyEmailMessageRepository(s.session, s.tenant, s.seen)),
        "email_message_views": Repository(lambda s: SqlAlchemyEmailMessageReader(s.session, s.tenant)),
        "email_templates": Repository(
            lambda s: SqlAlchemyEmailTemplateRepository(s.session, s.tenant, s.seen)
        ),
        "email_settings": Repository(
            lambda s: SqlAlchemyEmailSettingsRepository(s.session, s.tenant, s.seen)
        ),
        "whatsapp": Repository(lambda s: SqlAlchemyWhatsappRepository(s.session, s.tenant, s.seen)),
        "whatsapp_views": Repository(lambda s: SqlAlchemyWhatsappReader(s.session, s.tenant)),
        "whatsapp_directory": Repository(lambda s: SqlAlchemyWhatsappDirectory(s.session), Binding.ANY),
        "stale_deliveries": Repository(lambda s: SqlAlchemyStaleDeliveries(s.session), Binding.SYSTEM),
    },
)
