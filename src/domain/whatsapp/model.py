"""WhatsApp: a tenant's Cloud API connection, its clients' numbers, its templates and the message log.

The message log mirrors the email one and speaks the same delivery vocabulary
(``domain.shared.delivery``: the statuses QUEUED, SENDING, SENT, FAILED, DEAD, UNCERTAIN, ``Begin``,
``NotRetryable``, ``clip_response``): every outbound message is QUEUED in the same transaction as its
delivery job, marked SENDING (committed) before the Graph API is called, then SENT with its wamid,
FAILED with the provider's code and title, or DEAD once transient failures exhausted the attempts.
A job that finds its message still SENDING ran before and died after (maybe) calling the provider:
the message becomes UNCERTAIN and is sent again only by ``retryWhatsapp``.

``WhatsappMessage`` is a ``Delivery`` (the shared state machine and its attempt records) whose
``MessageStatus`` extends ``DeliveryStatus`` value for value with what only WhatsApp has: DELIVERED
and READ (from the webhook, after SENT) and RECEIVED (inbound messages share the log). The delivery
methods act only while the message is in a delivery state; the provider's error code is kept
beside ``last_error`` (its title).

Delivery statuses from the webhook only move forward: sent < delivered < read (any may be skipped,
any may arrive late or twice); ``failed`` records the error and is final.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.shared.delivery import (
    AttemptOutcome,
    Begin,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    NotRetryable,
    clip_response,
)
from domain.shared.errors import InvalidInput
from domain.shared.model import Aggregate, new_id
from domain.whatsapp.errors import (
    CaptionTooLong,
    TemplateParameterCount,
    TextTooLong,
    WindowClosed,
)

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_PARAMETER = 1024
MAX_PARAMETERS = 50
MAX_FILENAME = 240
WINDOW = timedelta(hours=24)
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_TEMPLATE_NAME = re.compile(r"^[a-z0-9_]{1,512}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:_[A-Z]{2})?$")
_GRAPH_ID = re.compile(r"^[0-9]{1,32}$")


def _required(value: object, *, field: str, max_length: int) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise InvalidInput(f"{field} is required", field=field)
    if len(text) > max_length:
        raise InvalidInput(f"{field} must be at most {max_length} characters", field=field)
    return text


def parse_graph_id(value: object, *, field: str) -> str:
    """A Graph API object id (phone number id, WABA id): digits only."""
    text = value.strip() if isinstance(value, str) else ""
    if not _GRAPH_ID.match(text):
        raise InvalidInput(f"{field} must be the numeric id Meta shows (digits only)", field=field)
    return text


def check_e164(value: str, *, field: str = "phone") -> str:
    if not _E164.match(value):
        raise InvalidInput(f"{field} is not an E.164 number (like +50761234567): {value[:40]!r}", field=field)
    return value


def secret_digest(secret: str) -> str:
    """How a verify token is looked up without keeping it in clear: its SHA-256, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


# --- the connection ---------------------------------------------------------------------------


class ConnectionStatus(StrEnum):
    CONNECTED = "CONNECTED"
    NEEDS_REAUTH = "NEEDS_REAUTH"


class WhatsappConnection(Aggregate):
    """One per tenant. The token and secrets are kept sealed (the SecretBox of the application)."""

    def __init__(
        self,
        *,
        id: str,
        tenant_id: str,
        phone_number_id: str,
        waba_id: str,
        access_token_sealed: str,
        app_secret_sealed: str,
        verify_token_sealed: str,
        verify_token_digest: str,
        status: ConnectionStatus,
        last_error: str | None,
        connected_at: datetime,
        updated_at: datetime,
    ) -> None:
        self.id = id
        self.tenant_id = tenant_id
        self.phone_number_id = phone_number_id
        self.waba_id = waba_id
        self.access_token_sealed = access_token_sealed
        self.app_secret_sealed = app_secret_sealed
        self.verify_token_sealed = verify_token_sealed
        self.verify_token_digest = verify_token_digest
        self.status = status
        self.last_error = last_error
        self.connected_at = connected_at
        self.updated_at = updated_at

    def needs_reauth(self, reason: str, *, now: datetime) -> None:
        self.status = ConnectionStatus.NEEDS_REAUTH
        self.last_error = reason[:500]
        self.updated_at = now


