"""What every PDF is and how it is printed: its document type, paper size and language."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from domain.shared.errors import InvalidInput

E = TypeVar("E", bound=StrEnum)


def _parse(enum: type[E], value: object, field: str) -> E:
    try:
        return enum(value)
    except ValueError:
        raise InvalidInput(
            f"{field} must be one of {', '.join(enum)}, not {str(value)[:32]!r}", field=field
        ) from None


class DocumentType(StrEnum):
    INVOICE = "INVOICE"
    CREDIT_NOTE = "CREDIT_NOTE"
    QUOTE = "QUOTE"
    STATEMENT = "STATEMENT"
    REPORT = "REPORT"

    @classmethod
    def parse(cls, value: object, *, field: str = "documentType") -> DocumentType:
        return _parse(cls, value, field)


# Records a business keeps, and hands to its clients and the tax authority: printed as PDF/A-3b
# (archival: fonts embedded, colours defined, metadata in XMP) and tagged (structure and reading
# order for screen readers). A report is a working printout and stays a plain PDF.
ARCHIVAL_TYPES = frozenset(
    {DocumentType.INVOICE, DocumentType.CREDIT_NOTE, DocumentType.QUOTE, DocumentType.STATEMENT}
)


class PaperSize(StrEnum):
    A4 = "A4"
    LETTER = "LETTER"

    @classmethod
    def parse(cls, value: object, *, field: str = "paperSize") -> PaperSize:
        return _parse(cls, value, field)


class Locale(StrEnum):
    """The language of labels, dates and amounts: Spanish of Panama (the default) or English."""

    ES_PA = "es-PA"
    EN = "en"

    @classmethod
    def parse(cls, value: object, *, field: str = "locale") -> Locale:
        return _parse(cls, value, field)


DEFAULT_PRIMARY_COLOR = "#1F3A5F"
DEFAULT_SECONDARY_COLOR = "#5B7FA6"
