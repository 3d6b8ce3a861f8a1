"""``Settings.from_env``: the embedded defaults, dev secrets, and refusals that name the variable."""

from __future__ import annotations

import os
import stat
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.secrets.fernet import generate_key, valid_key
from entrypoints.config import ConfigurationError, Settings, parse_duration

KEY = "YJ4oQ9bX2tN7vR1cW5zL8kP3mF6hS0dG4aE7uB2nT9s="  # a Fernet key for these tests only

MiB = 1 << 20


def settings(data_dir: Path, **variables: str) -> Settings:
    """Settings from exactly these variables (the process environment plays no part)."""
    return Settings.from_env({"ISTMO_DATA_DIR": str(data_dir), **{f"ISTMO_{k}": v for k, v in variables.items()}})


def refused(data_dir: Path, **variables: str) -> str:
    with pytest.raises(ConfigurationError) as error:
        settings(data_dir, **variables)
    return str(error.value)


# --- defaults ----------------------------------------------------------------------------


def test_the_defaults_run_on_one_machine_sqlite_and_local_files_under_the_data_dir(tmp_path: Path) -> None:
    config = settings(tmp_path)

    assert config.env == "dev" and not config.production
    assert config.data_dir == tmp_path.resolve()
    assert config.database_url == f"sqlite:///{tmp_path.resolve() / 'istmo.db'}"
    assert config.storage == "local"
    assert config.files_dir == tmp_path.resolve() / "files"
    assert config.max_upload_bytes == 50 * MiB
    assert config.tmp_file_ttl == timedelta(hours=24)
    assert config.files_gc_grace == timedelta(hours=1)
    assert config.jwks_url is None
    assert config.jwt_secret and config.signing_secret


def test_without_a_data_dir_everything_lives_under_var_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    config = Settings.from_env({})

    assert config.data_dir == tmp_path.resolve() / "var"
    assert config.database_url == f"sqlite:///{tmp_path.resolve() / 'var' / 'istmo.db'}"
    assert config.files_dir == tmp_path.resolve() / "var" / "files"
    assert (tmp_path / "var" / "jwt-secret").is_file()


def test_empty_variables_count_as_unset(tmp_path: Path) -> None:
    config = settings(tmp_path, STORAGE="", ENV="", DATABASE_URL="", TMP_FILE_TTL="")

    assert config.storage == "local" and config.env == "dev"
    assert config.database_url.startswith("sqlite:///")
    assert config.tmp_file_ttl == timedelta(hours=24)


def test_explicit_values_are_taken(tmp_path: Path) -> None:
    config = settings(
        tmp_path,
        DATABASE_URL="postgresql+psycopg://istmo@db/istmo",
        FILES_DIR=str(tmp_path / "elsewhere"),
        MAX_UPLOAD_BYTES="1048576",
        TMP_FILE_TTL="30m",
        FILES_GC_GRACE="0s",
        PUBLIC_URL="https://istmo.example.pa/",
        ENV="DEV",
        LOG_LEVEL="debug",
        GRAPHQL_MAX_DEPTH="8",
    )

    assert config.database_url == "postgresql+psycopg://istmo@db/istmo"
    assert config.files_dir == tmp_path / "elsewhere"
    assert config.max_upload_bytes == MiB
    assert config.tmp_file_ttl == timedelta(minutes=30)
    assert config.files_gc_grace == timedelta(0)
    assert config.public_url == "https://istmo.example.pa"
    assert config.env == "dev" and config.log_level == "DEBUG" and config.graphql_max_depth == 8


# --- dev secrets --------------------------------------------------------------------------


@pytest.mark.parametrize(("file_name", "field"), [("jwt-secret", "jwt_secret"), ("signing-secret", "signing_secret")])
def test_a_dev_secret_is_generated_once_into_the_data_dir_readable_by_its_owner_only(
    tmp_path: Path, file_name: str, field: str
) -> None:
    first = settings(tmp_path)
    path = tmp_path / file_name

    secret = getattr(first, field)
    assert path.read_text().strip() == secret
    assert len(secret) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    second = settings(tmp_path)
    assert getattr(second, field) == secret, "the same secret on every start"
    assert getattr(settings(tmp_path / "another"), field) != secret, "a new data dir, a new secret"


