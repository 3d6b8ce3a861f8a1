"""The webhook settings (ISTMO_WEBHOOK_*, ISTMO_POLAR_*, ISTMO_WORKOS_*, ISTMO_PAC_*): defaults that
run with nothing configured, values read, bad ones refused naming the variable."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from entrypoints.config import ConfigurationError, Settings


def _settings(tmp_path: Path, **variables: str) -> Settings:
    return Settings.from_env({"ISTMO_DATA_DIR": str(tmp_path), **{f"ISTMO_{k}": v for k, v in variables.items()}})


def test_defaults_need_nothing_configured(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert settings.webhook_max_bytes == 1024 * 1024
    assert settings.polar_webhook_secret is None and settings.workos_webhook_secret is None
    assert settings.pac_base_url == "https://api.alanube.co" and settings.pac_api_key is None
    assert (settings.pac_signature_mode, settings.pac_poll_after, settings.pac_poll_every) == (
        "SECRET", timedelta(minutes=10), timedelta(minutes=5),
    )


def test_values_are_read(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path, WEBHOOK_MAX_BYTES="2048", POLAR_WEBHOOK_SECRET="whsec_x", WORKOS_WEBHOOK_SECRET="w",
        PAC_BASE_URL="http://127.0.0.1:9/", PAC_API_KEY="k", PAC_WEBHOOK_SECRET="s", PAC_SIGNATURE_MODE="hmac",
        PAC_POLL_AFTER="30s", PAC_POLL_EVERY="1m", PAC_TIMEOUT="3s",
    )
    assert settings.webhook_max_bytes == 2048 and settings.pac_base_url == "http://127.0.0.1:9"
    assert (settings.pac_signature_mode, settings.pac_poll_after, settings.pac_timeout_seconds) == ("HMAC", timedelta(seconds=30), 3.0)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("WEBHOOK_MAX_BYTES", "big", "ISTMO_WEBHOOK_MAX_BYTES must be a whole number"),
        ("PAC_SIGNATURE_MODE", "rsa", "ISTMO_PAC_SIGNATURE_MODE must be SECRET or HMAC"),
        ("PAC_POLL_AFTER", "0s", "ISTMO_PAC_POLL_AFTER must be longer than 0s"),
        ("PAC_POLL_EVERY", "often", "ISTMO_PAC_POLL_EVERY must be a duration"),
    ],
)
def test_bad_values_are_refused_naming_the_variable(tmp_path: Path, name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        _settings(tmp_path, **{name: value})
