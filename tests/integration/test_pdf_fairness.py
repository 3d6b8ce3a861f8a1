"""One tenant cannot take the PDF pool (issue 19, item 4), with the real renderer behind the API:
tenant A's previews of a template that loops without output hold one of two workers and queue
up to their cap, the next one is RENDER_BUSY at once, and tenant B's invoice renders meanwhile."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

from dependency_injector import providers

from adapters.pdf.pool import SLOW_NICE
from adapters.pdf.weasyprint import RendererSettings, WeasyPrintPdfRenderer
from entrypoints.config import Variables
from tests.integration.test_api_pdf import PREVIEW, RENDER_INVOICE, create_client, create_invoice, run

LOOP = "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}"


def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 120
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.02)


def test_a_tenants_slow_previews_leave_a_worker_to_other_tenants(make_service: Any) -> None:
    api = make_service()
    # the slow previews run until the renderer is closed below, far inside this time limit
    renderer = WeasyPrintPdfRenderer(RendererSettings(processes=2, timeout=600, tenant_waiting=2))
    api.container.pdf.pdf_renderer.override(providers.Object(renderer))
    acme, globex = api.headers("acme"), api.headers("globex")
    share, a = renderer.fair_share, api.tenant("acme")
    invoice = create_invoice(api, globex, create_client(api, globex))
    renderer.start()
    answers: list[dict[str, Any]] = []

    def preview() -> None:
        answers.append(run(api, acme, PREVIEW, "previewPdfTemplate", documentType="INVOICE",
                           template={"customBodyTemplate": LOOP}))

    previews = [threading.Thread(target=preview, daemon=True) for _ in range(3)]
    try:
        for thread in previews:
            thread.start()
        _until(lambda: (share.running(a), share.queued(a)) == (1, 2), "one preview running, two waiting")
        one_past = run(api, acme, PREVIEW, "previewPdfTemplate", documentType="INVOICE",
                       template={"customBodyTemplate": LOOP})
        assert one_past["error"]["code"] == "RENDER_BUSY", one_past
        assert "1 PDF renders running and 2 waiting; try again" in one_past["error"]["message"]

        rendered = run(api, globex, RENDER_INVOICE, "renderInvoicePdf", invoiceId=invoice["id"])
        assert rendered["error"] is None and rendered["file"]["mime"] == "application/pdf", rendered
        assert (share.running(a), share.queued(a)) == (1, 2)  # A's previews were still going meanwhile
        assert answers == []
    finally:
        renderer.close()  # kills the looping workers: A's previews end as render failures
        for thread in previews:
            thread.join(120)
    # the one running was killed, the waiting ones found the renderer closed: every preview ends as a
    # render failure (which of the two codes the killed one reads depends on when the kill lands)
    assert not any(thread.is_alive() for thread in previews)
    assert len(answers) == 3, answers
    assert {answer["error"]["code"] for answer in answers} <= {"RENDER_FAILED", "RENDER_LIMIT"}, answers


def test_the_container_reads_the_tenant_share_variables(make_service: Any) -> None:
    api = make_service(pdf_processes=4, variables=Variables({"ISTMO_PDF_TENANT_RENDERS": "3", "ISTMO_PDF_TENANT_WAITING": "0"}))
    share = api.container.pdf.pdf_renderer().fair_share
    assert (share.slots, share.share, share.waiting) == (4, 3, 0)
    default = make_service(pdf_processes=4).container.pdf.pdf_renderer().fair_share
    assert (default.slots, default.share, default.waiting) == (4, 2, 2)


HEAVY = "{% for i in range(3000) %}{% for j in range(300) %}{% endfor %}{% endfor %}<p>listo</p>"


def test_a_slow_render_yields_the_cpu_and_its_worker_is_replaced_after_it() -> None:
    from application.pdf.documents import PdfLayout, sample_invoice

    with WeasyPrintPdfRenderer(RendererSettings(processes=1, timeout=600, slow_after=0.01)) as renderer:
        renderer.start()
        [before] = renderer.worker_pids()
        assert os.getpriority(os.PRIO_PROCESS, before) == 0
        seen: list[int] = []

        def watch() -> None:  # the worker's nice value while the heavy render runs
            while not done.is_set():
                try:
                    seen.append(os.getpriority(os.PRIO_PROCESS, before))
                except OSError:
                    return
                time.sleep(0.005)

        done = threading.Event()
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        result = renderer.render_job(sample_invoice(), PdfLayout(custom_body_template=HEAVY), {}, tenant_id="A")
        done.set()
        watcher.join(30)
        assert result.pid == before and result.value.startswith(b"%PDF-")
        assert SLOW_NICE in seen  # it ran niced
        [after] = renderer.worker_pids()
        assert after != before and os.getpriority(os.PRIO_PROCESS, after) == 0  # a fresh worker at full priority


def test_without_slow_after_a_slow_render_keeps_its_worker() -> None:
    from application.pdf.documents import PdfLayout, sample_invoice

    with WeasyPrintPdfRenderer(RendererSettings(processes=1, timeout=600, slow_after=None)) as renderer:
        renderer.start()
        [before] = renderer.worker_pids()
        renderer.render(sample_invoice(), PdfLayout(custom_body_template=HEAVY), {})
        assert renderer.worker_pids() == [before] and os.getpriority(os.PRIO_PROCESS, before) == 0
