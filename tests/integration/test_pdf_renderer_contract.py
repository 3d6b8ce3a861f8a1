"""One contract for ``PdfRenderer``: ``FakePdfRenderer`` (the unit tests' renderer) and
``WeasyPrintPdfRenderer`` pass the same assertions, so the fake cannot drift from the real thing.

Both give the same bytes for the same inputs and different bytes when the document, the layout
or the logo changes, and both refuse the same broken templates, naming the field and the line.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from adapters.pdf.weasyprint import RendererSettings, WeasyPrintPdfRenderer
from application.pdf.documents import PdfAsset, PdfLayout, sample_invoice, sample_statement
from domain.pdf.errors import TemplateInvalid
from tests.fakes.pdf import FakePdfRenderer
from tests.integration.test_pdf_render import accelerator_wanted

LAYOUT = PdfLayout(header_text="Encabezado", footer_text="Pie de página")


def png(red: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes((red, 0x60, 0xA0)) * 8 for _ in range(4))
    header = struct.pack(">IIBBBBB", 8, 4, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def logo(red: int) -> dict[str, PdfAsset]:
    return {"logo": PdfAsset(name="logo.png", mime="image/png", data=png(red))}


@pytest.fixture(scope="module")
def real_renderer(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The session's renderer; with ``ISTMO_PDF_ACCELERATOR=off``, one on the stock path."""
    if accelerator_wanted():
        yield request.getfixturevalue("weasyprint_renderer")
        return
    with WeasyPrintPdfRenderer(RendererSettings(processes=1, timeout=60, accelerator=False)) as renderer:
        assert not renderer.accelerated
        yield renderer


@pytest.fixture(params=["fake", "weasyprint"])
def renderer(request: pytest.FixtureRequest) -> Any:
    if request.param == "fake":
        return FakePdfRenderer()
    return request.getfixturevalue("real_renderer")


def test_the_same_inputs_give_the_same_pdf_bytes(renderer: Any) -> None:
    first = renderer.render(sample_invoice(lines=3), LAYOUT, logo(0x10))
    again = renderer.render(sample_invoice(lines=3), LAYOUT, logo(0x10))
    assert first.startswith(b"%PDF-")
    assert again == first


def test_another_document_layout_or_logo_gives_other_bytes(renderer: Any) -> None:
    base = renderer.render(sample_invoice(lines=3), LAYOUT, logo(0x10))
    variants = [
        renderer.render(sample_invoice(lines=4), LAYOUT, logo(0x10)),
        renderer.render(replace(sample_invoice(lines=3), number="FE-0000009999"), LAYOUT, logo(0x10)),
        renderer.render(sample_statement(entries=5), LAYOUT, logo(0x10)),
        renderer.render(sample_invoice(lines=3), replace(LAYOUT, footer_text="Otro pie"), logo(0x10)),
        renderer.render(sample_invoice(lines=3), replace(LAYOUT, primary_color="#000000"), logo(0x10)),
        renderer.render(sample_invoice(lines=3), LAYOUT, logo(0xF0)),
        renderer.render(sample_invoice(lines=3), LAYOUT, {}),
    ]
    assert len({base, *variants}) == len(variants) + 1


def test_templates_that_compile_are_accepted(renderer: Any) -> None:
    renderer.check_template(
        '<h1>{{ doc.number }}</h1>\n{% for line in doc.lines %}<p>{{ line.description }}</p>{% endfor %}\n{# nota #}',
        "@import url(data:text/css,);\n.head { color: #112233; }\n/* } */ p { content: \"}\" }",
    )
    renderer.check_template(None, None)


@pytest.mark.parametrize(
    ("body", "css", "field", "line"),
    [
        ("<p>\n{{ doc.number }\n</p>", None, "customBodyTemplate", 2),
        ("<p>\n\n{% if doc.notes %}\nhi", None, "customBodyTemplate", 4),
        ("a\nb\n{% endfor %}", None, "customBodyTemplate", 3),
        (None, "p { color: red }\n}", "customCss", 2),
        (None, "p { color: red; }\n\n 12px", "customCss", 3),
        ("<p>{{ doc.number }}</p>", "h1 {}\n\n\n}", "customCss", 4),
    ],
)
def test_templates_that_do_not_compile_are_refused_with_field_and_line(
    renderer: Any, body: str | None, css: str | None, field: str, line: int
) -> None:
    with pytest.raises(TemplateInvalid) as error:
        renderer.check_template(body, css)
    assert (error.value.code, error.value.field, error.value.line) == ("TEMPLATE_INVALID", field, line)
    assert f"line {line}" in error.value.message
