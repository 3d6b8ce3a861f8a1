"""Shared fixtures: databases (SQLite always, PostgreSQL where reachable), the app, tenants, tokens.

PostgreSQL: ``ISTMO_TEST_POSTGRES_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``)
is the maintenance connection; each test session (each xdist worker) creates its own database,
migrates it, and drops it at the end. Where PostgreSQL cannot be reached, the tests marked
``postgres`` are skipped with the reason, and the rest still run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from adapters.db.engine import build_engine
from adapters.db.migrate import upgrade
from adapters.db.modules import metadata, start_mappers

TEST_SECRET_KEY = "x9mQ2f8v7LpV3cK1nR5tW0yZ4aB6dE8gH2jK4mN6pQ8="
"""The SecretBox key of the services the tests build (a Fernet key, for tests only)."""

POSTGRES_ADMIN_URL = os.environ.get(
    "ISTMO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _postgres_unavailable_reason() -> str | None:
    try:
        engine = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as error:  # any failure to connect means: skip, and say why
        return f"PostgreSQL not reachable at {make_url(POSTGRES_ADMIN_URL).render_as_string()}: {type(error).__name__}"


@pytest.fixture(scope="session")
def sqlite_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    start_mappers()
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'istmo.db'}"
    engine = build_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url


@pytest.fixture(scope="session")
def postgresql_database() -> Iterator[str]:
    reason = _postgres_unavailable_reason()
    if reason:
        pytest.skip(reason)
    start_mappers()
    name = f"istmo_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    engine = build_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def clean(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each test using it runs once on SQLite and once on PostgreSQL, on clean tables."""
    url = request.getfixturevalue(f"{request.param}_database")
    yield url
    engine = build_engine(url)
    clean(engine)
    engine.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = build_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def weasyprint_renderer() -> Iterator[Any]:
    """One real PDF renderer for the tests of a session that render: its one worker process
    starts on the first render and stays warm."""
    from adapters.pdf.weasyprint import RendererSettings, WeasyPrintPdfRenderer

    with WeasyPrintPdfRenderer(RendererSettings(processes=1, timeout=60)) as renderer:
        yield renderer


# --- the service ---------------------------------------------------------------------------


@dataclass
class Service:
    """The app and its container on a test database, with helpers to make tenants and tokens."""

    app: Any
    container: Any

    @property
    def client(self) -> Any:
        return self.app.test_client()

    def tenant(self, slug: str, *, external_id: str | None = None) -> str:
        from application.tenancy.handlers import CreateTenant

        return self.container.bus().handle(
            CreateTenant(actor=None, slug=slug, name=slug.title(), external_id=external_id, exist_ok=True)
        ).tenant_id

    def token(self, slug: str, *, role: str = "owner", subject: str = "user-1", ttl: int = 600) -> str:
        from adapters.auth.jwt import HmacJwtVerifier

        self.tenant(slug)
        return HmacJwtVerifier(self.container.settings().jwt_secret).issue(
            tenant=slug, subject=subject, role=role, ttl_seconds=ttl
        )

    def headers(self, slug: str, **kw: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(slug, **kw)}"}


@pytest.fixture
def make_service(tmp_path: Path, database_url: str) -> Iterator[Callable[..., Service]]:
    from entrypoints.app import create_app
    from entrypoints.config import Settings
    from entrypoints.container import build_container

    built: list[Any] = []

    def factory(**overrides: Any) -> Service:
        settings = Settings(
            env="dev",
            data_dir=tmp_path,
            database_url=database_url,
            public_url="http://localhost",
            jwt_secret="test-jwt-secret-that-is-long-enough-for-hs256",
            signing_secret="test-signing-secret",
            files_dir=tmp_path / "files",
            log_format="json",
            log_level="WARNING",
            secret_keys=(TEST_SECRET_KEY,),
        )
        settings = replace(settings, **overrides)
        container = build_container(settings)
        built.append(container)
        return Service(app=create_app(container=container), container=container)

    yield factory
    for container in built:
        container.shutdown_resources()


@pytest.fixture
def service(make_service: Callable[..., Service]) -> Service:
    return make_service()
