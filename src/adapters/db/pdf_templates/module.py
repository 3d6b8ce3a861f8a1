"""PDF templates' persistence: the repository and reader, in a unit of work bound to a tenant."""

from __future__ import annotations

from adapters.db.pdf_templates.repositories import (
    SqlAlchemyPdfTemplateReader,
    SqlAlchemyPdfTemplateRepository,
)
from adapters.db.pdf_templates.tables import map_classes
from adapters.db.registry import DbModule, Repository

DB_MODULE = DbModule(
    name="pdf_templates",
    map_classes=map_classes,
    repositories={
        "pdf_templates": Repository(
            lambda s: SqlAlchemyPdfTemplateRepository(s.session, s.tenant, s.clock, s.seen)
        ),
        "pdf_template_views": Repository(lambda s: SqlAlchemyPdfTemplateReader(s.session, s.tenant)),
    },
)
