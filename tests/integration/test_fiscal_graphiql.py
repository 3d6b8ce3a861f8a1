"""Issue 18: GraphiQL is served by the service from its own files (the npm packages' builds,
see src/entrypoints/http/graphiql/SOURCES.txt), under a Content-Security-Policy that lets the
page load nothing but this service's files. Checked with Flask's test client (every asset the
page names is same-origin and served; the policy) and in Debian's Chromium, where the explorer
runs ``{ me { tenantId } }`` with no other origin reachable."""

from __future__ import annotations

import json
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from entrypoints.http.graphql import EXPLORER_ASSETS

CHROMIUM = Path("/usr/bin/chromium")


def test_the_explorer_page_names_only_its_own_files_under_a_self_only_policy(service: Any) -> None:
    page = service.client.get("/graphql")
    assert page.status_code == 200 and page.mimetype == "text/html"
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "default-src 'none'" in policy and "connect-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy and "http" not in policy
    html = page.get_data(as_text=True)
    assert "<script>" not in html  # no inline script: every script is a file
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls and all(url.startswith("/graphql/assets/") for url in urls), urls
    for url in urls:
        asset = service.client.get(url)
        assert asset.status_code == 200, url
        assert asset.mimetype in ("text/javascript", "text/css")
        assert asset.headers["X-Content-Type-Options"] == "nosniff"
        assert b"https://esm.sh" not in asset.data and b"unpkg.com" not in asset.data
    assert {url.rsplit("/", 1)[1] for url in urls} == set(EXPLORER_ASSETS)


@pytest.mark.parametrize("name", ["SOURCES.txt", "explorer.html", "..%2Fgraphql.py", "LICENSE.react", "nope.js"])
def test_only_the_explorers_files_are_served(service: Any, name: str) -> None:
    assert service.client.get(f"/graphql/assets/{name}").status_code == 404


def test_production_serves_no_explorer_files(make_service: Any) -> None:
    production = make_service(env="production")
    assert production.client.get("/graphql/assets/graphiql.min.js").status_code == 404


@pytest.fixture
def served(service: Any) -> Iterator[tuple[str, Any]]:
    server = make_server("127.0.0.1", 0, service.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", service
    finally:
        server.shutdown()
        thread.join(timeout=10)


def _playwright() -> Any:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make test installs it when root)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed")
    return sync_playwright


def test_graphiql_runs_a_query_in_chromium_with_nothing_but_the_service(served: tuple[str, Any]) -> None:
    sync_playwright = _playwright()
    base, service = served
    token = service.headers("acme")["Authorization"]
    requested: list[str] = []
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.on("request", lambda request: requested.append(request.url))
            page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(str(error)))
            # Anything not from the service fails, as it would without a network.
            page.route(re.compile(r"^(?!" + re.escape(base) + ").*"), lambda route: route.abort())
            page.add_init_script(
                "localStorage.setItem('graphiql:query', '{ me { tenantId } }');"
                f"localStorage.setItem('graphiql:headers', {json.dumps(json.dumps({'Authorization': token}))});"
            )
            page.goto(f"{base}/graphql")
            page.locator(".graphiql-execute-button").click()
            result = page.locator(".result-window")
            result.get_by_text("tenantId").wait_for(timeout=20_000)
            shown = result.inner_text()
        finally:
            browser.close()
    assert service.tenant("acme") in shown
    assert requested and all(url.startswith(base) for url in requested), requested
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
