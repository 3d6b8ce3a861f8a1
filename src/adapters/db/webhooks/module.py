"""The webhooks' persistence: the inbox, bound to the tenant, or to every tenant in system work."""

from __future__ import annotations

from adapters.db.registry import Binding, DbModule, Repository
from adapters.db.webhooks.repositories import SqlAlchemyWebhookEventReader, SqlAlchemyWebhookEventRepository

DB_MODULE = DbModule(
    name="webhooks",
    repositories={
        "webhook_events": Repository(
            lambda s: SqlAlchemyWebhookEventRepository(s.session, s.tenant_id, s.outbox()), Binding.ANY
        ),
        "webhook_event_views": Repository(
            lambda s: SqlAlchemyWebhookEventReader(s.session, s.tenant_id), Binding.ANY
        ),
    },
)
