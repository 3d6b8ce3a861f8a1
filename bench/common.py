"""What the benchmarks share: the real service on a temp data dir, tenants, tokens, SQL counting,
multipart bodies and the way figures are printed.

Units: MB = 10**6 bytes everywhere (sizes, throughput, memory).
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for _path in (str(ROOT / "src"), str(ROOT)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

MB = 10**6
JWT_SECRET = "bench-jwt-secret-that-is-long-enough-for-hs256"
POSTGRES_ADMIN_URL = os.environ.get(
    "ISTMO_BENCH_POSTGRES_URL",
    os.environ.get("ISTMO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
)


# --- printing ------------------------------------------------------------------------------


def line(label: str, value: str, target: str = "", met: bool | None = None) -> None:
    verdict = "" if met is None else ("MET" if met else "NOT MET")
    text = f"  {label:<58} {value:>16}"
    if target:
        text += f"   target {target:<10} {verdict}"
    print(text.rstrip(), flush=True)


def header(title: str) -> None:
    print(f"\n{title}", flush=True)


# --- the machine ---------------------------------------------------------------------------


def busy_seconds() -> float | None:
    """CPU seconds every process has used since boot (``/proc/stat``), or None if unknown."""
    try:
        with open("/proc/stat") as handle:
            fields = handle.readline().split()[1:]
    except OSError:
        return None
    ticks = [int(value) for value in fields]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    busy = sum(ticks[:8]) - idle  # user nice system idle iowait irq softirq steal
    return busy / os.sysconf("SC_CLK_TCK")


def wait_until_quiet(*, limit: float = 0.3, patience: float = 30.0) -> tuple[float | None, float]:
    """Wait (up to ``patience`` seconds) until other processes use less than ``limit`` CPUs over
    one second; the last such figure and the seconds waited."""
    import time

    waited, started = None, time.perf_counter()
    while True:
        before = busy_seconds()
        time.sleep(1.0)
        after = busy_seconds()
        if before is None or after is None:
            return None, time.perf_counter() - started
        waited = after - before
        if waited < limit or time.perf_counter() - started > patience:
            return waited, time.perf_counter() - started


# --- the service ---------------------------------------------------------------------------


@dataclass
class Service:
    """The real app (create_app + build_container) on one database and one data dir."""

    app: Any
    container: Any
    data_dir: Path
    tokens: dict[str, str] = field(default_factory=dict)

    def tenant(self, slug: str) -> str:
        from application.tenancy.handlers import CreateTenant

        return self.container.bus().handle(
            CreateTenant(actor=None, slug=slug, name=slug.title(), exist_ok=True)
        ).tenant_id

    def token(self, slug: str) -> str:
        if slug not in self.tokens:
            from adapters.auth.jwt import HmacJwtVerifier

            self.tenant(slug)
            self.tokens[slug] = HmacJwtVerifier(JWT_SECRET).issue(
                tenant=slug, subject="bench@istmo.test", role="owner", ttl_seconds=3600
            )
        return self.tokens[slug]

    def headers(self, slug: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(slug)}", "GraphQL-Preflight": "1"}

    def actor(self, slug: str) -> Any:
        from domain.tenancy.model import Actor, Role

        return Actor(tenant_id=self.tenant(slug), user_id="bench@istmo.test", role=Role.OWNER)

    def close(self) -> None:
        self.container.shutdown_resources()


def migrate(database_url: str) -> None:
    from adapters.db.engine import build_engine
    from adapters.db.migrate import upgrade
    from adapters.db.modules import start_mappers

    start_mappers()
    engine = build_engine(database_url)
    upgrade(engine)
    engine.dispose()


def build_service(data_dir: Path, database_url: str | None = None, **overrides: Any) -> Service:
    """Like tests/conftest.py ``Service``: migrated database, Settings, container, Flask app."""
    from entrypoints.app import create_app
    from entrypoints.config import Settings, Variables
    from entrypoints.container import build_container

    # the rate limits counted (their cost is in the figures) but never reached by a bench's burst
    unreached = {"ISTMO_RATE_LIMIT_TENANT": "100000000/minute", "ISTMO_RATE_LIMIT_WEBHOOK_IP": "100000000/minute"}
    overrides.setdefault("variables", Variables(unreached))
    database_url = database_url or f"sqlite:///{data_dir / 'istmo.db'}"
    migrate(database_url)
    settings = Settings(
        env="dev",
        data_dir=data_dir,
        database_url=database_url,
        public_url="http://localhost",
        jwt_secret=JWT_SECRET,
        signing_secret="bench-signing-secret",
        files_dir=data_dir / "files",
        log_format="json",
        log_level="WARNING",
        **overrides,
    )
    container = build_container(settings)
    return Service(app=create_app(container=container), container=container, data_dir=data_dir)


@contextmanager
def count_statements(engine: Any) -> Iterator[list[str]]:
    """Every statement SQLAlchemy sends to the database while the block runs."""
    from sqlalchemy import event

    statements: list[str] = []

    def listener(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listener)


# --- multipart ------------------------------------------------------------------------------

ADD_FILE = (
    "mutation($file: Upload!, $entity: EntityInput) { addFile(file: $file, entity: $entity) "
    "{ file { id name sha256 size status } error { code message } } }"
)


def multipart_head(boundary: str, filename: str, entity: dict[str, str] | None = None) -> bytes:
    """The framing before the file part's bytes: operations, map, then the file part's headers."""
    operations = json.dumps({"query": ADD_FILE, "variables": {"file": None, "entity": entity}})
    return (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="operations"\r\n\r\n'
        f"{operations}\r\n"
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="map"\r\n\r\n'
        '{"0": ["variables.file"]}\r\n'
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="0"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()


def multipart_tail(boundary: str) -> bytes:
    return f"\r\n--{boundary}--\r\n".encode()


def new_boundary() -> str:
    return f"----istmo-bench-{uuid.uuid4().hex}"  # RFC 2046: at most 70 characters


def multipart_body(content: bytes, filename: str, entity: dict[str, str] | None = None) -> tuple[bytes, str]:
    boundary = new_boundary()
    return multipart_head(boundary, filename, entity) + content + multipart_tail(boundary), boundary


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


# --- PostgreSQL --------------------------------------------------------------------------


def postgres_unavailable() -> str | None:
    try:
        from sqlalchemy import create_engine, text

        engine = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as error:  # any failure to connect means: skip, and say why
        return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh database on the PostgreSQL server, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"istmo_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