def test_the_two_dev_secrets_differ(tmp_path: Path) -> None:
    config = settings(tmp_path)

    assert config.jwt_secret != config.signing_secret


def test_secrets_from_the_environment_win_and_nothing_is_written(tmp_path: Path) -> None:
    config = settings(tmp_path, JWT_SECRET="from-the-environment", SIGNING_SECRET="also-from-it")

    assert config.jwt_secret == "from-the-environment" and config.signing_secret == "also-from-it"
    assert not (tmp_path / "jwt-secret").exists() and not (tmp_path / "signing-secret").exists()


def test_with_a_jwks_url_no_hmac_secret_is_made(tmp_path: Path) -> None:
    config = settings(tmp_path, JWKS_URL="https://api.workos.com/sso/jwks/client_123")

    assert config.jwks_url == "https://api.workos.com/sso/jwks/client_123"
    assert config.jwt_secret is None
    assert not (tmp_path / "jwt-secret").exists()


def test_an_empty_dev_secret_file_never_yields_an_empty_secret(tmp_path: Path) -> None:
    # The state another process leaves for an instant: the file created, the secret not yet written.
    (tmp_path / "jwt-secret").touch(mode=0o600)
    (tmp_path / "signing-secret").touch(mode=0o600)

    try:
        config = settings(tmp_path)
    except ConfigurationError as error:
        assert "secret" in str(error)
        return
    assert config.jwt_secret and config.signing_secret


# --- production -----------------------------------------------------------------------------

JWT = "j" * 32
SIGNING = "s" * 40


def test_production_refuses_to_start_without_the_jwt_secret(tmp_path: Path) -> None:
    message = refused(tmp_path, ENV="production", SIGNING_SECRET=SIGNING)

    assert "ISTMO_JWT_SECRET" in message
    assert not (tmp_path / "jwt-secret").exists(), "production never generates a secret"


def test_production_refuses_to_start_without_the_signing_secret(tmp_path: Path) -> None:
    message = refused(tmp_path, ENV="production", JWT_SECRET=JWT)

    assert "ISTMO_SIGNING_SECRET" in message
    assert not (tmp_path / "signing-secret").exists()


def test_production_with_a_jwks_url_needs_no_jwt_secret_but_still_the_signing_secret(tmp_path: Path) -> None:
    jwks = "https://api.workos.com/sso/jwks/client_123"
    assert "ISTMO_SIGNING_SECRET" in refused(tmp_path, ENV="production", JWKS_URL=jwks)

    config = settings(tmp_path, ENV="production", JWKS_URL=jwks, SIGNING_SECRET=SIGNING, SECRET_KEYS=KEY)

    assert config.production and config.jwt_secret is None and config.signing_secret == SIGNING
    assert list(tmp_path.iterdir()) == []


def test_production_with_both_secrets_starts(tmp_path: Path) -> None:
    config = settings(tmp_path, ENV="production", JWT_SECRET=JWT, SIGNING_SECRET=SIGNING, SECRET_KEYS=KEY)

    assert config.production and config.jwt_secret == JWT and config.signing_secret == SIGNING
    assert config.secret_keys == (KEY,)


# --- ISTMO_SECRET_KEYS (the SecretBox) -------------------------------------------------------


def test_production_refuses_to_start_without_secret_keys_and_generates_none(tmp_path: Path) -> None:
    message = refused(tmp_path, ENV="production", JWT_SECRET=JWT, SIGNING_SECRET=SIGNING)

    assert "ISTMO_SECRET_KEYS" in message
    assert not (tmp_path / "secret-keys").exists()


def test_a_dev_secret_key_is_generated_once_into_the_data_dir_readable_by_its_owner_only(tmp_path: Path) -> None:
    first = settings(tmp_path)

    path = tmp_path / "secret-keys"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.secret_keys == (path.read_text().strip(),) and valid_key(first.secret_keys[0])
    assert settings(tmp_path).secret_keys == first.secret_keys, "the same key on every start"
    assert settings(tmp_path / "another").secret_keys != first.secret_keys


