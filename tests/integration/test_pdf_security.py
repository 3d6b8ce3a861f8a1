"""A hostile template or stylesheet can neither read files, reach the network, follow redirects,
nor hang or exhaust the renderer.

Every URL vector points at ``file:///etc/passwd``, at the cloud metadata address, and at a
local HTTP server that records every request it gets; it must get none. A second local server
answers everything with a redirect to ``file:///etc/passwd``; it must get no request either.
"""

from __future__ import annotations

import base64
import io
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pypdf import PdfReader

from adapters.pdf.weasyprint import RendererSettings, WeasyPrintPdfRenderer
from application.pdf.documents import PdfAsset, PdfLayout, sample_invoice
from domain.pdf.errors import RenderFailed, RenderTimeout, RenderTooLarge
from tests.integration.test_pdf_render import accelerator_wanted

PASSWD_MARKERS = ("root:", "/bin/bash", "/usr/sbin/nologin", "daemon:")


class _Recorder(BaseHTTPRequestHandler):
    hits: list[str]
    redirect_to: str | None = None

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.hits.append(self.path)
        if self.redirect_to:
            self.send_response(302)
            self.send_header("Location", self.redirect_to)
            self.end_headers()
            return
        body = b"root:x:0:0:root:/root:/bin/bash\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server:
    def __init__(self, redirect_to: str | None = None) -> None:
        self.hits: list[str] = []
        handler = type("Handler", (_Recorder,), {"hits": self.hits, "redirect_to": redirect_to})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def recorder() -> Iterator[_Server]:
    server = _Server()
    yield server
    server.close()


@pytest.fixture(scope="module")
def redirector() -> Iterator[_Server]:
    server = _Server(redirect_to="file:///etc/passwd")
    yield server
    server.close()


@pytest.fixture(scope="module")
def renderer() -> Iterator[WeasyPrintPdfRenderer]:
    settings = RendererSettings(
        processes=2, timeout=4, memory_limit_mb=256, max_html_chars=2_000_000, accelerator=accelerator_wanted()
    )
    with WeasyPrintPdfRenderer(settings) as renderer:
        renderer.start()
        yield renderer


@pytest.fixture(autouse=True)
def _no_hits(recorder: _Server, redirector: _Server) -> Iterator[None]:
    recorder.hits.clear()
    redirector.hits.clear()
    yield
    assert recorder.hits == [], f"the renderer reached the network: {recorder.hits}"
    assert redirector.hits == [], f"the renderer reached the redirecting server: {redirector.hits}"


def targets(recorder: _Server) -> list[str]:
    return [
        "file:///etc/passwd",
        "http://169.254.169.254/latest/meta-data/",
        f"{recorder.url}/leak",
        "ftp://127.0.0.1/etc/passwd",
        "https://example.com/x.css",
    ]


def render(renderer: WeasyPrintPdfRenderer, *, body: str = "", css: str | None = None) -> bytes:
    layout = PdfLayout(custom_body_template=f"<p>{{{{ doc.number }}}}</p>{body}", custom_css=css)
    return renderer.render(sample_invoice(lines=1), layout, {})


def assert_nothing_leaked(pdf: bytes) -> None:
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "FE-0000001234" in text  # the document itself did render
    for marker in PASSWD_MARKERS:
        assert marker not in text
    assert b"/EmbeddedFile" not in pdf and b"/FileAttachment" not in pdf
    for page in reader.pages:
        assert not page.images


def each(recorder: _Server, pattern: str) -> str:
    return "".join(pattern.format(url=url) for url in targets(recorder))


# --- URL vectors, one test each -----------------------------------------------------------------


def test_img(renderer: WeasyPrintPdfRenderer, recorder: _Server) -> None:
    assert_nothing_leaked(render(renderer, body=each(recorder, '<img src="{url}">')))


def test_link_stylesheet(renderer: WeasyPrintPdfRenderer, recorder: _Server) -> None:
    assert_nothing_leaked(render(renderer, body=each(recorder, '<link rel="stylesheet" href="{url}">')))


def test_css_import(renderer: WeasyPrintPdfRenderer, recorder: _Server) -> None:
    assert_nothing_leaked(render(renderer, css=each(recorder, '@import url("{url}");\n')))


def test_css_import_in_a_style_element(renderer: WeasyPrintPdfRenderer, recorder: _Server) -> None:
    assert_nothing_leaked(render(renderer, body="<style>" + each(recorder, '@import "{url}";') + "</style>"))


def test_font_face(renderer: WeasyPrintPdfRenderer, recorder: _Server) -> None:
    css = "".join(
        f'@font-face {{ font-family: "F{i}"; src: url("{url}"); }} p {{ font-family: "F{i}" }}\n'
        for i, url in enumerate(targets(recorder))
    )
    assert_nothing_leaked(render(renderer, css=css))


