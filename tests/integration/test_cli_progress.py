"""Issue 18: ``istmo files gc``, ``secrets rotate`` and ``webhooks replay`` show how far they are on
stderr when it is a terminal (a real pseudo-terminal here), and write nothing but their answer when
it is a pipe. The commands run in-process with ``sys.stdout`` and ``sys.stderr`` replaced, so the
command's own look at stderr decides."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TextIO

import click
import pytest
from click.testing import CliRunner
from dependency_injector import providers
from sqlalchemy import create_engine, insert, update

import adapters.db.secrets as sealed_registry
from adapters.db.webhooks.tables import webhook_events
from adapters.secrets.fernet import FernetSecretBox, generate_key
from application.files.commands import AddFile
from application.files.staging import stage_chunks
from application.tenancy.handlers import CreateTenant
from domain.tenancy.model import Actor, Role
from entrypoints import cli as istmo
from entrypoints.config import Settings
from entrypoints.container import build_container
from tests.conftest import Service
from tests.fakes.clock import FakeClock
from tests.integration.test_cli import Cli, cli, migrated  # noqa: F401  (fixtures)
from tests.integration.test_secrets_rotate import COLUMN, KEY_NEW, KEY_OLD, _metadata, _seed, things
from tests.integration.test_webhooks_api import Flaky, flaky_service, receive  # noqa: F401  (fixtures)
from tests.integration.webhooks_helpers import events
from tests.terminals import Terminal, open_pipe, open_terminal


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    with open_terminal() as opened:
        yield opened


def run(monkeypatch: pytest.MonkeyPatch, stderr: TextIO, *args: str) -> tuple[int, str]:
    """``istmo ARGS`` with this stderr; its exit status and stdout."""
    stdout = io.StringIO()
    with monkeypatch.context() as patched:
        patched.setattr(sys, "stdout", stdout)
        patched.setattr(sys, "stderr", stderr)
        try:
            istmo.main(list(args), standalone_mode=False)
            status = 0
        except click.ClickException as error:
            error.show(stderr)
            status = error.exit_code
        stderr.flush()
    return status, stdout.getvalue()


def _files(migrated: Cli) -> None:  # noqa: F811
    """Two files of acme's: one temporary whose hour is over, one kept (three blobs with the draft
    added later)."""
    container = build_container(Settings.from_env())
    clock = FakeClock(datetime.now(UTC) - timedelta(hours=2))
    try:
        container.clock.override(providers.Object(clock))
        storage, bus = container.storage(), container.bus()
        tenant_id = str(bus.handle(CreateTenant(actor=None, slug="acme", name="Acme")).tenant_id)
        actor = Actor(tenant_id=tenant_id, user_id="user-1", role=Role.OWNER)
        for data, temporary in ((b"%PDF-1.7 expired draft", True), (b"%PDF-1.7 kept", False)):
            bus.handle(AddFile(actor=actor, content=stage_chunks(storage, [data], max_size=1 << 20), temporary=temporary))
        clock.advance(timedelta(hours=2))
        staged = stage_chunks(storage, [b"%PDF-1.7 fresh draft"], max_size=1 << 20)
        bus.handle(AddFile(actor=actor, content=staged, temporary=True))
    finally:
        container.shutdown_resources()


def test_files_gc_shows_its_progress_on_a_terminal_and_nothing_on_a_pipe(
    migrated: Cli, monkeypatch: pytest.MonkeyPatch, terminal: Terminal  # noqa: F811
) -> None:
    monkeypatch.setenv("ISTMO_TMP_FILE_TTL", "1h")
    monkeypatch.setenv("ISTMO_FILES_GC_GRACE", "0s")
    _files(migrated)

    status, stdout = run(monkeypatch, terminal.stream, "files", "gc")

    assert status == 0
    assert json.loads(stdout) == {"expiredFiles": 1, "orphanBlobs": 1, "staleStaging": 0}
    shown = terminal.read()
    # 1 expired file checked, then its 3 blobs (the expired one's now orphan): 4 in all, 2 removed
    assert shown.startswith("\rfiles gc: 1 checked, 1 removed\x1b[K"), repr(shown)
    assert shown.endswith("\rfiles gc: 4/4 checked, 2 removed\x1b[K\n"), repr(shown)

    with open_pipe() as (pipe, read):
        status, stdout = run(monkeypatch, pipe, "files", "gc")
        pipe.close()
        assert (status, read()) == (0, b"")
    assert json.loads(stdout) == {"expiredFiles": 0, "orphanBlobs": 0, "staleStaging": 0}


def test_secrets_rotate_counts_every_sealed_row_checked_resealed_or_not(
    migrated: Cli, monkeypatch: pytest.MonkeyPatch, terminal: Terminal  # noqa: F811
) -> None:
    engine = create_engine(migrated.database_url)
    _metadata.create_all(engine)
    _seed(engine, FernetSecretBox([KEY_OLD]), 3)
    with engine.begin() as connection:  # a fourth, sealed under a key the instance no longer has
        lost = FernetSecretBox([generate_key()]).seal("lost", context="test:t1:row-lost")
        connection.execute(insert(things).values(id="row-lost", tenant_id="t1", secret_sealed=lost))
    engine.dispose()
    monkeypatch.setattr(sealed_registry, "SEALED_COLUMNS", [COLUMN])
    monkeypatch.setenv("ISTMO_SECRET_KEYS", f"{KEY_NEW},{KEY_OLD}")

    status, stdout = run(monkeypatch, terminal.stream, "secrets", "rotate")

    assert status == 1 and json.loads(stdout)["unreadable"] == {"test_sealed_things.secret_sealed": ["row-lost"]}
    shown = terminal.read()
    assert "\rsecrets rotate: 1/4 checked, 1 resealed\x1b[K" in shown, repr(shown)
    assert "\rsecrets rotate: 4/4 checked, 3 resealed\x1b[K\n" in shown, repr(shown)
    assert "lost" not in shown.replace("row-lost", "")  # never a secret

    with open_pipe() as (pipe, read):
        status, stdout = run(monkeypatch, pipe, "secrets", "rotate")
        pipe.close()
        said = read().decode()
    assert status == 1 and json.loads(stdout)["resealed"] == {"test_sealed_things.secret_sealed": 3}
    assert "secrets rotate:" not in said and "open with none of the keys" in said


def test_webhooks_replay_all_failed_replays_failed_and_dead_events_with_progress_on_a_terminal(
    flaky_service: tuple[Service, Flaky], monkeypatch: pytest.MonkeyPatch, terminal: Terminal  # noqa: F811
) -> None:
    service, _ = flaky_service
    settings = service.container.settings()
    monkeypatch.setenv("ISTMO_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("ISTMO_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("ISTMO_LOG_LEVEL", "WARNING")
    statuses = {"FAILED": 1, "DEAD": 2, "PROCESSED": 1, "UNMATCHED": 1}
    ids = {
        status: [receive(service, f"evt-{status}-{n}", tenant_id=None) for n in range(how_many)]
        for status, how_many in statuses.items()
    }
    with service.container.engine().begin() as connection:
        for status, chosen in ids.items():
            connection.execute(update(webhook_events).where(webhook_events.c.id.in_(chosen)).values(status=status))

    status, _ = run(monkeypatch, terminal.stream, "webhooks", "replay", "--all-failed")

    assert status == 0
    shown = terminal.read()
    assert "\rwebhooks replay: 1/3 replayed\x1b[K" in shown and shown.endswith(
        "\rwebhooks replay: 3/3 replayed\x1b[K\nreplayed 3/3\n"
    ), repr(shown)
    replayed = {row["id"] for row in events(service) if row["replays"] == 1}
    assert replayed == {*ids["FAILED"], *ids["DEAD"]}
    assert {row["status"] for row in events(service) if row["id"] in replayed} == {"RECEIVED"}

    with open_pipe() as (pipe, read):
        status, _ = run(monkeypatch, pipe, "webhooks", "replay", "--status", "PROCESSED")
        pipe.close()
        assert (status, read()) == (0, b"replayed 1/1\n")  # the answer only: no progress on a pipe

    runner = CliRunner()
    for args in (["--all-failed", "--status", "DEAD"], [ids["UNMATCHED"][0], "--all-failed"]):
        refused = runner.invoke(istmo.main, ["webhooks", "replay", *args])
        assert refused.exit_code == 2 and ("--all-failed" in refused.output or "not both" in refused.output)
    assert {row["id"] for row in events(service) if row["replays"] == 1} == {*replayed, *ids["PROCESSED"]}
