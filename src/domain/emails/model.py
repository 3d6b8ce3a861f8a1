"""Emails: a client's default recipients, the message log, and per-tenant subject/body templates.

Addresses arrive here already checked and normalised by the application's ``AddressValidator``
port (the ``email-validator`` library in an adapter); the domain checks what a message is made of
(how many recipients, a subject with no line breaks, a body), and its delivery state lives in
``domain.shared.delivery``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Unpack

from domain.shared.delivery import Delivery, DeliveryState, NoRecipients, queued
from domain.shared.errors import InvalidInput
from domain.shared.model import Aggregate, new_id

MAX_RECIPIENTS = 50
MAX_ATTACHMENTS = 10
MAX_SUBJECT_LENGTH = 998  # one RFC 5322 header line
MAX_BODY_LENGTH = 1_000_000
MAX_CLIENT_EMAILS = 50


def _parse_enum(enum: type[StrEnum], value: object, field: str) -> StrEnum:
    try:
        return enum(value)
    except ValueError:
        raise InvalidInput(
            f"{field} must be one of {', '.join(enum)}, not {str(value)[:32]!r}", field=field
        ) from None


class RecipientKind(StrEnum):
    TO = "TO"
    CC = "CC"
    BCC = "BCC"

    @classmethod
    def parse(cls, value: object, *, field: str = "kind") -> RecipientKind:
        return _parse_enum(cls, value, field)  # type: ignore[return-value]


class EmailKind(StrEnum):
    """What a message is about: chooses its built-in subject and body."""

    INVOICE = "INVOICE"
    QUOTE = "QUOTE"
    STATEMENT = "STATEMENT"
    GENERIC = "GENERIC"
    SIGNATURE_APPROVAL = "SIGNATURE_APPROVAL"

    @classmethod
    def parse(cls, value: object, *, field: str = "kind") -> EmailKind:
        return _parse_enum(cls, value, field)  # type: ignore[return-value]


class EmailLocale(StrEnum):
    ES = "es"
    EN = "en"

    @classmethod
    def parse(cls, value: object, *, field: str = "locale") -> EmailLocale:
        text = value.strip().lower() if isinstance(value, str) else value
        if isinstance(text, str) and text.startswith("es"):
            text = "es"  # es-PA, es-419, ... all use the Spanish templates
        return _parse_enum(cls, text, field)  # type: ignore[return-value]


class Direction(StrEnum):
    OUTBOUND = "OUTBOUND"
    INBOUND = "INBOUND"


class TooManyRecipients(InvalidInput):
    code = "TOO_MANY_RECIPIENTS"


class ClientEmailExists(InvalidInput):
    code = "CLIENT_EMAIL_EXISTS"


def parse_subject(value: object, *, field: str = "subject") -> str:
    """One header line: no CR/LF or other control characters (no header injection), not blank."""
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be text", field=field)
    if any(ch in value for ch in "\r\n\x00"):
        raise InvalidInput(f"{field} must be one line (no line breaks)", field=field)
    text = "".join(ch if ch.isprintable() else " " for ch in value).strip()
    if not text:
        raise InvalidInput(f"{field} is required", field=field)
    if len(text) > MAX_SUBJECT_LENGTH:
        raise InvalidInput(f"{field} must be at most {MAX_SUBJECT_LENGTH} characters", field=field)
    return text


def parse_body(value: object, *, field: str) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be text", field=field)
    if len(value) > MAX_BODY_LENGTH:
        raise InvalidInput(f"{field} must be at most {MAX_BODY_LENGTH} characters", field=field)
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class Recipients:
    """Checked addresses: no address twice (an address in ``to`` is dropped from cc and bcc)."""

    to: tuple[str, ...]
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()

    @classmethod
    def of(cls, to: Sequence[str], cc: Sequence[str] = (), bcc: Sequence[str] = ()) -> Recipients:
        seen: set[str] = set()

        def unique(addresses: Sequence[str]) -> tuple[str, ...]:
            kept = []
            for address in addresses:
                if address.lower() not in seen:
                    seen.add(address.lower())
                    kept.append(address)
            return tuple(kept)

        recipients = cls(to=unique(to), cc=unique(cc), bcc=unique(bcc))
        if not recipients.to:
            if recipients.cc or recipients.bcc:
                raise NoRecipients("at least one recipient in to is required", field="to")
            raise NoRecipients(
                "no recipients: give to, or add emails to the client (createClientEmail)", field="to"
            )
        if recipients.count > MAX_RECIPIENTS:
            raise TooManyRecipients(f"at most {MAX_RECIPIENTS} recipients in all", field="to")
        return recipients

    @property
    def count(self) -> int:
        return len(self.to) + len(self.cc) + len(self.bcc)


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailContent:
    subject: str
    html: str | None
    text: str | None

    @classmethod
    def of(cls, *, subject: object, html: object, text: object) -> EmailContent:
        content = cls(
            subject=parse_subject(subject),
            html=parse_body(html, field="html"),
            text=parse_body(text, field="text"),
        )
        if content.html is None and content.text is None:
            raise InvalidInput("a body is required: html, text or both", field="text")
        return content


class ClientEmail(Aggregate):
    """One of a client's default addresses, and whether it goes in To, Cc or Bcc."""

    def __init__(
        self, *, id: str, tenant_id: str, client_id: str, email: str, kind: RecipientKind, created_at: datetime
    ) -> None:
        self.id = id
        self.tenant_id = tenant_id
        self.client_id = client_id
        self.email = email
        self.kind = kind
        self.created_at = created_at

    @classmethod
    def add_to(
        cls, existing: Sequence[ClientEmail], *, tenant_id: str, client_id: str, email: str, kind: RecipientKind,
        now: datetime,
    ) -> ClientEmail:
        """A new address of a client that has ``existing`` ones: not one of them, and at most
        ``MAX_CLIENT_EMAILS`` in all."""
        if any(e.email.lower() == email.lower() for e in existing):
            raise ClientEmailExists(f"{email} is already one of this client's emails", field="email")
        if len(existing) >= MAX_CLIENT_EMAILS:
            raise InvalidInput(f"a client has at most {MAX_CLIENT_EMAILS} emails", field="email")
        return cls(id=new_id(), tenant_id=tenant_id, client_id=client_id, email=email, kind=kind, created_at=now)


