"""The ``MetaData`` every domain defines its tables on (with the constraint naming convention), and
the registry their classes are mapped with. It holds every table only once each domain's tables are
imported: users of the whole schema (Alembic, ``create_all``) take it from ``adapters.db.modules``."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import registry

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

mapper_registry = registry(metadata=metadata)
