"""Tenancy's persistence: the tenant directory, across tenants in every unit of work."""

from __future__ import annotations

from adapters.db.registry import Binding, DbModule, Repository
from adapters.db.tenancy.directory import SqlAlchemyTenantDirectory
from adapters.db.tenancy.tables import map_classes

DB_MODULE = DbModule(
    name="tenancy",
    map_classes=map_classes,
    repositories={"tenants": Repository(lambda s: SqlAlchemyTenantDirectory(s.session), Binding.ANY)},
)
