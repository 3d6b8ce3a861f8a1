"""The accelerator (its patches and the Cython-compiled modules) changes how fast WeasyPrint
renders, not what it draws.

Each document is rendered twice, in two fresh processes: on the accelerated path, and on the
stock path (``PdfEngine(accelerated=False)``, every module ``make pdf-modules`` compiled imported
from its ``.py``, as a stock render worker does). The speedups compress streams
at another level, so the raw bytes differ; what must not differ is what each page draws (its
content stream, decompressed), the page count and sizes, and the fonts and images it uses.
The documents cover the built-in bodies and a custom body with the text that takes the
speedups' other paths: justified, right-to-left, ellipsis, letter/word spacing, preserved
newlines and tabs, collapsing spaces, hyphenation, a float.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.integration.test_pdf_render import png

ROOT = Path(__file__).resolve().parents[2]

CUSTOM_BODY = """
<p style="text-align: justify; width: 60mm">{% for i in range(40) %}palabra{{ i }} {% endfor %}</p>
<p dir="rtl">مرحبا بالعالم هذا نص عربي طويل للتجربة مرحبا بالعالم هذا نص عربي طويل للتجربة</p>
<p style="white-space: nowrap; overflow: hidden; text-overflow: ellipsis; width: 30mm">Texto cortado</p>
<p style="text-decoration: underline; letter-spacing: 1pt; word-spacing: 3pt">subrayado con espacios</p>
<pre>uno
dos   fin
tres\tcon tabulador</pre>
<pre style="word-spacing: 4pt; letter-spacing: 0.5pt">con espacio al final 
y otra línea</pre>
<p style="white-space: pre-line">  pre-line   con espacios
 segunda   </p>
<p style="white-space: pre-wrap; width: 25mm">pre-wrap que se parte en varias líneas
y sigue</p>
<p lang="es" style="hyphens: auto; width: 20mm">Electroencefalografista otorrinolaringólogo</p>
<div style="display: flow-root"><img src="{{ logo }}" style="float: left; width: 20mm">
<p>Texto junto a una imagen flotante que ocupa varias líneas a su lado.</p></div>
"""

RENDER = """
import json, sys
sys.path[:0] = [sys.argv[1]]
from adapters.pdf.accelerated.modules import import_from_sources

accelerated = sys.argv[2] == "speedups"
if not accelerated:
    import_from_sources()
from adapters.pdf.engine import PdfEngine
from application.pdf.documents import (
    PdfAsset, PdfLayout, sample_invoice, sample_quote, sample_report, sample_statement)
LOGO = {"logo": PdfAsset(name="logo.png", mime="image/png", data=bytes.fromhex(sys.argv[3]))}
layout = PdfLayout(header_text="Ferretería El Istmo\\nSegunda línea", footer_text="Pie   de página.")
documents = {
    "invoice": (sample_invoice(), layout),
    "unauthorized invoice": (sample_invoice(authorized=False, lines=40), layout),
    "quote": (sample_quote(), layout),
    "statement": (sample_statement(entries=150), layout),
    "report": (sample_report(), layout),
    "custom body": (sample_invoice(), PdfLayout(custom_body_template=sys.argv[4])),
}
engine = PdfEngine(accelerated=accelerated)
out = {name: engine.render(doc, lay, LOGO).hex() for name, (doc, lay) in documents.items()}
if not accelerated:
    import weasyprint.formatting_structure.boxes as boxes
    assert boxes.__file__.endswith(".py") and "adapters.pdf.accelerated.speedups" not in sys.modules
print(json.dumps(out))
"""


def render_all(mode: str) -> dict[str, bytes]:
    done = subprocess.run(
        [sys.executable, "-c", RENDER, str(ROOT / "src"), mode, png().hex(), CUSTOM_BODY],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return {name: bytes.fromhex(pdf) for name, pdf in json.loads(done.stdout).items()}


def drawn(pdf: bytes) -> dict[str, object]:
    reader = PdfReader(io.BytesIO(pdf))
    pages = []
    for page in reader.pages:
        resources = page["/Resources"]
        fonts = sorted(str(font.get_object()["/BaseFont"]) for font in resources.get("/Font", {}).values())
        images = sorted(
            (int(image.get_object()["/Width"]), int(image.get_object()["/Height"]))
            for image in resources.get("/XObject", {}).values()
        )
        pages.append((tuple(page.mediabox), page.get_contents().get_data(), fonts, images))
    return {"pages": pages}


@pytest.fixture(scope="module")
def renders() -> tuple[dict[str, bytes], dict[str, bytes]]:
    return render_all("speedups"), render_all("plain")


@pytest.mark.parametrize(
    "document", ["invoice", "unauthorized invoice", "quote", "statement", "report", "custom body"]
)
def test_speedups_draw_what_weasyprint_draws(
    renders: tuple[dict[str, bytes], dict[str, bytes]], document: str
) -> None:
    fast, plain = renders
    assert drawn(fast[document]) == drawn(plain[document])


def test_the_custom_body_takes_the_special_paths(renders: tuple[dict[str, bytes], dict[str, bytes]]) -> None:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(renders[0]["custom body"])).pages)
    for expected in ("palabra39", "مرحبا", "subrayado", "tabulador", "pre-line", "flotante"):
        assert expected in text
