"""Ports of the WhatsApp domain: the Graph API, phone numbers, webhook signatures, storage of the log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from application.deliveries.ports import DeliveriesUnitOfWork, MessageChannel
from application.invoicing.ports import ClientReader, ClientRepository, InvoiceReader, QuoteReader

from application.whatsapp.views import (
    ClientWhatsappView,
    WhatsappConnectionView,
    WhatsappMessageCursor,
    WhatsappMessageFilter,
    WhatsappMessageView,
    WhatsappRoute,
    WhatsappTemplateView,
)
from application.files.ports import FileReader
from domain.whatsapp.connection import ClientWhatsapp, WhatsappConnection, WhatsappTemplate
from domain.whatsapp.content import DocumentContent, MessageKind, TemplateContent
from domain.whatsapp.messages import InboundWhatsapp, WhatsappDelivery

# --- the WhatsApp Cloud API --------------------------------------------------------------------


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
class GraphDelivery:
    """What one send needs: the tenant's credentials, the message, and its document's bytes (uploaded
    first, then sent as ``media_id``)."""

    credentials: GraphCredentials
    message: OutgoingWhatsapp
    document: bytes | None = field(default=None, repr=False)
    mime: str = "application/pdf"


class WhatsAppSender(MessageChannel[GraphDelivery], Protocol):
    """The WhatsApp channel (the Graph API). What an error code means for the message is decided by
    ``domain.whatsapp.graph.graph_disposition``: retry (deferred), reauth (rejected, the credentials
    refused), window or fail (rejected); no answer after the request left is the unknown outcome."""


class PhoneNumbers(Protocol):
    def normalize(self, raw: object, *, field: str) -> str:
        """``raw`` as E.164 (``+50761234567``); a number without a country code is taken as Panama's.
        Raises ``InvalidPhone`` naming ``field`` for anything but a mobile number (a landline, a
        toll-free number...: WhatsApp cannot reach it)."""
        ...


class WebhookSignatures(Protocol):
    def valid(self, *, secret: str, body: bytes, header: str | None) -> bool:
        """``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>``, compared in constant time."""
        ...


# --- storage --------------------------------------------------------------------------------


class WhatsappRepository(Protocol):
    """The tenant's connection, clients' numbers, templates and messages."""

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

    def add_delivery(self, message: WhatsappDelivery) -> None: ...

    def add_inbound(self, message: InboundWhatsapp) -> None: ...

    def message_for_update(self, message_id: str) -> WhatsappDelivery | None:
        """An outbound message, locked until the transaction ends (the write lock on SQLite), read
        after the lock."""
        ...

    def outbound_by_wamid(self, wamids: Sequence[str]) -> dict[str, WhatsappDelivery]: ...

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


class WhatsappUnitOfWork(DeliveriesUnitOfWork, Protocol):
    """What the WhatsApp handlers use of a unit of work: their own repositories, the clients and
    documents they send to (read side; the client's default channel is written here), the files
    they send, and the delivery jobs."""

    clients: ClientRepository
    client_views: ClientReader
    invoice_views: InvoiceReader
    quote_views: QuoteReader
    file_views: FileReader
    whatsapp: WhatsappRepository
    whatsapp_views: WhatsappReader
    whatsapp_directory: WhatsappDirectory
    """Across tenants (also in a unit of work without one): who a webhook or handshake is for."""
