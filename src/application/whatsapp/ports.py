"""Ports of the WhatsApp domain: the Graph API, phone numbers, webhook signatures, storage of the log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from application.whatsapp.views import (
    ClientWhatsappView,
    WhatsappConnectionView,
    WhatsappMessageCursor,
    WhatsappMessageFilter,
    WhatsappMessageView,
    WhatsappRoute,
    WhatsappTemplateView,
)
from domain.whatsapp.model import (
    ClientWhatsapp,
    DocumentContent,
    MessageKind,
    TemplateContent,
    WhatsappConnection,
    WhatsappMessage,
    WhatsappTemplate,
)

# --- the Graph API (WhatsApp Cloud API) --------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class GraphCredentials:
    """Opened from the sealed columns for one call; never logged, never in a job payload."""

    phone_number_id: str
    access_token: str = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class OutgoingWhatsapp:
    """One message as the Graph API takes it. ``to`` is E.164 (the adapter drops the ``+``);
    ``media_id`` is the uploaded document of a DOCUMENT message or of a template's header;
    ``callback_data`` (our message id) comes back in the status webhooks (``biz_opaque_callback_data``)."""

    to: str
    kind: MessageKind
    text: str | None = None
    template: TemplateContent | None = None
    document: DocumentContent | None = None
    media_id: str | None = None
    callback_data: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SentWhatsapp:
    wamid: str
    wa_id: str | None = None


class GraphApiError(Exception):
    """The Graph API answered with an error: ``code`` (e.g. 131047, 130429, 190), its title,
    the HTTP status, and a ``Retry-After`` when one was given. No token in the text."""

    def __init__(
        self, *, code: int | None, title: str, http_status: int | None, retry_after: timedelta | None = None
    ) -> None:
        super().__init__(f"{code}: {title}")
        self.code = code
        self.title = title
        self.http_status = http_status
        self.retry_after = retry_after


class GraphUnreachable(Exception):
    """No answer. ``maybe_delivered``: the request may have reached the provider (a read timeout, a
    dropped connection after sending); False when it certainly did not (connection refused)."""

    def __init__(self, reason: str, *, maybe_delivered: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.maybe_delivered = maybe_delivered


class WhatsAppSender(Protocol):
    def send(self, credentials: GraphCredentials, message: OutgoingWhatsapp) -> SentWhatsapp:
        """``POST /{phone-number-id}/messages``. Raises ``GraphApiError`` or ``GraphUnreachable``."""
        ...

    def upload_media(self, credentials: GraphCredentials, *, data: bytes, filename: str, mime: str) -> str:
        """``POST /{phone-number-id}/media`` (multipart); the media id."""
        ...


class PhoneNumbers(Protocol):
    def normalize(self, raw: object, *, field: str) -> str:
        """``raw`` as E.164 (``+50761234567``); a number without a country code is taken as Panama's.
        Raises ``InvalidPhone`` naming ``field``."""
        ...


class WebhookSignatures(Protocol):
    def valid(self, *, secret: str, body: bytes, header: str | None) -> bool:
        """``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>``, compared in constant time."""
        ...


# --- storage --------------------------------------------------------------------------------


class WhatsappRepository(Protocol):
    """The tenant's connection, clients' numbers, templates and messages (aggregates)."""

    def connection(self) -> WhatsappConnection | None: ...

    def add_connection(self, connection: WhatsappConnection) -> None: ...

    def delete_connection(self, connection: WhatsappConnection) -> None: ...

    def number(self, number_id: str) -> ClientWhatsapp | None: ...

    def number_exists(self, client_id: str, phone: str) -> bool: ...

    def add_number(self, number: ClientWhatsapp) -> None: ...

    def delete_number(self, number: ClientWhatsapp) -> None: ...

    def template(self, template_id: str) -> WhatsappTemplate | None: ...

    def template_named(self, name: str, language: str) -> WhatsappTemplate | None: ...

    def add_template(self, template: WhatsappTemplate) -> None: ...

    def delete_template(self, template: WhatsappTemplate) -> None: ...

    def add_message(self, message: WhatsappMessage) -> None: ...

    def message(self, message_id: str) -> WhatsappMessage | None: ...

    def message_for_update(self, message_id: str) -> WhatsappMessage | None:
        """Locked until the transaction ends (the write lock on SQLite), read after the lock."""
        ...

    def outbound_by_wamid(self, wamids: Sequence[str]) -> dict[str, WhatsappMessage]: ...

    def inbound_exists(self, wamid: str) -> bool: ...


class WhatsappReader(Protocol):
    def connection(self) -> WhatsappConnectionView | None: ...

    def numbers_of(self, client_ids: Sequence[str]) -> dict[str, list[ClientWhatsappView]]: ...

    def clients_by_phone(self, phones: Sequence[str]) -> dict[str, str]:
        """phone -> the (oldest) client with that number."""
        ...

    def templates(self) -> list[WhatsappTemplateView]: ...

    def message(self, message_id: str) -> WhatsappMessageView | None: ...

    def messages(
        self, filter: WhatsappMessageFilter, *, first: int, after: WhatsappMessageCursor | None
    ) -> list[WhatsappMessageView]:
        """Newest first, by (created_at, id)."""
        ...

    def last_inbound_at(self, phones: Sequence[str]) -> dict[str, datetime]:
        """When each number last wrote to the tenant (what opens the 24-hour window)."""
        ...


class WhatsappDirectory(Protocol):
    """Across tenants (a unit of work without a tenant): who a webhook or handshake is for."""

    def by_phone_number_id(self, phone_number_id: str) -> WhatsappRoute | None:
        """The tenant connected with that number, and its sealed app secret."""
        ...

    def by_verify_token_digest(self, digest: str) -> WhatsappRoute | None:
        """The tenant whose verify token has that SHA-256, and its sealed verify token."""
        ...