def test_secret_keys_from_the_environment_are_comma_separated_the_first_primary(tmp_path: Path) -> None:
    other = generate_key()

    config = settings(tmp_path, SECRET_KEYS=f" {KEY} , {other},")

    assert config.secret_keys == (KEY, other)
    assert not (tmp_path / "secret-keys").exists()


@pytest.mark.parametrize(
    "raw", ["not-a-fernet-key", f"{KEY},short", ",", f"{KEY},{KEY}"], ids=["garbage", "short", "empty", "twice"]
)
def test_bad_secret_keys_are_refused_by_name_without_echoing_them(tmp_path: Path, raw: str) -> None:
    message = refused(tmp_path, SECRET_KEYS=raw)

    assert "ISTMO_SECRET_KEYS" in message
    assert "not-a-fernet-key" not in message and KEY not in message and "short" not in message


# --- bad values, each refused by name -----------------------------------------------------------


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"STORAGE": "ftp"}, "ISTMO_STORAGE"),
        ({"ENV": "staging"}, "ISTMO_ENV"),
        ({"TMP_FILE_TTL": "tomorrow"}, "ISTMO_TMP_FILE_TTL"),
        ({"TMP_FILE_TTL": "-1h"}, "ISTMO_TMP_FILE_TTL"),
        ({"FILES_GC_GRACE": "1w"}, "ISTMO_FILES_GC_GRACE"),
        ({"FILES_GC_GRACE": "1.5h"}, "ISTMO_FILES_GC_GRACE"),
        ({"MAX_UPLOAD_BYTES": "50MB"}, "ISTMO_MAX_UPLOAD_BYTES"),
        ({"MAX_UPLOAD_BYTES": "1e6"}, "ISTMO_MAX_UPLOAD_BYTES"),
        ({"GRAPHQL_MAX_DEPTH": "deep"}, "ISTMO_GRAPHQL_MAX_DEPTH"),
        ({"GRAPHQL_MAX_TOKENS": "many"}, "ISTMO_GRAPHQL_MAX_TOKENS"),
        ({"GRAPHQL_MAX_COST": "1,000"}, "ISTMO_GRAPHQL_MAX_COST"),
        ({"PDF_PROCESSES": "0"}, "ISTMO_PDF_PROCESSES"),
        ({"PDF_PROCESSES": "all"}, "ISTMO_PDF_PROCESSES"),
        ({"PDF_TIMEOUT": "0s"}, "ISTMO_PDF_TIMEOUT"),
        ({"PDF_TIMEOUT": "1.5s"}, "ISTMO_PDF_TIMEOUT"),
        ({"PDF_MEMORY_MB": "768MB"}, "ISTMO_PDF_MEMORY_MB"),
    ],
)
def test_a_bad_value_is_refused_with_a_message_naming_the_variable(
    tmp_path: Path, variables: dict[str, str], named: str
) -> None:
    message = refused(tmp_path, **variables)

    assert named in message
    assert repr(next(iter(variables.values()))) in message, "the message quotes what was given"


def test_a_bad_log_format_is_refused_naming_the_variable(tmp_path: Path) -> None:
    assert "ISTMO_LOG_FORMAT must be auto, json or console" in refused(tmp_path, LOG_FORMAT="xml")


@pytest.mark.parametrize("name", ["MAX_UPLOAD_BYTES", "GRAPHQL_MAX_DEPTH", "GRAPHQL_MAX_TOKENS", "GRAPHQL_MAX_COST"])
def test_a_size_or_limit_that_is_not_positive_is_refused(tmp_path: Path, name: str) -> None:
    assert f"ISTMO_{name}" in refused(tmp_path, **{name: "-1"})


def test_s3_without_a_bucket_is_refused(tmp_path: Path) -> None:
    message = refused(tmp_path, STORAGE="s3")

    assert "ISTMO_S3_BUCKET" in message


