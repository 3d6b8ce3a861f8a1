"""The files domain's persistence: its repository and reader, in a unit of work bound to a tenant."""

from __future__ import annotations

from adapters.db.files.readers import SqlAlchemyFileReader
from adapters.db.files.repositories import SqlAlchemyFileRepository
from adapters.db.files.tables import map_classes
from adapters.db.registry import DbModule, Repository

DB_MODULE = DbModule(
    name="files",
    map_classes=map_classes,
    repositories={
        "files": Repository(lambda s: SqlAlchemyFileRepository(s.session, s.tenant, s.clock, s.seen)),
        "file_views": Repository(lambda s: SqlAlchemyFileReader(s.session, s.tenant)),
    },
)