def test_css_background(renderer: WeasyPrintPdfRenderer, recorder: _Server) -> None:
    body = each(recorder, '<div style="background: url({url}); height: 5mm"></div>')
    css = each(recorder, "body {{ background-image: url('{url}') }}\n")
    assert_nothing_leaked(render(renderer, body=body, css=css))


def test_list_style_and_content_images(renderer: WeasyPrintPdfRenderer, recorder: _Server) -> None:
    css = each(recorder, "li {{ list-style-image: url('{url}') }} p::after {{ content: url('{url}') }}\n")
    assert_nothing_leaked(render(renderer, body="<ul><li>uno</li></ul>", css=css))


def test_object(renderer: WeasyPrintPdfRenderer, recorder: _Server) -> None:
    assert_nothing_leaked(
        render(renderer, body=each(recorder, '<object data="{url}" type="image/png"></object>'))
    )


def test_embed(renderer: WeasyPrintPdfRenderer, recorder: _Server) -> None:
    assert_nothing_leaked(render(renderer, body=each(recorder, '<embed src="{url}" type="image/png">')))


def test_iframe(renderer: WeasyPrintPdfRenderer, recorder: _Server) -> None:
    assert_nothing_leaked(render(renderer, body=each(recorder, '<iframe src="{url}"></iframe>')))


def test_svg_image(renderer: WeasyPrintPdfRenderer, recorder: _Server) -> None:
    body = each(
        recorder,
        '<svg width="20" height="20" xmlns="http://www.w3.org/2000/svg" '
        'xmlns:xlink="http://www.w3.org/1999/xlink"><image href="{url}" width="20" height="20"/>'
        '<image xlink:href="{url}" width="20" height="20"/><use href="{url}#x"/></svg>',
    )
    assert_nothing_leaked(render(renderer, body=body))


def test_svg_image_inside_a_data_uri_svg(renderer: WeasyPrintPdfRenderer, recorder: _Server) -> None:
    svg = each(recorder, '<image href="{url}" width="20" height="20"/>')
    document = f'<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20">{svg}</svg>'
    uri = "data:image/svg+xml;base64," + base64.b64encode(document.encode()).decode()
    pdf = render(renderer, body=f'<img src="{uri}">')
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "root:" not in text


def test_link_attachment(renderer: WeasyPrintPdfRenderer, recorder: _Server) -> None:
    body = each(
        recorder, '<link rel="attachment" href="{url}" title="x"><a rel="attachment" href="{url}">a</a>'
    )
    assert_nothing_leaked(render(renderer, body=body))


def test_base_href_does_not_open_relative_urls(renderer: WeasyPrintPdfRenderer, recorder: _Server) -> None:
    body = f'<base href="{recorder.url}/"><img src="passwd"><link rel="stylesheet" href="x.css">'
    assert_nothing_leaked(render(renderer, body=body))
    body = '<base href="file:///etc/"><img src="passwd"><link rel="stylesheet" href="passwd">'
    assert_nothing_leaked(render(renderer, body=body))


def test_http_redirect_to_a_file_is_not_followed(
    renderer: WeasyPrintPdfRenderer, redirector: _Server
) -> None:
    body = (
        f'<img src="{redirector.url}/logo.png"><link rel="stylesheet" href="{redirector.url}/s.css">'
        f'<link rel="attachment" href="{redirector.url}/a">'
    )
    assert_nothing_leaked(render(renderer, body=body, css=f'@import "{redirector.url}/i.css";'))


def test_an_asset_url_with_another_digest_is_refused(renderer: WeasyPrintPdfRenderer) -> None:
    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg=="
    )
    assets = {"logo": PdfAsset(name="logo", mime="image/png", data=png)}
    layout = PdfLayout(
        custom_body_template='<p>{{ doc.number }}</p><img src="istmo-asset:' + "0" * 64 + '/logo">'
        '<img src="istmo-asset:logo">'
    )
    pdf = renderer.render(sample_invoice(lines=1), layout, assets)
    assert not PdfReader(io.BytesIO(pdf)).pages[0].images
    # the same asset through its own URL is embedded
    pdf = renderer.render(
        sample_invoice(lines=1),
        PdfLayout(custom_body_template='<p>{{ doc.number }}</p><img src="{{ logo }}">'),
        assets,
    )
    assert len(PdfReader(io.BytesIO(pdf)).pages[0].images) == 1


def test_data_uris_are_allowed(renderer: WeasyPrintPdfRenderer) -> None:
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg=="
    pdf = render(renderer, body=f'<img src="data:image/png;base64,{png}" style="width: 5mm">')
    assert len(PdfReader(io.BytesIO(pdf)).pages[0].images) == 1


# --- limits: time, output size, memory, nesting -------------------------------------------------


def assert_pool_still_works(renderer: WeasyPrintPdfRenderer) -> None:
    pdf = renderer.render(sample_invoice(lines=2), PdfLayout(), {})
    assert "FE-0000001234" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