def message_id_header(message_id: str, domain: str) -> str:
    """The RFC 5322 Message-ID of a message: ``<{id}@{domain}>``, the same on every attempt."""
    return f"<{message_id}@{domain}>"


class EmailMessage(Delivery):
    """One message of the log. Outbound ones are delivered by the ``emails.send`` job."""

    retry_operation = "retryEmail"

    def __init__(
        self,
        *,
        direction: Direction,
        kind: EmailKind,
        internet_message_id: str,
        idempotency_key: str,
        from_address: str | None,
        reply_to: tuple[str, ...],
        to: tuple[str, ...],
        cc: tuple[str, ...],
        bcc: tuple[str, ...],
        subject: str,
        html: str | None,
        text: str | None,
        attachment_file_ids: tuple[str, ...],
        provider_message_id: str | None,
        **delivery: Unpack[DeliveryState],
    ) -> None:
        super().__init__(**delivery)
        self.direction = direction
        self.kind = kind
        self.internet_message_id = internet_message_id
        self.idempotency_key = idempotency_key
        self.from_address = from_address
        self.reply_to = reply_to
        self.to = to
        self.cc = cc
        self.bcc = bcc
        self.subject = subject
        self.html = html
        self.text = text
        self.attachment_file_ids = attachment_file_ids
        self.provider_message_id = provider_message_id

    @classmethod
    def queue(
        cls,
        *,
        tenant_id: str,
        kind: EmailKind,
        recipients: Recipients,
        content: EmailContent,
        from_address: str | None,
        reply_to: Sequence[str] = (),
        attachment_file_ids: Sequence[str] = (),
        entity: tuple[str, str] | None = None,
        message_id_domain: str,
        created_by: str | None,
        now: datetime,
    ) -> EmailMessage:
        if len(attachment_file_ids) > MAX_ATTACHMENTS:
            raise InvalidInput(f"at most {MAX_ATTACHMENTS} attachments", field="attachmentFileIds")
        state = queued(tenant_id=tenant_id, entity=entity, created_by=created_by, now=now)
        return cls(
            direction=Direction.OUTBOUND,
            kind=kind,
            internet_message_id=message_id_header(state["id"], message_id_domain),
            idempotency_key=f"email:{state['id']}",
            from_address=from_address,
            reply_to=tuple(reply_to),
            to=recipients.to,
            cc=recipients.cc,
            bcc=recipients.bcc,
            subject=content.subject,
            html=content.html,
            text=content.text,
            attachment_file_ids=tuple(dict.fromkeys(attachment_file_ids)),
            provider_message_id=None,
            **state,
        )

    @property
    def delivery_key(self) -> str:
        return self.idempotency_key


class EmailTemplate(Aggregate):
    """A tenant's own subject and body for one kind of message in one language (Jinja, sandboxed)."""

    def __init__(
        self,
        *,
        tenant_id: str,
        kind: EmailKind,
        locale: EmailLocale,
        subject: str,
        html: str | None,
        text: str | None,
        updated_at: datetime,
    ) -> None:
        self.tenant_id = tenant_id
        self.kind = kind
        self.locale = locale
        self.subject = subject
        self.html = html
        self.text = text
        self.updated_at = updated_at

    def change(self, *, subject: str, html: str | None, text: str | None, now: datetime) -> None:
        self.subject, self.html, self.text, self.updated_at = subject, html, text, now


class EmailSettings(Aggregate):
    """A tenant's own sending settings: its SMTP server (the URL sealed by the SecretBox: it holds a
    password) and its From address. Without them the instance's SMTP server or the outbox is used."""

    def __init__(
        self,
        *,
        tenant_id: str,
        smtp_url_sealed: str | None,
        smtp_summary: str | None,
        from_address: str | None,
        updated_at: datetime,
    ) -> None:
        self.tenant_id = tenant_id
        self.smtp_url_sealed = smtp_url_sealed
        self.smtp_summary = smtp_summary  # "smtps://user@host:465": what may be shown, never the password
        self.from_address = from_address
        self.updated_at = updated_at

    def change(
        self, *, smtp_url_sealed: str | None, smtp_summary: str | None, from_address: str | None, now: datetime
    ) -> None:
        self.smtp_url_sealed = smtp_url_sealed
        self.smtp_summary = smtp_summary
        self.from_address = from_address
        self.updated_at = now


def smtp_secret_context(tenant_id: str) -> str:
    """What a tenant's sealed SMTP URL is bound to: it opens for this tenant only."""
    return f"emails-smtp:{tenant_id}"
