"""Ports of the emails domain: how a message leaves the service, and where the domain keeps its own.

An ``EmailSender`` is the e-mail ``MessageChannel`` (``application.deliveries.ports``): it
delivers one ``OutgoingEmail`` and returns a ``Receipt`` or raises the deferred, rejected or
unknown outcome. Every attempt of one message carries the same ``message_id`` (the RFC 5322
Message-ID header) and ``idempotency_key``; a sender passes them on to its provider (header, API
field) so the provider or the recipient can tell a repeat from a new message.

``EmailSenders`` chooses, per tenant and at the moment of sending, which sender that tenant
uses (an Aurinko connection, the tenant's SMTP URL, the instance SMTP URL, the local outbox).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from application.deliveries.ports import DeliveriesUnitOfWork, MessageChannel
from application.emails.views import ClientEmailView, EmailMessageCursor, EmailMessageFilter, EmailMessageView
from application.files.ports import FileReader, FileRepository
from application.invoicing.ports import ClientReader, InvoiceReader, QuoteReader
from application.tenancy.ports import TenantDirectory
from domain.emails.model import ClientEmail, EmailKind, EmailLocale, EmailMessage, EmailSettings, EmailTemplate


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailAttachment:
    name: str
    mime: str
    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class OutgoingEmail:
    tenant_id: str
    message_id: str  # RFC 5322 Message-ID ("<...@...>"), the same for every attempt of one message
    idempotency_key: str
    from_address: str | None  # None: the sender's own default address
    reply_to: tuple[str, ...]
    to: tuple[str, ...]
    cc: tuple[str, ...]
    bcc: tuple[str, ...]
    subject: str
    html: str | None
    text: str | None
    attachments: tuple[EmailAttachment, ...]


class EmailSender(MessageChannel[OutgoingEmail], Protocol):
    """The e-mail channel: SMTP, the local outbox, a connected mailbox (Aurinko)."""


class EmailSenders(Protocol):
    def for_tenant(self, tenant_id: str) -> EmailSender:
        """The sender ``tenant_id`` uses now (chosen on each send, so a new connection wins at once)."""
        ...


class AddressValidator(Protocol):
    def normalize(self, value: object, *, field: str) -> str:
        """``value`` as a deliverable-looking address (syntax only, no DNS), normalised; or raise
        ``domain.shared.email.InvalidEmail`` naming ``field``."""
        ...


class EmailTemplateRenderer(Protocol):
    """Renders subject and body templates in the same Jinja sandbox as the PDF templates."""

    def check(self, source: str, *, field: str) -> None:
        """Raise ``domain.pdf.errors.TemplateInvalid`` (naming ``field`` and the line) if it does not compile."""
        ...

    def render(self, source: str, context: Mapping[str, Any], *, field: str, html: bool) -> str:
        """``html``: autoescaped (the HTML body); otherwise plain text (subject, text body).
        Raises ``TemplateInvalid`` or ``RenderFailed`` naming ``field``."""
        ...


class ClientEmailRepository(Protocol):
    def add(self, email: ClientEmail) -> None: ...

    def get(self, client_email_id: str) -> ClientEmail | None: ...

    def delete(self, email: ClientEmail) -> None: ...

    def of_client(self, client_id: str) -> list[ClientEmail]: ...


class ClientEmailReader(Protocol):
    def of_clients(self, client_ids: Sequence[str]) -> dict[str, list[ClientEmailView]]:
        """Each client's default addresses, oldest first (one query for many clients)."""
        ...


class EmailMessageRepository(Protocol):
    def add(self, message: EmailMessage) -> None: ...

    def get_for_update(self, message_id: str) -> EmailMessage | None:
        """The message, locked until the transaction ends (re-read after the lock)."""
        ...


class EmailMessageReader(Protocol):
    def get(self, message_id: str) -> EmailMessageView | None: ...

    def find(self, filter: EmailMessageFilter, *, first: int, after: EmailMessageCursor | None) -> list[EmailMessageView]:
        """Newest first, by (created_at, id)."""
        ...


class EmailTemplateRepository(Protocol):
    def add(self, template: EmailTemplate) -> None: ...

    def get(self, kind: EmailKind, locale: EmailLocale) -> EmailTemplate | None: ...

    def delete(self, template: EmailTemplate) -> None: ...

    def all(self) -> list[EmailTemplate]: ...


class EmailSettingsRepository(Protocol):
    def get(self) -> EmailSettings | None:
        """The tenant's settings (the unit of work's tenant), if it ever set any."""
        ...

    def add(self, settings: EmailSettings) -> None: ...


class SmtpUrlChecker(Protocol):
    def summary(self, url: str, *, field: str) -> str:
        """A tenant's SMTP URL checked (refused with ``InvalidInput`` naming ``field``, never
        quoting the password), described without its password: ``smtps://user@host:465``."""
        ...


class EmailsUnitOfWork(DeliveriesUnitOfWork, Protocol):
    """What the emails handlers use of a unit of work: their own repositories, the documents they
    send (read side), the files they attach, and the delivery jobs."""

    tenants: TenantDirectory
    files: FileRepository
    file_views: FileReader
    client_views: ClientReader
    invoice_views: InvoiceReader
    quote_views: QuoteReader
    client_emails: ClientEmailRepository
    client_email_views: ClientEmailReader
    email_messages: EmailMessageRepository
    email_message_views: EmailMessageReader
    email_templates: EmailTemplateRepository
    email_settings: EmailSettingsRepository
