"""What one outbound WhatsApp message says (a text, a template, a document) and the 24-hour window."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.files.model import fit_file_name
from domain.shared.errors import InvalidInput
from domain.whatsapp.connection import MAX_PARAMETERS, parse_language, parse_template_name
from domain.whatsapp.errors import CaptionTooLong, TextTooLong, WindowClosed

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_PARAMETER = 1024
MAX_FILENAME = 240
WINDOW = timedelta(hours=24)


def _required(value: object, *, field: str, max_length: int) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise InvalidInput(f"{field} is required", field=field)
    if len(text) > max_length:
        raise InvalidInput(f"{field} must be at most {max_length} characters", field=field)
    return text


class MessageKind(StrEnum):
    TEXT = "TEXT"
    TEMPLATE = "TEMPLATE"
    DOCUMENT = "DOCUMENT"
    OTHER = "OTHER"  # inbound media, locations, reactions, ...: kept, not interpreted



@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateContent:
    name: str
    language: str
    parameters: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentContent:
    file_id: str
    filename: str
    caption: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageContent:
    """What one outbound message says: a text, a template (maybe with a document header), or a document."""

    kind: MessageKind
    text: str | None = None
    template: TemplateContent | None = None
    document: DocumentContent | None = None

    @classmethod
    def of_text(cls, text: object) -> MessageContent:
        if not isinstance(text, str) or not text.strip():
            raise InvalidInput("text must not be empty", field="text")
        if len(text) > MAX_TEXT:
            raise TextTooLong(f"text must be at most {MAX_TEXT} characters, not {len(text)}", field="text")
        return cls(kind=MessageKind.TEXT, text=text)

    @classmethod
    def of_template(
        cls, *, name: object, language: object, parameters: Sequence[object] = (),
        document: DocumentContent | None = None,
    ) -> MessageContent:
        if len(parameters) > MAX_PARAMETERS:
            raise InvalidInput(f"template.parameters must list at most {MAX_PARAMETERS}", field="template.parameters")
        parsed = []
        for index, parameter in enumerate(parameters):
            where = f"template.parameters[{index}]"
            parsed.append(_required(parameter, field=where, max_length=MAX_PARAMETER))
        return cls(
            kind=MessageKind.TEMPLATE,
            template=TemplateContent(
                name=parse_template_name(name), language=parse_language(language), parameters=tuple(parsed)
            ),
            document=document,
        )

    @classmethod
    def of_document(cls, document: DocumentContent) -> MessageContent:
        return cls(kind=MessageKind.DOCUMENT, document=document)

    @property
    def needs_window(self) -> bool:
        """Free-form text and documents need the customer service window; templates do not."""
        return self.kind is not MessageKind.TEMPLATE


def document_content(*, file_id: str, filename: str, caption: object = None) -> DocumentContent:
    if caption is not None and not isinstance(caption, str):
        raise InvalidInput("caption must be text", field="caption")
    text = caption.strip() if isinstance(caption, str) else ""
    if len(text) > MAX_CAPTION:
        raise CaptionTooLong(f"caption must be at most {MAX_CAPTION} characters, not {len(text)}", field="caption")
    name = fit_file_name(filename.replace("/", "-").replace("\\", "-").strip(), MAX_FILENAME) or "documento.pdf"
    return DocumentContent(file_id=file_id, filename=name, caption=text or None)


def window_open(last_inbound_at: datetime | None, now: datetime) -> bool:
    return last_inbound_at is not None and now < last_inbound_at + WINDOW


def check_window(content: MessageContent, last_inbound_at: datetime | None, now: datetime, *, phone: str) -> None:
    """Refuse free-form content outside the 24-hour window (before any provider call)."""
    if content.needs_window and not window_open(last_inbound_at, now):
        since = "has never written" if last_inbound_at is None else "has not written in the last 24 hours"
        raise WindowClosed(
            f"{phone} {since}: outside the 24-hour window WhatsApp only delivers approved templates; "
            "send a template instead (template { name language parameters }, or templateName for a PDF)",
            field="template",
        )

