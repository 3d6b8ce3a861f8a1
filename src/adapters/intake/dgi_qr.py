"""A supplier's invoice as a PDF or a photo: find the DGI QR (``chFE=<CUFE>``) and read its fields.

PDF pages are rendered with pypdfium2 (at most ``max_pages``) and each image is searched with
zxing-cpp; an image file (PNG, JPEG, WebP, TIFF) is decoded with Pillow under a pixel cap (a
decompression bomb is refused). Without a DGI QR the file goes to the AI extraction.
"""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlsplit

import pypdfium2 as pdfium
import zxingcpp
from PIL import Image

from application.intake.ports import (
    DgiQr,
    IntakeContext,
    IntakeLimits,
    NeedsExtraction,
    Parsed,
    UnreadableDocument,
)
from domain.intake.model import DocumentKind

QR_HOST = "dgi-fep.mef.gob.pa"
RENDER_SCALE = 2.0  # 144 dpi: a QR printed 2-3 cm wide has modules of 3+ pixels
_IMAGES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"RIFF", b"II*\x00", b"MM\x00*")


def dgi_qr(text: str) -> DgiQr | None:
    """The CUFE (and environment) of a DGI QR's URL; ``None`` for any other text."""
    try:
        url = urlsplit(text.strip())
    except ValueError:
        return None
    if url.scheme not in ("http", "https") or not (url.hostname or "").endswith(QR_HOST):
        return None
    query = parse_qs(url.query)
    cufe = (query.get("chFE") or [""])[0].strip()
    if not cufe:
        return None
    return DgiQr(cufe=cufe, environment=(query.get("iAmb") or [None])[0], url=text.strip()[:2000])


class DgiQrStrategy:
    name = "dgi-qr"
    kind = DocumentKind.SUPPLIER_INVOICE
    uses_profiles = False

    def __init__(self, limits: IntakeLimits) -> None:
        self._limits = limits

    def recognises(self, content: bytes) -> bool:
        return content.startswith(b"%PDF-") or content.startswith(_IMAGES)

    def parse(self, content: bytes, context: IntakeContext) -> Parsed:
        if content.startswith(b"%PDF-"):
            return self._pdf(content)
        return self._image(content)

    def _pdf(self, content: bytes) -> Parsed:
        try:
            document = pdfium.PdfDocument(content)
        except pdfium.PdfiumError as error:
            raise UnreadableDocument(f"the PDF cannot be opened (truncated or damaged): {error}") from None
        try:
            pages = len(document)
            if pages > self._limits.max_pages:
                raise UnreadableDocument(f"the PDF has {pages} pages, more than {self._limits.max_pages}")
            for number in range(pages):
                page = document[number]
                try:
                    width, height = page.get_size()
                    if width * height * RENDER_SCALE**2 > self._limits.max_image_pixels:
                        raise UnreadableDocument(f"page {number + 1} is too large to search for a QR")
                    bitmap = page.render(scale=RENDER_SCALE, grayscale=True)
                    found = self._search(bitmap.to_pil())
                finally:
                    page.close()
                if found is not None:
                    return DgiQr(cufe=found.cufe, environment=found.environment, url=found.url, page=number + 1)
        finally:
            document.close()
        return NeedsExtraction(reason=f"no DGI QR was found on the PDF's {pages} page(s)")

    def _image(self, content: bytes) -> Parsed:
        try:
            with Image.open(io.BytesIO(content)) as image:
                width, height = image.size
                if width * height > self._limits.max_image_pixels:
                    raise UnreadableDocument(f"the image has {width}x{height} pixels, more than the limit")
                image.load()
                found = self._search(image.convert("L"))
        except UnreadableDocument:
            raise
        except (OSError, Image.DecompressionBombError, ValueError) as error:
            raise UnreadableDocument(f"the image cannot be read (truncated or damaged): {error}") from None
        if found is not None:
            return found
        return NeedsExtraction(reason="no DGI QR was found on the image")

    @staticmethod
    def _search(image: Image.Image) -> DgiQr | None:
        for result in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode):
            found = dgi_qr(result.text)
            if found is not None:
                return found
        return None
