"""The text layer of a PDF, with ``pypdf`` (BSD)."""

from __future__ import annotations

import io

from pypdf import PdfReader
from pypdf.errors import PyPdfError


class PypdfText:
    def extract(self, data: bytes) -> tuple[str, int]:
        try:
            reader = PdfReader(io.BytesIO(data))
            pages = len(reader.pages)
            text = "\n".join((page.extract_text() or "") for page in reader.pages[:60])
        except (PyPdfError, ValueError, KeyError, TypeError) as error:
            raise ValueError(f"not a readable PDF ({type(error).__name__})") from None
        return text, pages
