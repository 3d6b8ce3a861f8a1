"""Read models of the emails domain: frozen views, the message filter and its cursor."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

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
from domain.shared.errors import InvalidInput
from domain.shared.model import parse_id


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


@dataclass(frozen=True, slots=True)
class EmailMessageCursor:
    """A position in the newest-first message log."""

    created_at: datetime
    message_id: str

    @classmethod
    def of(cls, view: EmailMessageView) -> EmailMessageCursor:
        return cls(view.created_at, view.id)

    def encode(self) -> str:
        raw = f"email|{self.created_at.isoformat()}|{self.message_id}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, *, field: str = "after") -> EmailMessageCursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            kind, moment, message_id = raw.split("|")
            created_at = datetime.fromisoformat(moment)
            if kind != "email" or created_at.tzinfo is None:
                raise ValueError("not an email cursor")
            return cls(created_at, parse_id(message_id, field=field))
        except (ValueError, UnicodeDecodeError, binascii.Error, InvalidInput):
            raise InvalidInput(f"{field} is not a cursor this API returned", field=field) from None


def client_email_view(email: ClientEmail) -> ClientEmailView:
    return ClientEmailView(
        id=email.id, client_id=email.client_id, email=email.email, kind=RecipientKind(email.kind),
        created_at=email.created_at,
    )


def email_message_view(message: EmailMessage) -> EmailMessageView:
    return EmailMessageView(
        id=message.id,
        direction=Direction(message.direction),
        kind=EmailKind(message.kind),
        status=DeliveryStatus(message.status),
        message_id=message.internet_message_id,
        from_address=message.from_address,
        reply_to=tuple(message.reply_to),
        to=tuple(message.to),
        cc=tuple(message.cc),
        bcc=tuple(message.bcc),
        subject=message.subject,
        html=message.html,
        text=message.text,
        attachment_file_ids=tuple(message.attachment_file_ids),
        entity_type=message.entity_type,
        entity_id=message.entity_id,
        provider=message.provider,
        provider_message_id=message.provider_message_id,
        last_error=message.last_error,
        attempts=tuple(message.attempts),
        retries=message.retries,
        created_by=message.created_by,
        created_at=message.created_at,
        updated_at=message.updated_at,
        sent_at=message.sent_at,
    )


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
