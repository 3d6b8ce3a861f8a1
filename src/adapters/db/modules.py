"""The persistence of every domain, from one list: the whole schema on one ``MetaData`` (Alembic,
``create_all``), the mapping of every domain's classes, and the unit of work's repository registry.
A domain's part is its ``adapters/db/<domain>/module.py`` (its ``DB_MODULE``), found by the
domain's name in ``application.modules.DOMAINS``."""

from __future__ import annotations

from adapters.db.metadata import mapper_registry, metadata
from adapters.db.registry import DbModule, repository_registry
from application.modules import DOMAINS
from application.shared.modules import domain_parts

__all__ = ["DB_MODULES", "REPOSITORIES", "metadata", "start_mappers"]

DB_MODULES: tuple[DbModule, ...] = tuple(
    part.DB_MODULE for _, part in domain_parts("adapters.db.{domain}.module", DOMAINS)
)

REPOSITORIES = repository_registry(DB_MODULES)
"""``uow.<name>`` -> how to build it, for every domain (a name registered twice fails here)."""


def start_mappers() -> None:
    """Map the plain domain classes onto the tables, once per process."""
    if mapper_registry.mappers:
        return
    for module in DB_MODULES:
        module.map_classes()
