"""Stamps go where the template asks: the element of id ``istmo-signature`` (a named destination
in WeasyPrint's PDF), on whichever page it falls; without one, at the foot of the last page."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pypdf
import weasyprint

from adapters.signing.pyhanko_sealer import SIGNATURE_ANCHOR, PyHankoDocumentSealer
from application.signatures.ports import CompletionCertificate, Stamp
from tests.integration.signatures_support import IDENTITY, png, pyhanko_status

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
CERTIFICATE = CompletionCertificate(
    document_name="Contrato", source_sha256="0" * 64, signers=(), chain_seq=1, chain_head="0" * 64, completed_at=NOW,
)
TWO_PAGES = """<style>@page { size: A4; margin: 2cm } .break { break-after: page }</style>
<p class="break">Cláusulas</p><p>Firmas:</p><div id="{anchor}" style="height: 80px; margin-left: 40px">&nbsp;</div>
<p style="break-before: page">Anexo</p>"""


def _pdf(anchor: str) -> bytes:
    return weasyprint.HTML(string=TWO_PAGES.replace("{anchor}", anchor)).write_pdf()


def _stamped(sealed: bytes) -> list[tuple[int, bytes]]:
    """(page index, content) of the sealed revision's stamp streams: the ones naming an IstmoSig image."""
    found = []
    for index, page in enumerate(pypdf.PdfReader(io.BytesIO(sealed)).pages):
        contents = page.get_contents()
        data = contents.get_data() if contents is not None else b""
        if b"/IstmoSig0 Do" in data:
            found.append((index, data))
    return found


def test_stamps_go_to_the_templates_signature_place_on_its_page() -> None:
    source = _pdf(SIGNATURE_ANCHOR)
    destination = pypdf.PdfReader(io.BytesIO(source)).named_destinations[SIGNATURE_ANCHOR]
    sealed = PyHankoDocumentSealer(IDENTITY).seal(source, [Stamp(signer="Ana", signed_at=NOW, image=png())], CERTIFICATE)
    stamped = _stamped(sealed)
    assert [index for index, _ in stamped] == [1]  # page 2 of 3, where the element is, not the last page
    left, top = float(destination["/Left"]), float(destination["/Top"])
    assert b"%.2f" % left in stamped[0][1]  # the image drawn from the element's left edge
    assert sealed.startswith(source) and pyhanko_status(sealed).bottom_line


def test_without_a_signature_place_the_stamps_go_to_the_foot_of_the_last_page() -> None:
    source = _pdf("something-else")
    sealed = PyHankoDocumentSealer(IDENTITY).seal(source, [Stamp(signer="Ana", signed_at=NOW, image=png())], CERTIFICATE)
    pages = len(pypdf.PdfReader(io.BytesIO(source)).pages)
    assert [index for index, _ in _stamped(sealed)] == [pages - 1]
