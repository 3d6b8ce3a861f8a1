"""The deliveries domain's persistence: the sweep's query across tenants (system work only)."""

from __future__ import annotations

from adapters.db.deliveries.stale import SqlAlchemyStaleDeliveries
from adapters.db.registry import Binding, DbModule, Repository

DB_MODULE = DbModule(
    name="deliveries",
    map_classes=lambda: None,
    repositories={"stale_deliveries": Repository(lambda s: SqlAlchemyStaleDeliveries(s.session), Binding.SYSTEM)},
)
