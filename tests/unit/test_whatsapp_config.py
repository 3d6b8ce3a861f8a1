"""``ISTMO_WHATSAPP_GRAPH_URL``: the Graph API's base URL and version, pinned by default."""

from __future__ import annotations

import pytest

from entrypoints.config import ConfigurationError, Settings


def test_the_default_is_the_pinned_graph_version(tmp_path: object) -> None:
    settings = Settings.from_env({"ISTMO_DATA_DIR": str(tmp_path)})
    assert settings.whatsapp_graph_url == "https://graph.facebook.com/v23.0"


def test_it_can_point_elsewhere_and_a_trailing_slash_is_dropped(tmp_path: object) -> None:
    settings = Settings.from_env({"ISTMO_DATA_DIR": str(tmp_path), "ISTMO_WHATSAPP_GRAPH_URL": "http://127.0.0.1:9/v24.0/"})
    assert settings.whatsapp_graph_url == "http://127.0.0.1:9/v24.0"


@pytest.mark.parametrize("value", ["graph.facebook.com", "ftp://x", "https://"])
def test_a_value_that_is_not_an_http_url_is_refused(tmp_path: object, value: str) -> None:
    with pytest.raises(ConfigurationError, match="ISTMO_WHATSAPP_GRAPH_URL"):
        Settings.from_env({"ISTMO_DATA_DIR": str(tmp_path), "ISTMO_WHATSAPP_GRAPH_URL": value})
