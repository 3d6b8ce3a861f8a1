"""Commands and queries of the emails domain."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from application.deliveries.flows import DeliverMessage, GetMessage, RetryMessage
from application.shared.messages import Command, Query


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailPolicy:
    """Instance-wide settings of sending: the Message-ID domain, list sizes, attachment limit."""

    message_id_domain: str = "istmo.example.com"
    delivery_attempts: int = 8  # its job gets one more: the spare run (see DeliverMessage)
    default_locale: str = "es"
    max_attachment_bytes: int = 25 * 1024 * 1024  # all attachments of one message together
    default_page_size: int = 50
    max_page_size: int = 200


# --- client defaults -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateClientEmail(Command):
    client_id: str
    email: str
    kind: str = "TO"  # TO | CC | BCC


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteClientEmail(Command):
    client_email_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class GetClientEmails(Query):
    """The default addresses of each client (for ``Client.emails``, batched)."""

    client_ids: tuple[str, ...]


# --- sending -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SendEmail(Command):
    """A message written by the caller. A missing subject or body comes from the kind's template
    (GENERIC or SIGNATURE_APPROVAL), with ``message`` (and ``action_url``) in it."""

    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    reply_to: tuple[str, ...] = ()
    subject: str | None = None
    html: str | None = None
    text: str | None = None
    message: str | None = None
    action_url: str | None = None
    kind: str = "GENERIC"
    locale: str | None = None
    attachment_file_ids: tuple[str, ...] = ()
    entity_type: str | None = None
    entity_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SendPdfEmail(Command):
    """The PDF of an invoice or quote (rendered, or the same file again: renders are
    deterministic), with the kind's template. Recipients: ``to`` (and cc/bcc) if given, else the
    document's ad-hoc emails, else the client's defaults."""

    entity_type: str  # INVOICE | QUOTE
    entity_id: str
    template_id: str | None = None
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    message: str | None = None
    locale: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ResendInvoiceEmail(Command):
    invoice_id: str
    email: str | None = None
    message: str | None = None
    locale: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SendStatementEmail(Command):
    client_id: str
    period_from: date
    period_to: date
    currency: str | None = None  # none: the tenant profile's (USD without a profile)
    template_id: str | None = None
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    message: str | None = None
    locale: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryEmail(RetryMessage):
    """Queue a FAILED, DEAD or UNCERTAIN message again (same Message-ID and idempotency key)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverEmail(DeliverMessage):
    """The ``emails.send`` job: one delivery attempt of one queued message (see ``DeliverMessage``)."""


# --- the log ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class GetEmailMessage(GetMessage):
    """One message of the e-mail log."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FindEmailMessages(Query):
    statuses: tuple[str, ...] = ()
    kind: str | None = None
    direction: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    first: int | None = None
    after: str | None = None


# --- templates -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SetEmailTemplate(Command):
    kind: str
    locale: str
    subject: str
    html: str | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteEmailTemplate(Command):
    """Back to the built-in subject and body of that kind and language."""

    kind: str
    locale: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FindEmailTemplates(Query):
    """Every kind in every language: the tenant's own where it has one, else the built-in."""

    kinds: tuple[str, ...] = field(default_factory=tuple)


# --- a tenant's own sending settings ---------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SetEmailSettings(Command):
    """Owners and admins: the tenant's SMTP URL (sealed at rest; ``None`` or "" removes it) and
    From address (``None`` or "": the sender's default)."""

    smtp_url: str | None = None
    from_address: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GetEmailSettings(Query):
    pass