def test_an_endless_loop_is_stopped_by_the_timeout(renderer: WeasyPrintPdfRenderer) -> None:
    pids = renderer.worker_pids()
    loop = "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"
    with pytest.raises(RenderTimeout) as error:
        render(renderer, body=loop)
    assert "4 s" in error.value.message and error.value.code == "RENDER_TIMEOUT"
    assert renderer.worker_pids() != pids  # the stuck worker was killed and replaced
    assert_pool_still_works(renderer)


def test_huge_output_is_stopped(renderer: WeasyPrintPdfRenderer) -> None:
    body = (
        "{% for a in range(100000) %}{% for b in range(1000) %}"
        "<p>{{ doc.client.name }}</p>{% endfor %}{% endfor %}"
    )
    with pytest.raises(RenderTooLarge) as error:
        render(renderer, body=body)
    assert error.value.code == "RENDER_LIMIT"
    assert_pool_still_works(renderer)


def test_memory_exhaustion_is_stopped(renderer: WeasyPrintPdfRenderer) -> None:
    body = (
        "{% set ns = namespace(s='x' * 100000) %}"
        "{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}"
    )
    with pytest.raises((RenderTooLarge, RenderTimeout)) as error:
        render(renderer, body=body)
    assert error.value.code in ("RENDER_LIMIT", "RENDER_TIMEOUT")
    assert_pool_still_works(renderer)


def test_deeply_nested_tables_are_stopped(renderer: WeasyPrintPdfRenderer) -> None:
    body = "<table><tr><td>" * 3000 + "x" + "</td></tr></table>" * 3000
    with pytest.raises((RenderTooLarge, RenderTimeout, RenderFailed)):
        render(renderer, body=body)
    assert_pool_still_works(renderer)


def test_too_many_pages_are_refused(renderer: WeasyPrintPdfRenderer) -> None:
    body = "{% for i in range(3000) %}<p style='break-before: page'>{{ i }}</p>{% endfor %}"
    with pytest.raises((RenderTooLarge, RenderTimeout)):
        render(renderer, body=body)
    assert_pool_still_works(renderer)


def test_a_runtime_template_error_is_a_render_failure(renderer: WeasyPrintPdfRenderer) -> None:
    with pytest.raises(RenderFailed) as error:
        render(renderer, body="\n\n{{ doc.number.nope.deeper }}")
    assert "line 3" in error.value.message
    assert_pool_still_works(renderer)


def test_an_unsafe_template_is_a_render_failure(renderer: WeasyPrintPdfRenderer) -> None:
    with pytest.raises(RenderFailed) as error:
        render(renderer, body="{{ cycler.__init__.__globals__.os.popen('id').read() }}")
    assert "unsafe" in error.value.message
    assert_pool_still_works(renderer)


def test_concurrent_renders_share_the_pool(renderer: WeasyPrintPdfRenderer) -> None:
    results: list[bytes] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.append(
                renderer.render(sample_invoice(lines=1), replace(PdfLayout(), header_text="x"), {})
            )
        except BaseException as error:  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert len(results) == 6 and len(set(results)) == 1


# --- the image cache a worker keeps across renders: never across tenants ---------------------------


def _png(shade: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (2, 2), shade).save(buffer, format="PNG")
    return buffer.getvalue()


def _images(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages[0].images)


@pytest.mark.parametrize("accelerated", [False, True])
def test_another_tenants_logo_is_not_drawn_from_the_cache_by_its_url(accelerated: bool) -> None:
    from adapters.pdf.engine import PdfEngine
    from adapters.pdf.html import asset_url

    engine = PdfEngine(accelerated=accelerated)
    theirs = PdfAsset(name="logo", mime="image/png", data=_png(10))
    own = PdfLayout(custom_body_template='<p>{{ doc.number }}</p><img src="{{ logo }}">')
    assert _images(engine.render(sample_invoice(lines=1), own, {"logo": theirs})) == 1  # tenant B: cached now
    stolen = PdfLayout(custom_body_template=f'<p>{{{{ doc.number }}}}</p><img src="{asset_url("logo", theirs)}">')
    assert _images(engine.render(sample_invoice(lines=1), stolen, {})) == 0  # tenant A, same worker


@pytest.mark.parametrize("accelerated", [False, True])
def test_a_refused_asset_url_does_not_hide_the_logo_of_the_tenant_it_belongs_to(accelerated: bool) -> None:
    from adapters.pdf.engine import PdfEngine
    from adapters.pdf.html import asset_url

    engine = PdfEngine(accelerated=accelerated)
    new_logo = PdfAsset(name="logo", mime="image/png", data=_png(200))
    guess = PdfLayout(custom_body_template=f'<p>{{{{ doc.number }}}}</p><img src="{asset_url("logo", new_logo)}">')
    assert _images(engine.render(sample_invoice(lines=1), guess, {})) == 0  # tenant A: refused
    own = PdfLayout(custom_body_template='<p>{{ doc.number }}</p><img src="{{ logo }}">')
    assert _images(engine.render(sample_invoice(lines=1), own, {"logo": new_logo})) == 1  # tenant B still sees it