def test_s3_with_a_bucket_is_configured_from_its_variables(tmp_path: Path) -> None:
    config = settings(
        tmp_path,
        STORAGE="S3",
        S3_BUCKET="istmo-files",
        S3_ENDPOINT_URL="https://nyc3.digitaloceanspaces.com",
        S3_REGION="nyc3",
        S3_ACCESS_KEY="key",
        S3_SECRET_KEY="secret",
        S3_PATH_STYLE="true",
        S3_PREFIX="prod/",
    )

    assert config.storage == "s3" and config.s3_bucket == "istmo-files"
    assert config.s3_endpoint_url == "https://nyc3.digitaloceanspaces.com" and config.s3_region == "nyc3"
    assert (config.s3_access_key, config.s3_secret_key) == ("key", "secret")
    assert config.s3_path_style is True and config.s3_prefix == "prod/"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("90", 90), ("90s", 90), ("30m", 1800), ("8h", 8 * 3600), ("7d", 7 * 86400), (" 8h ", 8 * 3600), ("0s", 0)],
)
def test_durations_are_seconds_minutes_hours_or_days(text: str, expected: int) -> None:
    assert parse_duration(text, name="X") == timedelta(seconds=expected)


# --- the PDF renderer ---------------------------------------------------------------------------


def test_the_pdf_renderer_defaults_to_one_worker_per_cpu_30_seconds_and_768_mb(tmp_path: Path) -> None:
    config = settings(tmp_path)

    assert (config.pdf_processes, config.pdf_timeout, config.pdf_memory_mb) == (
        os.cpu_count() or 1, timedelta(seconds=30), 768,
    )

    config = settings(tmp_path, PDF_PROCESSES="3", PDF_TIMEOUT="2m", PDF_MEMORY_MB="512")

    assert (config.pdf_processes, config.pdf_timeout, config.pdf_memory_mb) == (3, timedelta(minutes=2), 512)


def test_the_container_builds_the_renderer_from_the_settings_without_starting_workers(tmp_path: Path) -> None:
    from adapters.pdf.weasyprint import WeasyPrintPdfRenderer
    from entrypoints.container import build_container

    base = settings(tmp_path, PDF_PROCESSES="2", PDF_TIMEOUT="45s", PDF_MEMORY_MB="256")
    container = build_container(replace(base, log_format="json", log_level="WARNING"))
    try:
        renderer = container.pdf.pdf_renderer()
        assert isinstance(renderer, WeasyPrintPdfRenderer)
        assert (renderer.settings.processes, renderer.settings.timeout, renderer.settings.memory_limit_mb) == (2, 45.0, 256)
        assert renderer.worker_pids() == [], "workers start on the first render, not with the container"
    finally:
        container.shutdown_resources()
    assert container.pdf.pdf_renderer.initialized is False


# --- the job runner -----------------------------------------------------------------------------


