"""The PostgreSQL pool replaces a connection the server dropped while it sat idle in the pool."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from adapters.db.engine import build_engine

pytestmark = pytest.mark.postgres


def _drop_server_side(engine_url: str, backend_pid: int) -> None:
    admin = build_engine(engine_url)
    with admin.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend_pid})
        connection.commit()
    admin.dispose()


def _idle_connection_dropped(url: str, idle_ping_seconds: float) -> int:
    """Check a connection out and back in, have the server end it, and use the pool again."""
    engine = build_engine(url, idle_ping_seconds=idle_ping_seconds)
    try:
        with engine.connect() as connection:
            pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        _drop_server_side(url, pid)
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())
    finally:
        engine.dispose()


def test_a_connection_dropped_while_idle_is_replaced_before_use(postgresql_database: str) -> None:
    # idle for longer than the threshold (0 s): pinged at checkout, found dead, replaced
    new_pid = _idle_connection_dropped(postgresql_database, idle_ping_seconds=0.0)
    assert new_pid > 0


def test_a_connection_back_a_moment_ago_is_not_pinged(postgresql_database: str) -> None:
    # The other side of the trade: within the threshold there is no ping, so a connection the
    # server dropped a moment ago fails the statement that uses it (and the pool is invalidated).
    with pytest.raises(OperationalError):
        _idle_connection_dropped(postgresql_database, idle_ping_seconds=3600.0)
