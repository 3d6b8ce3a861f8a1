"""The Alembic migrations build exactly the schema the ORM declares, on SQLite and on PostgreSQL.

Each test migrates a database of its own, created empty for it: a fresh SQLite file, or a
throwaway PostgreSQL database created from the maintenance URL and dropped afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url

from adapters.db.engine import build_engine
from adapters.db.migrate import MIGRATIONS, alembic_config, upgrade
from adapters.db.modules import metadata
from tests.conftest import POSTGRES_ADMIN_URL, _postgres_unavailable_reason


def _head() -> str:
    config = alembic_config(create_engine("sqlite://"))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None, f"no migration head under {MIGRATIONS}"
    return head


def _downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _differences(engine: Engine) -> list[Any]:
    """What autogenerate would write to make the database match the ORM: nothing, if in sync."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, metadata))


def _current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


@pytest.fixture
def empty_sqlite(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path / 'empty.db'}"


@pytest.fixture
def empty_postgresql() -> Iterator[str]:
    reason = _postgres_unavailable_reason()
    if reason:
        pytest.skip(reason)
    name = f"istmo_migrations_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    engine = build_engine(request.getfixturevalue(f"empty_{request.param}"))
    assert _tables(engine) == set(), "the database under test must start empty"
    yield engine
    engine.dispose()


def test_upgrade_head_on_an_empty_database_creates_exactly_the_orm_schema(empty_engine: Engine) -> None:
    upgrade(empty_engine)

    assert _current_revision(empty_engine) == _head()
    assert _tables(empty_engine) == set(metadata.tables) | {"alembic_version"}
    assert _differences(empty_engine) == []


def test_the_comparison_sees_a_schema_that_drifted(empty_engine: Engine) -> None:
    """Guard for the test above: a missing index is reported, so "no differences" means something."""
    upgrade(empty_engine)
    with empty_engine.begin() as connection:
        connection.execute(text("DROP INDEX ix_files_tenant_id_name"))

    differences = _differences(empty_engine)

    assert [(d[0], d[1].name) for d in differences] == [("add_index", "ix_files_tenant_id_name")]


def test_downgrade_to_base_removes_everything_and_upgrade_again_restores_it(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    with empty_engine.begin() as connection:
        connection.execute(
            text("INSERT INTO tenants (id, slug, name, created_at) VALUES (:id, 'acme', 'Acme', :at)"),
            {"id": str(uuid.uuid4()), "at": "2026-11-24 12:00:00"},
        )

    _downgrade(empty_engine, "base")

    assert _current_revision(empty_engine) is None
    assert _tables(empty_engine) - {"alembic_version"} == set()

    upgrade(empty_engine)

    assert _current_revision(empty_engine) == _head()
    assert _differences(empty_engine) == []
    with empty_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM tenants")).scalar_one() == 0


def test_upgrade_is_idempotent_at_head(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    upgrade(empty_engine)

    assert _current_revision(empty_engine) == _head()
    assert _differences(empty_engine) == []
