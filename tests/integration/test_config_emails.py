"""The emails configuration: defaults that send nothing (the local outbox), and clear refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.db.migrate import upgrade
from adapters.email.chooser import TenantEmailSenders
from adapters.email.outbox import LocalOutboxEmailSender
from adapters.email.smtp import SmtpEmailSender
from entrypoints.config import ConfigurationError, Settings
from entrypoints.container import build_container


def settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"ISTMO_DATA_DIR": str(tmp_path), **{f"ISTMO_{k}": v for k, v in env.items()}})


def test_by_default_every_tenant_writes_to_the_local_outbox_under_the_data_dir(tmp_path: Path) -> None:
    config = settings(tmp_path)
    assert (config.smtp_url, config.email_from, config.outbox_dir) == (None, "no-reply@istmo.example.com", None)
    container = build_container(config)
    try:
        upgrade(container.engine())  # the chooser reads the tenant's own settings first
        senders = container.emails.email_senders()
        assert isinstance(senders, TenantEmailSenders)
        outbox = senders.for_tenant("3f1d7e8a-0000-4000-8000-00000000000a")
        assert isinstance(outbox, LocalOutboxEmailSender)
        assert outbox.folder("t-1") == tmp_path.resolve() / "outbox" / "t-1"
        assert container.emails.email_policy().message_id_domain == "istmo.example.com"
    finally:
        container.shutdown_resources()


def test_an_instance_smtp_url_is_used_by_every_tenant(tmp_path: Path) -> None:
    config = settings(
        tmp_path, SMTP_URL="smtps://bot:pw@mail.acme.com.pa", EMAIL_FROM="Facturas@Acme.com.pa", OUTBOX_DIR=str(tmp_path / "o")
    )
    assert config.outbox_dir == tmp_path / "o" and config.email_from == "Facturas@acme.com.pa"
    container = build_container(config)
    try:
        upgrade(container.engine())
        assert isinstance(container.emails.email_senders().for_tenant("t-1"), SmtpEmailSender)
        assert container.emails.email_policy().message_id_domain == "acme.com.pa"
    finally:
        container.shutdown_resources()


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SMTP_URL": "http://bot:hunter2-secret@mail.acme.pa"}, "ISTMO_SMTP_URL"),
        ({"SMTP_URL": "smtp://bot:hunter2-secret@mail.acme.pa?tls=maybe"}, "ISTMO_SMTP_URL"),
        ({"EMAIL_FROM": "not an address"}, "ISTMO_EMAIL_FROM"),
    ],
)
def test_bad_email_settings_are_refused_naming_the_variable_without_the_password(
    tmp_path: Path, env: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigurationError) as error:
        settings(tmp_path, **env)
    assert named in str(error.value) and "hunter2-secret" not in str(error.value)
