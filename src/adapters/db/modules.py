"""The persistence of every domain, from one list: the whole schema on one ``MetaData`` (Alembic,
``create_all``), the mapping of every domain's classes, and the unit of work's repository registry.
Adding a domain adds its ``adapters/db/<domain>/module.py`` to ``DB_MODULES``."""

from __future__ import annotations

from adapters.db import messaging
from adapters.db.files import module as files
from adapters.db.integrations.aurinko import module as aurinko
from adapters.db.invoicing import module as invoicing
from adapters.db.jobs import module as jobs
from adapters.db.metadata import mapper_registry, metadata
from adapters.db.pdf_templates import module as pdf_templates
from adapters.db.registry import DbModule, repository_registry
from adapters.db.tenancy import module as tenancy
from adapters.db.webhooks import module as webhooks

__all__ = ["DB_MODULES", "REPOSITORIES", "metadata", "start_mappers"]

DB_MODULES: tuple[DbModule, ...] = (
    tenancy.DB_MODULE,
    files.DB_MODULE,
    invoicing.DB_MODULE,
    pdf_templates.DB_MODULE,
    jobs.DB_MODULE,
    webhooks.DB_MODULE,
    aurinko.DB_MODULE,
    messaging.DB_MODULE,
)

REPOSITORIES = repository_registry(DB_MODULES)
"""``uow.<name>`` -> how to build it, for every domain (a name registered twice fails here)."""


def start_mappers() -> None:
    """Map the plain domain classes onto the tables, once per process."""
    if mapper_registry.mappers:
        return
    for module in DB_MODULES:
        module.map_classes()
