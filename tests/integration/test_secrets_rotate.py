"""``istmo secrets rotate`` and ``rotate_sealed_columns``: every sealed column resealed under the
primary key, on SQLite and PostgreSQL; unreadable rows reported by key and left untouched."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import Column, Engine, MetaData, String, Table, insert, select

import adapters.db.secrets as sealed_registry
from adapters.db.secrets import SEALED_COLUMNS, SealedColumn, rotate_sealed_columns
from adapters.secrets.fernet import FernetSecretBox, generate_key
from application.shared.secrets import SecretUnreadable
from tests.integration.test_cli import Cli, cli, migrated  # noqa: F401  (fixtures)

KEY_OLD = generate_key()
KEY_NEW = generate_key()

_metadata = MetaData()
things = Table(
    "test_sealed_things",
    _metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), nullable=False),
    Column("secret_sealed", String(500), nullable=True),
)
COLUMN = SealedColumn(
    table=things,
    key_column="id",
    sealed_column="secret_sealed",
    context=lambda row: f"test:{row['tenant_id']}:{row['id']}",
)


def _seed(engine: Engine, box: FernetSecretBox, count: int) -> dict[str, str]:
    plaintexts = {f"row-{i:03d}": f"token-{i}-plaintext" for i in range(count)}
    with engine.begin() as connection:
        for row_id, plaintext in plaintexts.items():
            connection.execute(
                insert(things).values(
                    id=row_id, tenant_id="t1", secret_sealed=box.seal(plaintext, context=f"test:t1:{row_id}")
                )
            )
        connection.execute(insert(things).values(id="row-null", tenant_id="t1", secret_sealed=None))
    return plaintexts


def _rows(engine: Engine) -> dict[str, str | None]:
    with engine.connect() as connection:
        return {row.id: row.secret_sealed for row in connection.execute(select(things))}


@pytest.fixture
def table(engine: Engine) -> Iterator[Engine]:
    _metadata.create_all(engine)
    yield engine
    _metadata.drop_all(engine)


def test_rotation_reseals_every_row_in_batches_so_the_new_key_alone_opens_them(table: Engine) -> None:
    plaintexts = _seed(table, FernetSecretBox([KEY_OLD]), 7)
    before = _rows(table)

    report = rotate_sealed_columns(table, FernetSecretBox([KEY_NEW, KEY_OLD]), [COLUMN], batch_size=2)

    assert report.resealed == {"test_sealed_things.secret_sealed": 7}
    assert report.unreadable == {} and report.changed_meanwhile == 0
    after = _rows(table)
    assert after["row-null"] is None
    new_only, old_only = FernetSecretBox([KEY_NEW]), FernetSecretBox([KEY_OLD])
    for row_id, plaintext in plaintexts.items():
        assert after[row_id] != before[row_id]
        assert new_only.open(after[row_id] or "", context=f"test:t1:{row_id}") == plaintext
        with pytest.raises(SecretUnreadable):
            old_only.open(after[row_id] or "", context=f"test:t1:{row_id}")


def test_a_value_moved_to_another_row_is_reported_by_key_and_left_untouched(table: Engine) -> None:
    _seed(table, FernetSecretBox([KEY_OLD]), 3)
    moved = _rows(table)["row-000"]
    with table.begin() as connection:
        connection.execute(things.update().where(things.c.id == "row-001").values(secret_sealed=moved))

    report = rotate_sealed_columns(table, FernetSecretBox([KEY_NEW, KEY_OLD]), [COLUMN])

    assert report.resealed == {"test_sealed_things.secret_sealed": 2}
    assert report.unreadable == {"test_sealed_things.secret_sealed": ["row-001"]}
    assert _rows(table)["row-001"] == moved


def test_the_registry_lists_columns_of_real_tables() -> None:
    from adapters.db.modules import metadata

    for column in SEALED_COLUMNS:
        assert metadata.tables[column.table.name] is column.table
        assert column.key_column in column.table.c and column.sealed_column in column.table.c


def test_istmo_secrets_rotate_reseals_and_prints_counts_never_a_secret(
    migrated: Cli, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(migrated.database_url)
    _metadata.create_all(engine)
    plaintexts = _seed(engine, FernetSecretBox([KEY_OLD]), 3)
    monkeypatch.setattr(sealed_registry, "SEALED_COLUMNS", [COLUMN])
    monkeypatch.setenv("ISTMO_SECRET_KEYS", f"{KEY_NEW},{KEY_OLD}")

    result = migrated.ok("secrets", "rotate")

    assert json.loads(result.stdout) == {
        "resealed": {"test_sealed_things.secret_sealed": 3}, "unreadable": {}, "changedMeanwhile": 0,
    }
    for secret in [*plaintexts.values(), KEY_NEW, KEY_OLD]:
        assert secret not in result.output
    new_only = FernetSecretBox([KEY_NEW])
    for row_id, sealed in _rows(engine).items():
        if row_id != "row-null":
            assert new_only.open(sealed or "", context=f"test:t1:{row_id}") == plaintexts[row_id]

    # A key list that opens nothing: every row reported, exit status 1, rows untouched.
    before = _rows(engine)
    monkeypatch.setenv("ISTMO_SECRET_KEYS", generate_key())
    failed = migrated("secrets", "rotate")
    assert failed.exit_code == 1
    assert json.loads(failed.stdout)["unreadable"] == {"test_sealed_things.secret_sealed": sorted(plaintexts)}
    assert "open with none of the keys" in failed.stderr
    assert _rows(engine) == before
    engine.dispose()


def test_istmo_secrets_new_key_prints_a_usable_key(cli: Cli) -> None:  # noqa: F811
    key = cli.ok("secrets", "new-key").stdout.strip()

    box = FernetSecretBox([key])
    assert box.open(box.seal("x", context="c"), context="c") == "x"


def test_the_container_builds_one_secret_box_from_the_settings_keys(make_service) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import TEST_SECRET_KEY

    container = make_service().container
    box = container.secret_box()

    assert container.secret_box() is box
    sealed = box.seal("s3cr3t", context="c")
    assert FernetSecretBox([TEST_SECRET_KEY]).open(sealed, context="c") == "s3cr3t"