def secret_context(tenant_id: str, connection_id: str, name: str) -> str:
    """What a sealed secret is bound to: a ciphertext copied to another row or column fails to open."""
    return f"whatsapp:{tenant_id}:{connection_id}:{name}"


# --- clients' numbers and templates -----------------------------------------------------------


class ClientWhatsapp:
    def __init__(self, *, id: str, tenant_id: str, client_id: str, phone: str, created_at: datetime) -> None:
        self.id = id
        self.tenant_id = tenant_id
        self.client_id = client_id
        self.phone = phone
        self.created_at = created_at

    @classmethod
    def create(cls, *, tenant_id: str, client_id: str, phone: str, now: datetime) -> ClientWhatsapp:
        return cls(id=new_id(), tenant_id=tenant_id, client_id=client_id, phone=check_e164(phone), created_at=now)


def parse_template_name(value: object, *, field: str = "template.name") -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not _TEMPLATE_NAME.match(text):
        raise InvalidInput(f"{field} must be a template name (lowercase letters, digits, _)", field=field)
    return text


def parse_language(value: object, *, field: str = "template.language") -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not _LANGUAGE.match(text):
        raise InvalidInput(f"{field} must be a language code like es, en_US or es_PA", field=field)
    return text


class WhatsappTemplate:
    """A template approved in the tenant's WhatsApp Manager, registered here with its shape, so a
    send with the wrong number of parameters is refused before the provider is called."""

    def __init__(
        self,
        *,
        id: str,
        tenant_id: str,
        name: str,
        language: str,
        body_parameters: int,
        document_header: bool,
        created_at: datetime,
    ) -> None:
        self.id = id
        self.tenant_id = tenant_id
        self.name = name
        self.language = language
        self.body_parameters = body_parameters
        self.document_header = document_header
        self.created_at = created_at

    @classmethod
    def create(
        cls,
        *,
        tenant_id: str,
        name: object,
        language: object,
        body_parameters: object,
        document_header: bool,
        now: datetime,
    ) -> WhatsappTemplate:
        if not isinstance(body_parameters, int) or not 0 <= body_parameters <= MAX_PARAMETERS:
            raise InvalidInput(f"bodyParameters must be between 0 and {MAX_PARAMETERS}", field="bodyParameters")
        return cls(
            id=new_id(),
            tenant_id=tenant_id,
            name=parse_template_name(name, field="name"),
            language=parse_language(language, field="language"),
            body_parameters=body_parameters,
            document_header=bool(document_header),
            created_at=now,
        )

    def check(self, parameters: Sequence[str], *, with_document: bool) -> None:
        if len(parameters) != self.body_parameters:
            raise TemplateParameterCount(
                f"template {self.name} ({self.language}) takes {self.body_parameters} body parameter(s), "
                f"not {len(parameters)}",
                field="template.parameters",
            )
        if with_document and not self.document_header:
            raise InvalidInput(
                f"template {self.name} ({self.language}) has no document header: it cannot carry a PDF",
                field="templateName",
            )
        if self.document_header and not with_document:
            raise InvalidInput(
                f"template {self.name} ({self.language}) has a document header: send it with sendPdfWhatsapp",
                field="template.name",
            )


# --- message content --------------------------------------------------------------------------


class Direction(StrEnum):
    OUTBOUND = "OUTBOUND"
    INBOUND = "INBOUND"


class MessageKind(StrEnum):
    TEXT = "TEXT"
    TEMPLATE = "TEMPLATE"
    DOCUMENT = "DOCUMENT"
    OTHER = "OTHER"  # inbound media, locations, reactions, ...: kept, not interpreted


class MessageStatus(StrEnum):
    """``DeliveryStatus`` (the shared delivery states), then what the webhook adds."""

    QUEUED = DeliveryStatus.QUEUED.value
    SENDING = DeliveryStatus.SENDING.value
    SENT = DeliveryStatus.SENT.value
    FAILED = DeliveryStatus.FAILED.value
    DEAD = DeliveryStatus.DEAD.value
    UNCERTAIN = DeliveryStatus.UNCERTAIN.value
    DELIVERED = "DELIVERED"
    READ = "READ"
    RECEIVED = "RECEIVED"  # inbound


