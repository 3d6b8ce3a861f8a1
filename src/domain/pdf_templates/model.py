"""PDF templates: how a tenant dresses one type of document (logo, colours, texts, paper,
language, optional custom CSS and body), at most one of them the default of its type.

Every change raises the version by one; an update names the version it was based on and is
refused if the template changed since (optimistic concurrency). Without a default template,
a document type is printed with the built-in layout.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from domain.pdf.layout import DEFAULT_PRIMARY_COLOR, DEFAULT_SECONDARY_COLOR, DocumentType, Locale, PaperSize
from domain.shared.errors import Conflict, InvalidInput
from domain.shared.model import Aggregate, DomainEvent, new_id, parse_id

MAX_NAME_CHARS = 100
MAX_HEADER_CHARS = 500
MAX_FOOTER_CHARS = 2_000
MAX_CUSTOM_CSS_CHARS = 100_000
MAX_BODY_TEMPLATE_CHARS = 100_000
MAX_LOGO_BYTES = 5 * 1024 * 1024
LOGO_MIMES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")


class InvalidColor(InvalidInput):
    code = "INVALID_COLOR"


class InvalidLogo(InvalidInput):
    """The logo is not an image (png, jpeg, gif, webp) or is too large."""

    code = "INVALID_LOGO"


class StaleVersion(Conflict):
    """The template changed since the version the client read."""

    code = "VERSION_CONFLICT"


class WrongDocumentType(InvalidInput):
    """A template was named for a document of another type."""

    code = "WRONG_DOCUMENT_TYPE"


# --- values --------------------------------------------------------------------------------


def parse_color(value: object, *, field: str) -> str:
    """``#RRGGBB``, kept upper-case."""
    if not isinstance(value, str) or not _COLOR.match(value.strip()):
        raise InvalidColor(f"{field} must be a colour like #1F3A5F, not {str(value)[:16]!r}", field=field)
    return value.strip().upper()


def _text(value: object, *, field: str, max_length: int, multiline: bool = True) -> str:
    """Trimmed text without control characters (newlines kept if ``multiline``); "" if blank."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be text", field=field)
    kept = "\n" if multiline else ""
    text = "".join(
        ch if ch in kept or unicodedata.category(ch) not in ("Cc", "Cs") else " "
        for ch in unicodedata.normalize("NFC", value.replace("\r\n", "\n"))
    ).strip()
    if len(text) > max_length:
        raise InvalidInput(f"{field} must be at most {max_length} characters", field=field)
    return text


def _source(value: object, *, field: str, max_length: int) -> str | None:
    """CSS or template source, kept as written; ``None`` if blank."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be text", field=field)
    if not value.strip():
        return None
    if len(value) > max_length:
        raise InvalidInput(f"{field} must be at most {max_length} characters", field=field)
    return value


def parse_template_name(value: object) -> str:
    name = _text(value, field="name", max_length=MAX_NAME_CHARS, multiline=False)
    if not name:
        raise InvalidInput("name is required", field="name")
    return name


@dataclass(frozen=True, slots=True, kw_only=True)
class PdfTemplateInput:
    """A template's editable fields as the caller gives them, before validation.

    A field left out takes the built-in layout's value (colours, A4, es-PA, no texts)."""

    name: object = None
    is_default: bool = False
    logo_file_id: object = None
    primary_color: object = None
    secondary_color: object = None
    header_text: object = None
    footer_disclaimer: object = None
    paper_size: object = None
    locale: object = None
    custom_css: object = None
    custom_body_template: object = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateDesign:
    """How the documents look, validated: everything of a template but its name and role."""

    logo_file_id: str | None = None
    primary_color: str = DEFAULT_PRIMARY_COLOR
    secondary_color: str = DEFAULT_SECONDARY_COLOR
    header_text: str = ""
    footer_disclaimer: str = ""
    paper_size: PaperSize = PaperSize.A4
    locale: Locale = Locale.ES_PA
    custom_css: str | None = None
    custom_body_template: str | None = None

    @classmethod
    def parse(cls, given: PdfTemplateInput) -> TemplateDesign:
        logo = given.logo_file_id
        primary, secondary = given.primary_color, given.secondary_color
        return cls(
            logo_file_id=None if logo in (None, "") else parse_id(logo, field="logoFileId"),
            primary_color=DEFAULT_PRIMARY_COLOR if primary is None else parse_color(primary, field="primaryColor"),
            secondary_color=(
                DEFAULT_SECONDARY_COLOR if secondary is None else parse_color(secondary, field="secondaryColor")
            ),
            header_text=_text(given.header_text, field="headerText", max_length=MAX_HEADER_CHARS),
            footer_disclaimer=_text(
                given.footer_disclaimer, field="footerDisclaimer", max_length=MAX_FOOTER_CHARS
            ),
            paper_size=PaperSize.A4 if given.paper_size is None else PaperSize.parse(given.paper_size),
            locale=Locale.ES_PA if given.locale is None else Locale.parse(given.locale),
            custom_css=_source(given.custom_css, field="customCss", max_length=MAX_CUSTOM_CSS_CHARS),
            custom_body_template=_source(
                given.custom_body_template, field="customBodyTemplate", max_length=MAX_BODY_TEMPLATE_CHARS
            ),
        )


