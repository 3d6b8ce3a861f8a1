"""Which files a chat message may carry, judged by the file's sniffed type (never the client's
claim), its size and, for PDFs, its pages."""

from __future__ import annotations

from domain.chats.errors import AttachmentRefused
from domain.chats.model import Provider

TEXT_TYPES = frozenset({
    "text/plain", "text/csv", "application/json", "application/xml", "text/xml",
    "application/x-ofx", "application/ofx", "text/markdown",
})
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp"})
PDF = "application/pdf"

MAX_TEXT_BYTES = 2 * 1024 * 1024
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_PDF_BYTES = 10 * 1024 * 1024
MAX_PDF_PAGES = 50
MAX_EXTRACTED_CHARS = 60_000


def _base(mime: str) -> str:
    return mime.split(";", 1)[0].strip().lower()


def is_text_based_file(mime: str) -> bool:
    """Sent to the model as extracted text: plain text, CSV, JSON, XML, OFX, and PDF (its text layer)."""
    base = _base(mime)
    return base in TEXT_TYPES or base == PDF


def is_image_file(mime: str) -> bool:
    return _base(mime) in IMAGE_TYPES


def check_file_for_chat(*, name: str, mime: str, size: int, provider: Provider) -> None:
    """Refuse, naming the reason, a file the chat cannot take (``is_valid_file_for_chat``)."""
    base = _base(mime)
    if base == PDF:
        limit = MAX_PDF_BYTES
    elif base in TEXT_TYPES:
        limit = MAX_TEXT_BYTES
    elif base in IMAGE_TYPES:
        if provider is Provider.DEEPSEEK:
            raise AttachmentRefused(
                f"{name}: DeepSeek takes text only, so images cannot be attached; send a PDF or text instead",
                field="attachmentIds",
            )
        limit = MAX_IMAGE_BYTES
    else:
        raise AttachmentRefused(
            f"{name}: {base or 'unknown'} files cannot be read by the assistant "
            "(text, CSV, JSON, XML, OFX, PDF, PNG, JPEG or WebP)",
            field="attachmentIds",
        )
    if size > limit:
        raise AttachmentRefused(f"{name} is {size} bytes; the limit for {base} is {limit} bytes", field="attachmentIds")


def is_valid_file_for_chat(*, name: str, mime: str, size: int, provider: Provider) -> bool:
    try:
        check_file_for_chat(name=name, mime=mime, size=size, provider=provider)
    except AttachmentRefused:
        return False
    return True


def check_pages(name: str, pages: int) -> None:
    if pages > MAX_PDF_PAGES:
        raise AttachmentRefused(f"{name} has {pages} pages; the limit is {MAX_PDF_PAGES}", field="attachmentIds")