RETRYABLE = frozenset({MessageStatus.FAILED, MessageStatus.DEAD, MessageStatus.UNCERTAIN})
_DELIVERY_STATES = frozenset(MessageStatus(s.value) for s in DeliveryStatus)
_RANK = {MessageStatus.SENT: 1, MessageStatus.DELIVERED: 2, MessageStatus.READ: 3}
PROVIDER_STATUSES = {"sent": MessageStatus.SENT, "delivered": MessageStatus.DELIVERED, "read": MessageStatus.READ}


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
    name = filename.replace("/", "-").replace("\\", "-")[:MAX_FILENAME] or "documento.pdf"
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


# --- the message log --------------------------------------------------------------------------


class WhatsappMessage(Delivery):
    """One message of the log. Outbound ones are delivered by the ``whatsapp.send`` job through the
    shared delivery state machine (``Delivery``: attempts with their outcomes, UNCERTAIN, retry by
    hand); the webhook then moves them on (DELIVERED, READ) or fails them."""

    PROVIDER = "whatsapp"

    def __init__(
        self,
        *,
        id: str,
        tenant_id: str,
        direction: Direction,
        phone: str,
        client_id: str | None,
        kind: MessageKind,
        text: str | None,
        template_name: str | None,
        template_language: str | None,
        template_parameters: list[str],
        file_id: str | None,
        filename: str | None,
        caption: str | None,
        entity_type: str | None,
        entity_id: str | None,
        status: MessageStatus,
        wamid: str | None,
        provider: str | None,
        error_code: int | None,
        last_error: str | None,
        attempts: tuple[DeliveryAttempt, ...],
        retries: int,
        provider_at: datetime | None,
        created_by: str | None,
        created_at: datetime,
        updated_at: datetime,
        sent_at: datetime | None,
        delivered_at: datetime | None,
        read_at: datetime | None,
        failed_at: datetime | None,
    ) -> None:
        self.id = id
        self.tenant_id = tenant_id
        self.direction = direction
        self.phone = phone
        self.client_id = client_id
        self.kind = kind
        self.text = text
        self.template_name = template_name
        self.template_language = template_language
        self.template_parameters = template_parameters
        self.file_id = file_id
        self.filename = filename
        self.caption = caption
        self.entity_type = entity_type
        self.entity_id = entity_id
        self.status = status
        self.wamid = wamid
        self.provider = provider
        self.error_code = error_code
        self.last_error = last_error
        self.attempts = attempts
        self.retries = retries
        self.provider_at = provider_at
        self.created_by = created_by
        self.created_at = created_at
        self.updated_at = updated_at
        self.sent_at = sent_at
        self.delivered_at = delivered_at
        self.read_at = read_at
        self.failed_at = failed_at

    @property
    def provider_message_id(self) -> str | None:  # what ``Delivery`` calls the wamid
        return self.wamid

    @provider_message_id.setter
    def provider_message_id(self, value: str | None) -> None:
        self.wamid = self.wamid or (value[:128] if value else None)

    @classmethod
    def outbound(
        cls,
        *,
        tenant_id: str,
        phone: str,
        client_id: str | None,
        content: MessageContent,
        entity: tuple[str, str] | None = None,
        created_by: str | None,
        now: datetime,
    ) -> WhatsappMessage:
        template, document = content.template, content.document
        return cls(
            id=new_id(), tenant_id=tenant_id, direction=Direction.OUTBOUND, phone=check_e164(phone),
            client_id=client_id, kind=content.kind, text=content.text,
            template_name=template.name if template else None,
            template_language=template.language if template else None,
            template_parameters=list(template.parameters) if template else [],
            file_id=document.file_id if document else None,
            filename=document.filename if document else None,
            caption=document.caption if document else None,
            entity_type=entity[0] if entity else None, entity_id=entity[1] if entity else None,
            status=MessageStatus.QUEUED, wamid=None, provider=None, error_code=None, last_error=None, attempts=(),
            retries=0, provider_at=None, created_by=created_by, created_at=now, updated_at=now,
            sent_at=None, delivered_at=None, read_at=None, failed_at=None,
        )

    @classmethod
    def inbound(
        cls,
        *,
        tenant_id: str,
        phone: str,
        client_id: str | None,
        wamid: str,
        kind: MessageKind,
        text: str | None,
        provider_at: datetime,
        now: datetime,
    ) -> WhatsappMessage:
        return cls(
            id=new_id(), tenant_id=tenant_id, direction=Direction.INBOUND, phone=phone, client_id=client_id,
            kind=kind, text=None if text is None else text[:MAX_TEXT], template_name=None, template_language=None,
            template_parameters=[], file_id=None, filename=None, caption=None, entity_type=None, entity_id=None,
            status=MessageStatus.RECEIVED, wamid=wamid[:128], provider=cls.PROVIDER, error_code=None,
            last_error=None, attempts=(), retries=0, provider_at=provider_at, created_by=None, created_at=now,
            updated_at=now, sent_at=None, delivered_at=None, read_at=None, failed_at=None,
        )

    @property
    def content(self) -> MessageContent:
        document = (
            DocumentContent(file_id=self.file_id, filename=self.filename or "documento.pdf", caption=self.caption)
            if self.file_id
            else None
        )
        template = (
            TemplateContent(
                name=self.template_name, language=self.template_language or "es",
                parameters=tuple(self.template_parameters or ()),
            )
            if self.template_name
            else None
        )
        return MessageContent(kind=MessageKind(self.kind), text=self.text, template=template, document=document)

    def _as_message_status(self) -> None:
        """``Delivery`` writes ``DeliveryStatus`` members; the log keeps ``MessageStatus`` ones (same values)."""
        self.status = MessageStatus(self.status)

    @property
    def _delivering(self) -> bool:
        """In the shared delivery states (the webhook's DELIVERED and READ, and inbound, are not)."""
        return self.direction == Direction.OUTBOUND and self.status in _DELIVERY_STATES

    # --- delivery (the job), through ``Delivery`` ---------------------------------------------------

    def begin_attempt(self, *, now: datetime) -> Begin:
        """QUEUED -> SENDING (``SEND``: call the provider now). A message found SENDING was being
        sent by a run that died: UNCERTAIN (``UNCERTAIN``). Any other status: ``SKIP``."""
        if not self._delivering:
            return Begin.SKIP
        begun = super().begin_attempt(now=now)
        self._as_message_status()
        if begun is Begin.UNCERTAIN:
            self.error_code = None
            self.last_error = (
                "an attempt was interrupted after it was claimed: WhatsApp may have taken the message; "
                "it is sent again only by retryWhatsapp"
            )
        return begun

    def abandon(self, *, now: datetime, claimed_before: datetime) -> bool:
        if not self._delivering:
            return False
        abandoned = super().abandon(now=now, claimed_before=claimed_before)
        self._as_message_status()
        if abandoned:
            self.error_code = None
        return abandoned

    def sent(self, *, wamid: str, now: datetime) -> None:
        """The Graph API took it (also after a re-run already called it UNCERTAIN: now it is known)."""
        if self.status in (MessageStatus.SENDING, MessageStatus.UNCERTAIN):
            self.record_sent(provider=self.PROVIDER, provider_message_id=wamid, response=f"accepted as {wamid}", now=now)
            self._as_message_status()
            self.error_code = None
        else:  # the webhook got here first (DELIVERED, READ): only the wamid is news
            self.provider_message_id = wamid
            self.sent_at = self.sent_at or now

    def not_sent(self, *, code: int | None, title: str, now: datetime) -> None:
        """A transient refusal: the provider did not take it; queued again for the job's next attempt."""
        if self.status == MessageStatus.SENDING:
            self.record_deferred(provider=self.PROVIDER, reason=title, now=now, last=False)
            self._as_message_status()
            self.error_code = code

    def dead(self, *, code: int | None, title: str, now: datetime) -> None:
        """A transient refusal on the last attempt: DEAD."""
        if self.status == MessageStatus.SENDING:
            self.record_deferred(provider=self.PROVIDER, reason=title, now=now, last=True)
            self._as_message_status()
            self.error_code = code
            self.failed_at = now

    def maybe_sent(self, reason: str, *, now: datetime) -> None:
        """The call's outcome is unknown (a timeout after the request left): never resent by itself."""
        if self.status == MessageStatus.SENDING:
            self._close_last(AttemptOutcome.INTERRUPTED, now=now, provider=self.PROVIDER, response=reason)
            self.status = MessageStatus.UNCERTAIN
            self.error_code = None
            self.last_error = clip_response(reason)
            self.updated_at = now

    def failed(self, *, code: int | None, title: str, now: datetime) -> None:
        """Refused for good: by the provider (SENDING), or before it was called (still QUEUED)."""
        if self.status == MessageStatus.SENDING:
            self.record_rejected(provider=self.PROVIDER, reason=title, now=now)
            self._as_message_status()
        elif self.status == MessageStatus.QUEUED:
            self.status = MessageStatus.FAILED
            self.last_error = clip_response(title)
            self.updated_at = now
        else:
            return
        self.error_code = code
        self.failed_at = now

    def retry(self, *, now: datetime) -> int:  # type: ignore[override]
        """FAILED, DEAD or UNCERTAIN -> QUEUED for a new round of delivery; returns the round."""
        if not self._delivering:
            raise NotRetryable(
                f"message {self.id} is {self.status}; only FAILED, DEAD or UNCERTAIN messages are retried",
                field="id",
            )
        super().retry(now=now)
        self._as_message_status()
        self.error_code = None
        self.last_error = None
        self.failed_at = None
        return self.retries

    # --- delivery statuses (the webhook) ------------------------------------------------------

    def apply_status(
        self,
        status: str,
        *,
        at: datetime,
        now: datetime,
        wamid: str | None = None,
        error_code: int | None = None,
        error_title: str | None = None,
    ) -> bool:
        """Apply one status of the webhook; True if anything changed. Only forward; failed is final."""
        if self.direction is not Direction.OUTBOUND or self.status == MessageStatus.FAILED:
            return False
        changed = False
        if wamid and not self.wamid:
            self.wamid = wamid[:128]
            changed = True
        current = _RANK.get(MessageStatus(self.status), 0)
        if status == "failed":
            if current >= _RANK[MessageStatus.DELIVERED]:
                return changed
            self.status = MessageStatus.FAILED
            self.failed_at = at
            self.error_code = error_code
            self.last_error = clip_response(error_title or "failed")
            self.updated_at = now
            return True
        target = PROVIDER_STATUSES.get(status)
        if target is None:
            return changed
        if _RANK[target] > current:
            self.status = target
            self.error_code = None
            self.last_error = None
            changed = True
        # a skipped or late step still tells when it happened, once
        for step, attribute in ((MessageStatus.SENT, "sent_at"), (MessageStatus.DELIVERED, "delivered_at"),
                                (MessageStatus.READ, "read_at")):
            if _RANK[step] <= _RANK[target] and getattr(self, attribute) is None:
                setattr(self, attribute, at)
                changed = True
        if changed:
            self.updated_at = now
        return changed


# --- what a Graph API error means -------------------------------------------------------------

RATE_LIMITED = frozenset({130429, 131056, 80007})
TEMPORARY = frozenset({1, 2, 131000, 131016})  # unknown / temporarily unavailable / internal / service down
WINDOW_CLOSED_CODE = 131047
TOKEN_INVALID = 190


def graph_disposition(code: int | None, http_status: int | None) -> str:
    """``retry`` (rate limits, temporary errors, 5xx: backoff), ``window`` (131047: use a template),
    ``reauth`` (190: the token is no longer valid) or ``fail`` (132000, 132001, 132018, 131026, 131051,
    100, 368 and anything else: trying again cannot help)."""
    if code in RATE_LIMITED or code in TEMPORARY:
        return "retry"
    if code == WINDOW_CLOSED_CODE:
        return "window"
    if code == TOKEN_INVALID or http_status == 401:
        return "reauth"
    if http_status is not None and (http_status >= 500 or http_status in (408, 429)):
        return "retry"
    return "fail"