def check_logo(*, mime: str, size: int) -> None:
    """A logo is an image the PDF can embed: png, jpeg, gif or webp (as sniffed from its bytes)."""
    if mime not in LOGO_MIMES:
        raise InvalidLogo(
            f"logoFileId must be an image (png, jpeg, gif or webp); this file is {mime}", field="logoFileId"
        )
    if size > MAX_LOGO_BYTES:
        raise InvalidLogo(
            f"logoFileId must be at most {MAX_LOGO_BYTES} bytes; this file has {size}", field="logoFileId"
        )


# --- events --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PdfTemplateCreated(DomainEvent):
    template_id: str
    document_type: DocumentType


@dataclass(frozen=True, slots=True, kw_only=True)
class PdfTemplateDeleted(DomainEvent):
    template_id: str


# --- the aggregate ---------------------------------------------------------------------------


class PdfTemplate(Aggregate):
    def __init__(
        self,
        *,
        id: str,
        tenant_id: str,
        document_type: DocumentType,
        name: str,
        is_default: bool,
        logo_file_id: str | None,
        primary_color: str,
        secondary_color: str,
        header_text: str,
        footer_disclaimer: str,
        paper_size: PaperSize,
        locale: Locale,
        custom_css: str | None,
        custom_body_template: str | None,
        version: int,
        created_at: datetime,
        updated_at: datetime,
    ) -> None:
        self.id = id
        self.tenant_id = tenant_id
        self.document_type = document_type
        self.name = name
        self.is_default = is_default
        self.logo_file_id = logo_file_id
        self.primary_color = primary_color
        self.secondary_color = secondary_color
        self.header_text = header_text
        self.footer_disclaimer = footer_disclaimer
        self.paper_size = paper_size
        self.locale = locale
        self.custom_css = custom_css
        self.custom_body_template = custom_body_template
        self.version = version
        self.created_at = created_at
        self.updated_at = updated_at

    @classmethod
    def create(
        cls,
        *,
        tenant_id: str,
        document_type: DocumentType,
        name: str,
        is_default: bool,
        design: TemplateDesign,
        now: datetime,
    ) -> PdfTemplate:
        template = cls(
            id=new_id(),
            tenant_id=tenant_id,
            document_type=DocumentType(document_type),
            name=parse_template_name(name),
            is_default=bool(is_default),
            version=1,
            created_at=now,
            updated_at=now,
            **_design_fields(design),
        )
        template.record(
            PdfTemplateCreated(
                tenant_id=tenant_id, template_id=template.id, document_type=template.document_type
            )
        )
        return template

    @property
    def design(self) -> TemplateDesign:
        return TemplateDesign(
            logo_file_id=self.logo_file_id,
            primary_color=self.primary_color,
            secondary_color=self.secondary_color,
            header_text=self.header_text,
            footer_disclaimer=self.footer_disclaimer,
            paper_size=PaperSize(self.paper_size),
            locale=Locale(self.locale),
            custom_css=self.custom_css,
            custom_body_template=self.custom_body_template,
        )

    def check_version(self, expected: int) -> None:
        if expected != self.version:
            raise StaleVersion(
                f"version {expected} is stale: template {self.id} is at version {self.version}; "
                "read it again and reapply your changes",
                field="version",
            )

    def update(
        self, *, expected_version: int, name: str, is_default: bool, design: TemplateDesign, now: datetime
    ) -> None:
        """Replace the whole editable record, if nobody changed it since ``expected_version``."""
        self.check_version(expected_version)
        self.name = parse_template_name(name)
        self.is_default = bool(is_default)
        for attribute, value in _design_fields(design).items():
            setattr(self, attribute, value)
        self._changed(now)

    def give_up_default(self, *, now: datetime) -> None:
        """Another template of the type becomes the default: this one stops being it (a change)."""
        if self.is_default:
            self.is_default = False
            self._changed(now)

    def delete(self) -> None:
        self.record(PdfTemplateDeleted(tenant_id=self.tenant_id, template_id=self.id))

    def _changed(self, now: datetime) -> None:
        self.version += 1
        self.updated_at = now


def _design_fields(design: TemplateDesign) -> dict[str, object]:
    return {
        "logo_file_id": design.logo_file_id,
        "primary_color": design.primary_color,
        "secondary_color": design.secondary_color,
        "header_text": design.header_text,
        "footer_disclaimer": design.footer_disclaimer,
        "paper_size": PaperSize(design.paper_size),
        "locale": Locale(design.locale),
        "custom_css": design.custom_css,
        "custom_body_template": design.custom_body_template,
    }
