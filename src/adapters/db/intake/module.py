"""Document intake's persistence: the intakes of the unit of work's tenant."""

from __future__ import annotations

from adapters.db.intake.repositories import SqlAlchemyDocumentIntakeReader, SqlAlchemyDocumentIntakeRepository
from adapters.db.registry import DbModule, Repository

DB_MODULE = DbModule(
    name="intake",
    repositories={
        "document_intakes": Repository(lambda s: SqlAlchemyDocumentIntakeRepository(s.session, s.tenant)),
        "document_intake_views": Repository(lambda s: SqlAlchemyDocumentIntakeReader(s.session, s.tenant)),
    },
)
