"""Ports of document intake: the strategies that read a file, where intakes are kept, the DGI lookup.

A strategy is one adapter (``adapters/intake/<format>.py``) behind ``IntakeStrategy``: it says
whether the bytes are its format (from the content, never the name) and reads them into a parsed
statement, a parsed invoice, a DGI QR, or a request for the AI extraction. Adding a format is a
new adapter and one line in the list the container builds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from application.files.ports import FileReader
from application.intake.views import DocumentIntakeCursor, DocumentIntakeView
from application.jobs.ports import JobsUnitOfWork
from domain.banking.profiles import ImportProfile
from domain.banking.statements import ParsedStatement
from domain.intake.model import DocumentIntake, DocumentKind, IntakeEnding, IntakeStatus
from domain.purchases.invoices import ParsedInvoice


@dataclass(frozen=True, slots=True, kw_only=True)
class IntakeLimits:
    """What one file may make a parser do (configured by the container)."""

    max_bytes: int = 20 * 1024 * 1024
    max_rows: int = 50_000
    max_pages: int = 10
    max_unzipped_bytes: int = 100 * 1024 * 1024
    max_image_pixels: int = 40_000_000


@dataclass(frozen=True, slots=True)
class IntakeContext:
    """What the tenant has configured that a strategy may need (its confirmed column profiles)."""

    profiles: tuple[ImportProfile, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class DgiQr:
    """A DGI QR found on a PDF or an image: the CUFE and the other fields its URL carries."""

    cufe: str
    environment: str | None = None
    url: str = ""
    page: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NeedsExtraction:
    """A PDF or image without a readable DGI QR: the AI extraction is asked to read it."""

    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Unmatched:
    """A tabular file whose columns no saved profile matches: the user confirms one, then retries."""

    reason: str
    header: tuple[str, ...] = field(default_factory=tuple)


Parsed = ParsedStatement | ParsedInvoice | DgiQr | NeedsExtraction | Unmatched


class UnreadableDocument(Exception):
    """The file is of the strategy's format but broken, truncated or beyond a limit: ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class IntakeStrategy(Protocol):
    name: str
    """``ofx``, ``camt.053``, ``mt940``, ``dgi-xml``, ``dgi-qr``, ..."""
    kind: DocumentKind
    """What the format holds: a bank statement or a supplier invoice."""
    uses_profiles: bool
    """Whether it reads tables by the tenant's column profiles (they are loaded only for it)."""

    def recognises(self, content: bytes) -> bool:
        """Whether ``content`` is this strategy's format (cheap: a look at the first bytes)."""
        ...

    def parse(self, content: bytes, context: IntakeContext) -> Parsed:
        """Read the file; raise ``UnreadableDocument`` when it is broken or too big."""
        ...


class DgiLookupUnavailable(Exception):
    """The DGI lookup cannot answer at all (there is none, or the DGI cannot be reached): ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DgiLookup(Protocol):
    """The DGI's record of an invoice, by CUFE (no network in tests: a fake)."""

    def invoice(self, cufe: str) -> ParsedInvoice | None:
        """The invoice the DGI has for ``cufe``; ``None`` when it has none. Raises
        ``DgiLookupUnavailable`` when it cannot ask."""
        ...


class DocumentIntakeRepository(Protocol):
    def add(self, intake: DocumentIntake) -> None: ...

    def get(self, intake_id: str) -> DocumentIntake | None: ...

    def get_for_update(self, intake_id: str) -> DocumentIntake | None:
        """The intake, locked until the transaction ends."""
        ...

    def get_with_earlier(self, intake_id: str) -> tuple[DocumentIntake | None, DocumentIntake | None]:
        """The intake, and the first other intake of the same file (files are one per content in a
        tenant) that made records, if any: one read."""
        ...

    def finish(self, intake_id: str, run: int, end: IntakeEnding) -> bool:
        """End run ``run`` of the intake if it is still PENDING in that run (one conditional write):
        whether it did (not when another run finished it, or a retry began another)."""
        ...

    def save(self, intake: DocumentIntake) -> None: ...


class DocumentIntakeReader(Protocol):
    def get(self, intake_id: str) -> DocumentIntakeView | None: ...

    def find(
        self, *, status: IntakeStatus | None, first: int, after: DocumentIntakeCursor | None
    ) -> list[DocumentIntakeView]:
        """Newest first, by (created_at, id)."""
        ...


class IntakeUnitOfWork(JobsUnitOfWork, Protocol):
    document_intakes: DocumentIntakeRepository
    document_intake_views: DocumentIntakeReader
    file_views: FileReader


Strategies = Sequence[IntakeStrategy]