def test_the_job_runner_defaults_to_8_attempts_a_5_minute_lease_and_4_threads(tmp_path: Path) -> None:
    config = settings(tmp_path)
    assert (config.job_max_attempts, config.job_lease, config.worker_concurrency) == (
        8, timedelta(minutes=5), 4,
    )
    config = settings(tmp_path, JOB_MAX_ATTEMPTS="3", JOB_LEASE="90s", WORKER_CONCURRENCY="16")
    assert (config.job_max_attempts, config.job_lease, config.worker_concurrency) == (
        3, timedelta(seconds=90), 16,
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("JOB_MAX_ATTEMPTS", "0", "ISTMO_JOB_MAX_ATTEMPTS must be at least 1"),
        ("JOB_LEASE", "0s", "ISTMO_JOB_LEASE must be longer than 0s"),
        ("JOB_LEASE", "soon", "ISTMO_JOB_LEASE must be a duration"),
        ("WORKER_CONCURRENCY", "four", "ISTMO_WORKER_CONCURRENCY must be a whole number"),
    ],
)
def test_bad_job_runner_settings_are_refused_naming_the_variable(
    tmp_path: Path, name: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        settings(tmp_path, **{name: value})


def test_the_container_builds_the_worker_from_the_settings(tmp_path: Path) -> None:
    from entrypoints.container import build_container

    base = settings(tmp_path, JOB_MAX_ATTEMPTS="5", JOB_LEASE="2m", WORKER_CONCURRENCY="3")
    container = build_container(replace(base, log_format="json", log_level="WARNING"))
    try:
        worker = container.worker()
        assert (worker._concurrency, worker._lease, worker._policy.max_attempts) == (3, timedelta(minutes=2), 5)
        schedules = {s.kind: s.interval for s in worker._schedules}
        assert sorted(schedules) == [
            "aurinko.sync_all", "deliveries.sweep", "files.gc", "pac.poll", "quickbooks.cdc_all",
            "signatures.stamp_chain_heads",
        ]
        assert schedules["aurinko.sync_all"] == timedelta(minutes=5)  # ISTMO_AURINKO_SYNC_EVERY
        assert container.core.uow_factory(None)._job_max_attempts == 5
    finally:
        container.shutdown_resources()


# --- ISTMO_AURINKO_* ---------------------------------------------------------------------------


def test_aurinko_defaults_point_at_aurinko_and_leave_it_unconfigured(tmp_path: Path) -> None:
    config = settings(tmp_path)

    assert config.aurinko_base_url == "https://api.aurinko.io"
    assert config.aurinko_client_id is None and config.aurinko_client_secret is None
    assert config.aurinko_signing_secret is None
    assert config.aurinko_callback_url == "http://127.0.0.1:8000/integrations/aurinko/callback"
    assert config.aurinko_sync_every == timedelta(minutes=5) and config.aurinko_sync_days == 30


def test_aurinko_values_are_taken(tmp_path: Path) -> None:
    config = settings(
        tmp_path, AURINKO_BASE_URL="http://127.0.0.1:9999/", AURINKO_CLIENT_ID="cid", AURINKO_CLIENT_SECRET="cs",
        AURINKO_RETURN_URL="https://app.istmo.pa/aurinko", AURINKO_SYNC_EVERY="2m", AURINKO_SYNC_DAYS="7",
    )

    assert config.aurinko_base_url == "http://127.0.0.1:9999"
    assert config.aurinko_callback_url == "https://app.istmo.pa/aurinko"
    assert config.aurinko_sync_every == timedelta(minutes=2) and config.aurinko_sync_days == 7


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"AURINKO_CLIENT_ID": "cid"}, "ISTMO_AURINKO_CLIENT_SECRET"),
        ({"AURINKO_CLIENT_SECRET": "very-secret-value"}, "ISTMO_AURINKO_CLIENT_ID"),
        ({"AURINKO_SYNC_EVERY": "0s"}, "ISTMO_AURINKO_SYNC_EVERY"),
        ({"AURINKO_SYNC_DAYS": "a month"}, "ISTMO_AURINKO_SYNC_DAYS"),
    ],
)
def test_bad_aurinko_values_are_refused_by_name(tmp_path: Path, variables: dict[str, str], named: str) -> None:
    message = refused(tmp_path, **variables)

    assert named in message and "very-secret-value" not in message


@pytest.mark.parametrize("name", ["JWT_SECRET", "SIGNING_SECRET"])
def test_production_refuses_a_secret_shorter_than_32_characters_and_names_it(tmp_path: Path, name: str) -> None:
    values = {"JWT_SECRET": JWT, "SIGNING_SECRET": SIGNING, name: "x" * 31}
    message = refused(tmp_path, ENV="production", SECRET_KEYS=KEY, **values)
    assert f"ISTMO_{name} must be at least 32 characters in production (it has 31)" in message
    assert "x" * 31 not in message
    config = settings(tmp_path, ENV="production", SECRET_KEYS=KEY, **{**values, name: "x" * 32})
    assert config.production
    assert settings(tmp_path, **{**values, name: "x"}).env == "dev"  # dev takes what it is given
