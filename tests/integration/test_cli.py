"""The ``istmo`` command line, run in-process with click's runner on a fresh SQLite data dir."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from click.testing import CliRunner, Result
from dependency_injector import providers
from sqlalchemy import create_engine, inspect, select

from adapters.db.files.tables import files
from adapters.db.tenancy.tables import tenants, users
from application.files.commands import AddFile
from application.files.staging import stage_chunks
from domain.tenancy.model import Actor, Role
from entrypoints.cli import main
from entrypoints.config import Settings
from entrypoints.container import build_container
from tests.fakes.clock import FakeClock


class Cli:
    def __init__(self, data_dir: Path, database_url: str) -> None:
        self.data_dir = data_dir
        self.database_url = database_url
        self.runner = CliRunner()

    def __call__(self, *args: str) -> Result:
        return self.runner.invoke(main, list(args), catch_exceptions=False)

    def ok(self, *args: str) -> Result:
        result = self(*args)
        assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
        return result

    def fails(self, *args: str) -> Result:
        result = self(*args)
        assert result.exit_code != 0, (result.stdout, result.stderr)
        assert result.stdout == "", "a failure prints nothing on stdout"
        return result

    def rows(self, table: object) -> list[dict[str, object]]:
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as connection:
                return [dict(row._mapping) for row in connection.execute(select(table))]
        finally:
            engine.dispose()


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    """ISTMO_* from the test only: a data dir and a SQLite file of its own, dev mode."""
    import os

    for name in list(os.environ):
        if name.startswith("ISTMO_"):
            monkeypatch.delenv(name)
    database_url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("ISTMO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ISTMO_DATABASE_URL", database_url)
    monkeypatch.setenv("ISTMO_LOG_FORMAT", "json")
    monkeypatch.setenv("ISTMO_LOG_LEVEL", "WARNING")
    yield Cli(tmp_path, database_url)


@pytest.fixture
def migrated(cli: Cli) -> Cli:
    cli.ok("db", "upgrade")
    return cli


def test_db_upgrade_migrates_the_configured_database(cli: Cli) -> None:
    result = cli.ok("db", "upgrade")

    assert "database at head" in result.stderr
    engine = create_engine(cli.database_url)
    try:
        assert {"tenants", "users", "files", "file_entities", "alembic_version"} <= set(
            inspect(engine).get_table_names()
        )
    finally:
        engine.dispose()
    cli.ok("db", "upgrade")  # again: nothing to do, no error


def test_tenants_create_then_again_fails_clearly_unless_exist_ok(migrated: Cli) -> None:
    created = migrated.ok("tenants", "create", "acme", "--name", "Acme")
    assert "tenant acme created" in created.stderr

    again = migrated.fails("tenants", "create", "acme", "--name", "Acme")
    assert "a tenant with slug 'acme' already exists" in again.stderr
    assert "Traceback" not in again.output

    tolerated = migrated.ok("tenants", "create", "acme", "--name", "Acme", "--exist-ok")
    assert "tenant acme exists" in tolerated.stderr
    assert [(row["slug"], row["name"]) for row in migrated.rows(tenants)] == [("acme", "Acme")]


def test_tenants_create_refuses_a_bad_slug_naming_it(migrated: Cli) -> None:
    result = migrated.fails("tenants", "create", "Not A Slug!", "--name", "Acme")

    assert "slug" in result.stderr
    assert migrated.rows(tenants) == []


def test_token_prints_only_a_verifiable_jwt_for_the_tenant(migrated: Cli) -> None:
    migrated.ok("tenants", "create", "acme", "--name", "Acme")
    before = int(time.time())

    result = migrated.ok("token", "--tenant", "acme", "--ttl", "30m")

    lines = result.stdout.splitlines()
    assert len(lines) == 1 and result.stdout.endswith("\n"), "the token alone, on one line"
    secret = (migrated.data_dir / "jwt-secret").read_text().strip()
    claims = jwt.decode(lines[0], secret, algorithms=["HS256"])
    assert claims["org_id"] == "acme" and claims["role"] == "owner"
    assert before + 1800 <= claims["exp"] <= int(time.time()) + 1800
    assert claims["exp"] - claims["iat"] == 1800
    (user,) = migrated.rows(users)
    assert claims["sub"] == user["id"] and user["email"] == "dev@acme.local"
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(lines[0], secret + "x", algorithms=["HS256"])


def test_token_for_a_named_user_and_role_reuses_the_user(migrated: Cli) -> None:
    migrated.ok("tenants", "create", "acme", "--name", "Acme")

    first = migrated.ok("token", "--tenant", "acme", "--user", "Ana@Acme.pa", "--role", "admin", "--ttl", "7d")
    second = migrated.ok("token", "--tenant", "acme", "--user", "ana@acme.pa", "--role", "admin")

    secret = (migrated.data_dir / "jwt-secret").read_text().strip()
    a = jwt.decode(first.stdout.strip(), secret, algorithms=["HS256"])
    b = jwt.decode(second.stdout.strip(), secret, algorithms=["HS256"])
    assert a["role"] == "admin" and a["exp"] - a["iat"] == 7 * 86400
    assert b["exp"] - b["iat"] == 8 * 3600, "the default lifetime is 8h"
    assert a["sub"] == b["sub"]
    assert [(row["email"], row["role"]) for row in migrated.rows(users)] == [("ana@acme.pa", Role.ADMIN)]


def test_token_for_an_unknown_tenant_fails_clearly(migrated: Cli) -> None:
    result = migrated.fails("token", "--tenant", "ghost")

    assert "no tenant has the slug or id 'ghost'" in result.stderr
    assert migrated.rows(users) == []


@pytest.mark.parametrize("ttl", ["nonsense", "8 hours", "-1h", "1w"])
def test_token_with_a_bad_ttl_fails_clearly(migrated: Cli, ttl: str) -> None:
    migrated.ok("tenants", "create", "acme", "--name", "Acme")

    result = migrated.fails("token", "--tenant", "acme", "--ttl", ttl)

    assert "--ttl must be a duration like 90s, 30m, 8h or 7d" in result.stderr
    assert repr(ttl) in result.stderr


def test_token_with_an_unknown_role_is_refused(migrated: Cli) -> None:
    migrated.ok("tenants", "create", "acme", "--name", "Acme")

    result = migrated.fails("token", "--tenant", "acme", "--role", "root")

    assert "--role" in result.stderr and "root" in result.stderr


def test_files_gc_deletes_an_expired_temporary_file_and_reports_json(
    migrated: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ISTMO_TMP_FILE_TTL", "1h")
    monkeypatch.setenv("ISTMO_FILES_GC_GRACE", "0s")
    migrated.ok("tenants", "create", "acme", "--name", "Acme")
    # The files are added by a container built from the same environment; the expired one
    # with a clock two hours behind, so that its hour of life is over now.
    container = build_container(Settings.from_env())
    clock = FakeClock(datetime.now(UTC) - timedelta(hours=2))
    try:
        container.clock.override(providers.Object(clock))
        storage, bus = container.storage(), container.bus()
        tenant_id = migrated.rows(tenants)[0]["id"]
        actor = Actor(tenant_id=str(tenant_id), user_id="user-1", role=Role.OWNER)

        def add(data: bytes, *, temporary: bool) -> str:
            staged = stage_chunks(storage, [data], max_size=1 << 20)
            return bus.handle(AddFile(actor=actor, content=staged, temporary=temporary)).sha256

        expired = add(b"%PDF-1.7 expired draft", temporary=True)
        kept = add(b"%PDF-1.7 kept for good", temporary=False)
        clock.advance(timedelta(hours=2))
        fresh = add(b"%PDF-1.7 a draft with an hour to go", temporary=True)
    finally:
        container.shutdown_resources()

    result = migrated.ok("files", "gc")

    assert json.loads(result.stdout) == {"expiredFiles": 1, "orphanBlobs": 1, "staleStaging": 0}
    assert sorted(row["sha256"] for row in migrated.rows(files)) == sorted([kept, fresh])
    blobs_dir = migrated.data_dir / "files" / "blobs" / str(tenant_id)
    assert sorted(path.name for path in blobs_dir.glob("*/*")) == sorted([kept, fresh])
    assert expired not in {row["sha256"] for row in migrated.rows(files)}

    again = migrated.ok("files", "gc")
    assert json.loads(again.stdout) == {"expiredFiles": 0, "orphanBlobs": 0, "staleStaging": 0}


def test_a_bad_environment_is_reported_without_a_traceback(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ISTMO_STORAGE", "ftp")

    result = cli.fails("db", "upgrade")

    assert "ISTMO_STORAGE must be local or s3" in result.stderr
    assert "Traceback" not in result.output


def test_serve_help_lists_host_port_and_dev(cli: Cli) -> None:
    result = cli.ok("serve", "--help")

    for option in ("--host", "--port", "--dev"):
        assert option in result.stdout


def test_the_help_lists_every_command(cli: Cli) -> None:
    result = cli.ok("--help")

    for command in ("serve", "db", "tenants", "token", "files"):
        assert command in result.stdout
