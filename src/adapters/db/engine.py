"""Engines for SQLite (the embedded default) and PostgreSQL.

A pooled PostgreSQL connection is pinged before use only when it has sat idle in the pool for
more than ``idle_ping_seconds``: a connection the server dropped (a restart, an idle timeout, a
failover) is found and replaced before a request uses it, while a busy pool, whose connections
were in use a moment ago, pays no extra round trip per checkout (``pool_pre_ping`` pings every
checkout: one of the five round trips of a webhook delivery). A connection that dies while in
use still fails that one request, and SQLAlchemy then invalidates the pool.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import make_url

IDLE_PING_SECONDS = 5.0


def build_engine(url: str, *, echo: bool = False, idle_ping_seconds: float = IDLE_PING_SECONDS) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(url, echo=echo, pool_size=10, max_overflow=20)
    _ping_when_idle(engine, idle_ping_seconds)
    return engine


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    @event.listens_for(engine, "checkin")
    def checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since <= idle_seconds:
            return  # new, or back in the pool a moment ago
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # noqa: BLE001 - any failure to ping means: replace it
            raise exc.DisconnectionError(f"a pooled connection failed its ping: {error}") from error
        if not alive:
            raise exc.DisconnectionError("a pooled connection failed its ping")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    # SQLite's own lower() folds ASCII only; searches must match "AÑO" with "año" as PostgreSQL does.
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value
