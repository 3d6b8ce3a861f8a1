"""``qr_matrix`` draws the very symbol segno draws (error level M, mask 0, smallest version)."""

from __future__ import annotations

import segno
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.pdf.accelerated.qr import qr_matrix
from application.pdf.documents import sample_invoice

URL_CHARACTERS = st.characters(min_codepoint=33, max_codepoint=126)


def segno_matrix(text: str) -> tuple[bytearray, ...]:
    code = segno.make(text, error="m", micro=False, mask=0, boost_error=False)
    return tuple(bytearray(row) for row in code.matrix)


def test_every_length_up_to_version_14_matches_segno() -> None:
    base = "https://dgi-fep.mef.gob.pa/Consultas/FacturasPorQR?chFE=FE012000015561234522021&iAmb=1&x="
    for length in range(1, 330):
        text = (base * 4)[:length]
        assert qr_matrix(text) == segno_matrix(text), f"length {length}"


def test_the_dgi_url_of_an_invoice_matches_segno() -> None:
    url = sample_invoice(number="FE-0000000042").qr_url
    assert url
    assert qr_matrix(url) == segno_matrix(url)


@settings(max_examples=60, deadline=None)
@given(st.text(URL_CHARACTERS, min_size=1, max_size=600))
def test_any_ascii_text_matches_segno(text: str) -> None:
    assert qr_matrix(text) == segno_matrix(text)


def test_texts_segno_encodes_otherwise_are_left_to_segno() -> None:
    for text in ("1234567890", "HTTPS://DGI.GOB.PA/QR?X=1", "Código ñandú"):
        assert qr_matrix(text) == segno_matrix(text)
