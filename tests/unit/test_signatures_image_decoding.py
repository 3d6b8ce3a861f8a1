"""A signature image with damaged pixel data is refused whatever Pillow's process-wide setting:
WeasyPrint turns ``LOAD_TRUNCATED_IMAGES`` on when it is imported (the full suite's order once
let a damaged PNG through)."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageFile

from adapters.signing.images import PillowSignatureImages
from domain.signatures.errors import BadSignatureImage


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 40), (10, 20, 30)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("truncated_allowed", [False, True], ids=["pillow-default", "after-weasyprint"])
def test_a_png_with_damaged_pixels_is_refused(monkeypatch: pytest.MonkeyPatch, truncated_allowed: bool) -> None:
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", truncated_allowed)
    good = _png()
    at = good.index(b"IDAT") + 8
    damaged = good[:at] + bytes(b ^ 0x5A for b in good[at:at + 12]) + good[at + 12:]
    PillowSignatureImages().check(good)
    with pytest.raises(BadSignatureImage, match="damaged"):
        PillowSignatureImages().check(damaged)
