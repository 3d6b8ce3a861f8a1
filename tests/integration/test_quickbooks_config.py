"""The connector's own ``ISTMO_QBO_*`` variables, read by its container: defaults, values, refusals."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from entrypoints.config import ConfigurationError, Settings
from entrypoints.container import build_container


def container_of(tmp_path: Path, **variables: str) -> object:
    env = {"ISTMO_DATA_DIR": str(tmp_path), "ISTMO_LOG_FORMAT": "json", "ISTMO_LOG_LEVEL": "WARNING",
           **{f"ISTMO_{name}": value for name, value in variables.items()}}
    return build_container(Settings.from_env(env))


def test_the_defaults_point_at_intuit_and_leave_it_unconfigured(tmp_path: Path) -> None:
    container = container_of(tmp_path)
    try:
        services = container.quickbooks  # type: ignore[attr-defined]
        assert services.quickbooks_policy().configured is False
        assert services.quickbooks_api().base_url == "https://quickbooks.api.intuit.com"
        assert services.webhook_verifier() is None
        assert services.quickbooks_gate().per_minute == 500 and services.quickbooks_gate().concurrency == 10
        schedules = {s.kind: s.interval for s in container.worker()._schedules}  # type: ignore[attr-defined]
        assert schedules["quickbooks.cdc_all"] == timedelta(minutes=15)
    finally:
        container.shutdown_resources()  # type: ignore[attr-defined]


def test_values_are_taken(tmp_path: Path) -> None:
    container = container_of(
        tmp_path, QBO_CLIENT_ID="id", QBO_CLIENT_SECRET="secret", QBO_ENVIRONMENT="sandbox", QBO_CDC_EVERY="2m",
        QBO_REQUESTS_PER_MINUTE="100", QBO_CONCURRENCY="3", QBO_WEBHOOK_VERIFIER="v",
    )
    try:
        services = container.quickbooks  # type: ignore[attr-defined]
        assert services.quickbooks_policy().configured is True
        assert services.quickbooks_api().base_url == "https://sandbox-quickbooks.api.intuit.com"
        assert (services.quickbooks_gate().per_minute, services.quickbooks_gate().concurrency) == (100, 3)
        assert services.webhook_verifier() is not None
        schedules = {s.kind: s.interval for s in container.worker()._schedules}  # type: ignore[attr-defined]
        assert schedules["quickbooks.cdc_all"] == timedelta(minutes=2)
    finally:
        container.shutdown_resources()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"QBO_CLIENT_ID": "only-the-id"}, "ISTMO_QBO_CLIENT_ID and ISTMO_QBO_CLIENT_SECRET go together"),
        ({"QBO_ENVIRONMENT": "staging"}, "ISTMO_QBO_ENVIRONMENT must be production, sandbox or a discovery"),
        ({"QBO_CONCURRENCY": "0"}, "ISTMO_QBO_CONCURRENCY must be at least 1"),
        ({"QBO_REQUESTS_PER_MINUTE": "５００"}, "ISTMO_QBO_REQUESTS_PER_MINUTE must be a whole number"),
        ({"QBO_CDC_EVERY": "soon"}, "ISTMO_QBO_CDC_EVERY must be a duration"),
    ],
)
def test_bad_values_are_refused_by_name(tmp_path: Path, variables: dict[str, str], named: str) -> None:
    container = container_of(tmp_path, **variables)
    try:
        with pytest.raises(ConfigurationError, match=named):
            container.service()  # type: ignore[attr-defined]
            container.quickbooks.webhook_verifier()  # type: ignore[attr-defined]
    finally:
        container.shutdown_resources()  # type: ignore[attr-defined]
