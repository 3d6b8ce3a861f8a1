"""Read models of the emails domain: frozen views, the message filter and its cursor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.deliveries.views import LogCursor, view_of
from application.emails.templates import BUILT_IN
from domain.emails.model import (
    ClientEmail,
    Direction,
    EmailKind,
    EmailLocale,
    EmailMessage,
    EmailSettings,
    EmailTemplate,
    RecipientKind,
)
from domain.shared.delivery import DeliveryAttempt, DeliveryStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientEmailView:
    id: str
    client_id: str
    email: str
    kind: RecipientKind
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailMessageView:
    id: str
    direction: Direction
    kind: EmailKind
    status: DeliveryStatus
    message_id: str  # the RFC 5322 Message-ID
    from_address: str | None
    reply_to: tuple[str, ...]
    to: tuple[str, ...]
    cc: tuple[str, ...]
    bcc: tuple[str, ...]
    subject: str
    html: str | None
    text: str | None
    attachment_file_ids: tuple[str, ...]
    entity_type: str | None
    entity_id: str | None
    provider: str | None
    provider_message_id: str | None
    last_error: str | None
    attempts: tuple[DeliveryAttempt, ...]
    retries: int
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailTemplateView:
    kind: EmailKind
    locale: EmailLocale
    subject: str
    html: str | None
    text: str | None
    custom: bool  # the tenant's own (else the built-in one)
    updated_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailSettingsView:
    smtp: str | None  # "smtps://user@host:465": never the password
    from_address: str | None
    updated_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailMessageFilter:
    statuses: tuple[DeliveryStatus, ...] = ()
    kind: EmailKind | None = None
    direction: Direction | None = None
    entity_type: str | None = None
    entity_id: str | None = None


class EmailMessageCursor(LogCursor):
    """A position in the newest-first email log."""

    __slots__ = ()
    log = "email"


def client_email_view(email: ClientEmail) -> ClientEmailView:
    return ClientEmailView(
        id=email.id, client_id=email.client_id, email=email.email, kind=RecipientKind(email.kind),
        created_at=email.created_at,
    )


def email_message_view(message: EmailMessage) -> EmailMessageView:
    return view_of(EmailMessageView, message, message_id=message.internet_message_id)


def email_template_view(kind: EmailKind, locale: EmailLocale, custom: EmailTemplate | None) -> EmailTemplateView:
    """The tenant's own template, or the built-in one (``custom`` None)."""
    if custom is not None:
        return EmailTemplateView(
            kind=kind, locale=locale, subject=custom.subject, html=custom.html, text=custom.text, custom=True,
            updated_at=custom.updated_at,
        )
    built_in = BUILT_IN[(kind, locale)]
    return EmailTemplateView(
        kind=kind, locale=locale, subject=built_in.subject, html=built_in.html, text=built_in.text,
        custom=False, updated_at=None,
    )


def email_settings_view(settings: EmailSettings | None) -> EmailSettingsView:
    if settings is None:
        return EmailSettingsView(smtp=None, from_address=None, updated_at=None)
    return EmailSettingsView(smtp=settings.smtp_summary, from_address=settings.from_address, updated_at=settings.updated_at)
