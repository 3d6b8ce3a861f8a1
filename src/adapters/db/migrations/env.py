"""Alembic environment: migrations run against the engine the caller passes in, or the URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import TypeDecorator, create_engine

from adapters.db.modules import metadata

config = context.config


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as connection:
        _migrate(connection)
    engine.dispose()


def _migrate(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def _render_item(kind: str, obj: object, _context: object) -> str | bool:
    """Migrations spell our column types as the plain SQL types they store."""
    if kind == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `istmo db upgrade`")
run()
