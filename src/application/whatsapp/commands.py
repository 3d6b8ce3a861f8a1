"""Commands and queries of the WhatsApp domain."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from application.deliveries.flows import DeliverMessage, GetMessage, RetryMessage
from application.shared.messages import Command, Query
from application.whatsapp.views import WhatsappMessageFilter


@dataclass(frozen=True, slots=True, kw_only=True)
class WhatsappPolicy:
    page_size: int = 20
    max_page_size: int = 100
    delivery_attempts: int = 8
    """Attempts of a message's delivery (``ISTMO_JOB_MAX_ATTEMPTS``); its job gets one more, the
    spare run (see ``DeliverMessage``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateInput:
    name: str
    language: str = "es"
    parameters: tuple[str, ...] = ()


# --- the connection (owner/admin) ------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectWhatsapp(Command):
    """Store (or replace) the tenant's Cloud API settings; the token and secrets are sealed."""

    phone_number_id: str
    waba_id: str
    access_token: str = field(repr=False)
    app_secret: str = field(repr=False)
    verify_token: str = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class DisconnectWhatsapp(Command):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class GetWhatsappConnection(Query):
    pass


# --- clients' numbers, default channel, templates --------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateClientWhatsapp(Command):
    client_id: str
    phone: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteClientWhatsapp(Command):
    number_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class GetClientWhatsapps(Query):
    """Numbers of many clients at once (batch loader): client id -> its numbers, oldest first."""

    client_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class SetClientDefaultChannel(Command):
    client_id: str
    channel: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterWhatsappTemplate(Command):
    """Tell Istmo the shape of a template approved in WhatsApp Manager (owner/admin)."""

    name: str
    language: str
    body_parameters: int
    document_header: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteWhatsappTemplate(Command):
    template_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FindWhatsappTemplates(Query):
    pass


# --- sending ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SendWhatsapp(Command):
    """A text or a template to one number (``to``) or to every number of a client (``client_id``)."""

    to: str | None = None
    client_id: str | None = None
    text: str | None = None
    template: TemplateInput | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SendPdfWhatsapp(Command):
    """The entity's PDF (INVOICE or QUOTE: rendered, or the same file again) as a document message
    inside the 24-hour window, or as the template ``template_name`` with a document header."""

    entity_type: str
    entity_id: str
    template_name: str | None = None
    language: str = "es"
    parameters: tuple[str, ...] = ()
    caption: str | None = None
    to: str | None = None
    pdf_template_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SendStatementWhatsapp(Command):
    """The client's statement of account for a period (its PDF) as a document message, or as the
    template ``template_name`` with a document header; to ``recipient``, else the client's numbers."""

    client_id: str
    period_from: date
    period_to: date
    currency: str | None = None  # none: the tenant profile's (USD without a profile)
    template_name: str | None = None
    language: str = "es"
    parameters: tuple[str, ...] = ()
    caption: str | None = None
    recipient: str | None = None
    pdf_template_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckPdfWhatsapp(Query):
    """Would ``send`` be refused (document, recipients, connection, window or template)? Raises
    the refusal; nothing is rendered or written."""

    send: SendPdfWhatsapp


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryWhatsapp(RetryMessage):
    """Queue a FAILED, DEAD or UNCERTAIN message again (the connection must be usable)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FindWhatsappMessages(Query):
    filter: WhatsappMessageFilter = field(default_factory=WhatsappMessageFilter)
    first: int | None = None
    after: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GetWhatsappMessage(GetMessage):
    """One message of the WhatsApp log (outbound or inbound)."""


# --- system work (jobs, webhooks) --------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverWhatsapp(DeliverMessage):
    """The job ``whatsapp.send``: one delivery attempt of one message (see ``DeliverMessage``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteWhatsappWebhook(Command):
    """Which tenant a POSTed webhook is for, its signature checked: raises ``BadSignature``."""

    body: bytes
    signature: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyWhatsappSubscription(Command):
    """The GET handshake: the challenge to echo, or ``None`` (403)."""

    mode: str | None
    verify_token: str | None
    challenge: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplyWhatsappWebhook(Command):
    """One verified webhook body of one tenant: statuses move messages forward, inbound messages are kept."""

    tenant_id: str
    body: bytes
