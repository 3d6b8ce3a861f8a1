"""The signing page in a real browser (Debian's Chromium driven by Playwright): open the link,
draw on the canvas with the mouse, consent, sign; then the sealed PDF is checked by pyHanko.
Skipped, with the reason, where Chromium is not installed (``make test`` installs it as root)."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.integration.signatures_support import (
    FOR_ENTITY,
    SEND_EMAIL,
    build,
    file_bytes,
    invoice,
    later,
    ok,
    pyhanko_status,
    run_jobs,
)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(
    shutil.which("chromium") is None, reason="Chromium is not installed (apt-get install chromium, as root)"
)


@pytest.fixture
def served(make_service: Any, weasyprint_renderer: Any) -> Iterator[tuple[Any, Any, str]]:
    service, clock = build(make_service, weasyprint_renderer)
    server = make_server("127.0.0.1", 0, service.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield service, clock, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_recipient_draws_a_signature_in_chromium_and_the_sealed_pdf_verifies(served: Any) -> None:
    from playwright.sync_api import sync_playwright

    service, clock, base = served
    acme = service.headers("acme")
    entity, _ = invoice(service, acme)
    sent = ok(service, acme, SEND_EMAIL, "sendSignatureApprovalEmail", entity=entity, email="cliente@cumbres.com.pa",
              name="María Cumbres")
    url = base + sent["link"][len("http://localhost"):]
    violations: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone-sized screen
            page.on("console", lambda message: violations.append(message.text)
                    if "Content Security Policy" in message.text else None)
            page.goto(url)
            page.wait_for_load_state("networkidle")  # the PDF's frame too: nothing moves under the taps
            assert page.locator("h1").inner_text() == "Firma de documento"
            box = page.locator("#pad").bounding_box()
            assert box is not None and box["width"] <= 390
            page.mouse.move(box["x"] + 20, box["y"] + box["height"] / 2)
            page.mouse.down()
            for step in range(1, 30):
                page.mouse.move(box["x"] + 20 + step * 10, box["y"] + box["height"] / 2 + (15 if step % 2 else -15))
            page.mouse.up()
            page.locator("#consent").scroll_into_view_if_needed()  # before the tap: the page is taller than the screen
            page.locator("#consent").check()
            page.locator("#sign").click()
            page.wait_for_selector("#state")
            assert page.locator("#state").get_attribute("data-state") == "SIGNED"
        finally:
            browser.close()
    assert violations == []
    later(clock, seconds=5)
    run_jobs(service)
    found = ok(service, acme, FOR_ENTITY, "getSignaturesForEntity", t="INVOICE", i=entity["entityId"])
    (signature,) = found["signatures"]
    assert signature["imageFileId"] is not None and signature["typedName"] is None  # the drawing, not a name
    sealed = file_bytes(service, service.tenant("acme"), found["sealedFile"]["sha256"])
    status = pyhanko_status(sealed)
    assert status.intact and status.valid and status.trusted and b"/IstmoSig0" in sealed
