"""Handlers of the WhatsApp domain. Each takes its message and a unit of work bound to the tenant.

Sending: a handler validates everything it can before anything is written (content, recipients,
the connection, the 24-hour window, a registered template's parameter count), then writes the
messages QUEUED and their delivery jobs in one transaction. The job ``whatsapp.send`` runs
``DeliverWhatsapp``: it checks the connection and the window again (the clock moved), records
SENDING, calls the Graph API, and records the outcome by the error code (see ``graph_disposition``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from application.files.keeping import blob_key
from application.files.ports import FileStorage
from application.invoicing.handlers import client_view, statement_client
from application.invoicing.views import ClientView
from application.jobs.errors import PermanentJobError, TransientJobError
from application.pdf.commands import RenderInvoicePdf, RenderQuotePdf, RenderStatementPdf
from application.shared.messages import Page, page_size
from application.shared.ports import Clock, DuplicateEntry, UnitOfWork, UnitOfWorkFactory
from application.shared.secrets import SecretBox, SecretUnreadable
from application.whatsapp.commands import (
    ApplyWhatsappWebhook,
    ConnectWhatsapp,
    CreateClientWhatsapp,
    DeleteClientWhatsapp,
    DeleteWhatsappTemplate,
    DeliverWhatsapp,
    DisconnectWhatsapp,
    FindWhatsappMessages,
    FindWhatsappTemplates,
    GetClientWhatsapps,
    GetWhatsappConnection,
    GetWhatsappMessage,
    RegisterWhatsappTemplate,
    RetryWhatsapp,
    RouteWhatsappWebhook,
    SendInvoice,
    SendPdfWhatsapp,
    SendStatementWhatsapp,
    SendWhatsapp,
    SetClientDefaultChannel,
    TemplateInput,
    VerifyWhatsappSubscription,
    WhatsappPolicy,
)
from application.whatsapp.ports import (
    GraphApiError,
    GraphCredentials,
    GraphUnreachable,
    OutgoingWhatsapp,
    PhoneNumbers,
    WebhookSignatures,
    WhatsAppSender,
)
from application.whatsapp.views import (
    ClientWhatsappView,
    WhatsappConnectionView,
    WhatsappMessageCursor,
    WhatsappMessageView,
    WhatsappTemplateView,
)
from domain.files.model import EntityType
from domain.invoicing.values import business_date
from domain.shared.channels import DeliveryChannel
from domain.shared.delivery import Begin
from domain.shared.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from domain.shared.model import new_id, parse_id
from domain.tenancy.model import Actor
from domain.whatsapp.errors import (
    MessageNotFound,
    NeedsReauth,
    NoRecipients,
    NotConnected,
    PhoneNumberIdTaken,
)
from domain.whatsapp.model import (
    ClientWhatsapp,
    ConnectionStatus,
    MessageContent,
    MessageKind,
    MessageStatus,
    WhatsappConnection,
    WhatsappMessage,
    WhatsappTemplate,
    check_window,
    document_content,
    graph_disposition,
    parse_graph_id,
    secret_context,
    secret_digest,
    window_open,
)

log = structlog.get_logger(__name__)

SEND_JOB = "whatsapp.send"
MAX_SECRET = 2048


# --- views of aggregates ----------------------------------------------------------------------


def connection_view(connection: WhatsappConnection) -> WhatsappConnectionView:
    return WhatsappConnectionView(
        id=connection.id,
        phone_number_id=connection.phone_number_id,
        waba_id=connection.waba_id,
        status=ConnectionStatus(connection.status),
        last_error=connection.last_error,
        connected_at=connection.connected_at,
        updated_at=connection.updated_at,
    )


def number_view(number: ClientWhatsapp) -> ClientWhatsappView:
    return ClientWhatsappView(id=number.id, client_id=number.client_id, phone=number.phone, created_at=number.created_at)


def template_view(template: WhatsappTemplate) -> WhatsappTemplateView:
    return WhatsappTemplateView(
        id=template.id, name=template.name, language=template.language,
        body_parameters=template.body_parameters, document_header=template.document_header,
        created_at=template.created_at,
    )


def message_view(message: WhatsappMessage) -> WhatsappMessageView:
    return WhatsappMessageView(
        id=message.id, direction=message.direction, phone=message.phone, client_id=message.client_id,
        kind=MessageKind(message.kind), text=message.text, template_name=message.template_name,
        template_language=message.template_language,
        template_parameters=tuple(message.template_parameters or ()), file_id=message.file_id,
        filename=message.filename, caption=message.caption, entity_type=message.entity_type,
        entity_id=message.entity_id, status=MessageStatus(message.status), wamid=message.wamid,
        error_code=message.error_code, error_title=message.last_error, attempts=len(message.attempts),
        attempt_log=tuple(message.attempts),
        created_by=message.created_by, created_at=message.created_at, updated_at=message.updated_at,
        sent_at=message.sent_at, delivered_at=message.delivered_at, read_at=message.read_at,
        failed_at=message.failed_at,
    )


# --- shared steps -----------------------------------------------------------------------------


def _tenant(actor: Actor | None) -> Actor:
    if actor is None:
        raise PermissionError("a tenant's actor is required")
    return actor


def _admin(actor: Actor | None) -> Actor:
    actor = _tenant(actor)
    if not actor.is_admin:
        raise PermissionDenied("only an owner or an admin may change the WhatsApp connection or templates")
    return actor


def _secret(value: object, *, field: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise InvalidInput(f"{field} is required", field=field)
    if len(text) > MAX_SECRET or any(ch.isspace() for ch in text):
        raise InvalidInput(f"{field} must be one word of at most {MAX_SECRET} characters", field=field)
    return text


def _connected(uow: UnitOfWork) -> WhatsappConnection:
    connection = uow.whatsapp.connection()
    if connection is None:
        raise NotConnected("WhatsApp is not connected: an owner or admin runs connectWhatsapp first")
    if connection.status == ConnectionStatus.NEEDS_REAUTH:
        raise NeedsReauth(
            "the WhatsApp access token was refused (error 190): connect again with a new token (connectWhatsapp)"
        )
    return connection


def _enqueue(uow: UnitOfWork, message: WhatsappMessage, policy: WhatsappPolicy) -> None:
    uow.jobs.enqueue(
        SEND_JOB, {"message_id": message.id}, idempotency_key=f"whatsapp:{message.id}:{message.retries}",
        max_attempts=policy.delivery_attempts + 1,  # + the spare run (see WhatsappPolicy)
    )


@dataclass(frozen=True, slots=True)
class _Recipient:
    phone: str
    client_id: str | None


def _recipients(
    uow: UnitOfWork,
    phones: PhoneNumbers,
    *,
    to: str | None,
    client_id: str | None,
    default_client: str | None = None,
    to_field: str = "to",
) -> list[_Recipient]:
    """``to`` (one number, linked to the client that has it; its argument is ``to_field``), else
    the client's numbers."""
    if to not in (None, "") and client_id not in (None, ""):
        raise InvalidInput("give either to (a number) or clientId, not both", field="to")
    if to not in (None, ""):
        phone = phones.normalize(to, field=to_field)
        return [_Recipient(phone, uow.whatsapp_views.clients_by_phone([phone]).get(phone))]
    wanted = client_id if client_id not in (None, "") else default_client
    if wanted is None:
        raise NoRecipients("give to (a number) or clientId", field="to")
    parsed = parse_id(wanted, field="clientId")
    if uow.client_views.get(parsed) is None:
        raise NotFound(f"client {parsed} not found", field="clientId")
    numbers = uow.whatsapp_views.numbers_of([parsed]).get(parsed, [])
    if not numbers:
        raise NoRecipients(
            f"client {parsed} has no WhatsApp number: add one with createClientWhatsapp, or give {to_field}",
            field="clientId",
        )
    return [_Recipient(number.phone, parsed) for number in numbers]


def _check_template(uow: UnitOfWork, content: MessageContent) -> None:
    """A registered template's shape is checked here; an unregistered one is left to the provider."""
    if content.template is None:
        return
    registered = uow.whatsapp.template_named(content.template.name, content.template.language)
    if registered is not None:
        registered.check(content.template.parameters, with_document=content.document is not None)


def _check_windows(uow: UnitOfWork, content: MessageContent, recipients: Sequence[_Recipient], now: datetime) -> None:
    if not content.needs_window:
        return
    last = uow.whatsapp_views.last_inbound_at([r.phone for r in recipients])
    for recipient in recipients:
        check_window(content, last.get(recipient.phone), now, phone=recipient.phone)


def _queue(
    uow: UnitOfWork,
    policy: WhatsappPolicy,
    actor: Actor,
    recipients: Iterable[_Recipient],
    content: MessageContent,
    now: datetime,
    entity: tuple[str, str] | None = None,
) -> list[WhatsappMessage]:
    queued = []
    for recipient in recipients:
        message = WhatsappMessage.outbound(
            tenant_id=actor.tenant_id, phone=recipient.phone, client_id=recipient.client_id, content=content,
            entity=entity, created_by=actor.user_id, now=now,
        )
        uow.whatsapp.add_message(message)
        _enqueue(uow, message, policy)
        queued.append(message)
    return queued


def _content(text: str | None, template: TemplateInput | None) -> MessageContent:
    if (text is None) == (template is None):
        raise InvalidInput("give either text or template", field="text")
    if template is not None:
        return MessageContent.of_template(
            name=template.name, language=template.language or "es", parameters=template.parameters
        )
    return MessageContent.of_text(text)


# --- the connection ---------------------------------------------------------------------------


class ConnectWhatsappHandler:
    def __init__(self, secrets: SecretBox, clock: Clock) -> None:
        self._secrets = secrets
        self._clock = clock

    def __call__(self, cmd: ConnectWhatsapp, uow: UnitOfWork) -> WhatsappConnectionView:
        actor = _admin(cmd.actor)
        phone_number_id = parse_graph_id(cmd.phone_number_id, field="phoneNumberId")
        waba_id = parse_graph_id(cmd.waba_id, field="wabaId")
        token = _secret(cmd.access_token, field="accessToken")
        app_secret = _secret(cmd.app_secret, field="appSecret")
        verify_token = _secret(cmd.verify_token, field="verifyToken")
        now = self._clock.now()
        with uow:
            taken = uow.whatsapp_directory.by_phone_number_id(phone_number_id)
            if taken is not None and taken.tenant_id != actor.tenant_id:
                raise PhoneNumberIdTaken(
                    f"phone number id {phone_number_id} is connected to another account", field="phoneNumberId"
                )
            digest = secret_digest(verify_token)
            clash = uow.whatsapp_directory.by_verify_token_digest(digest)
            if clash is not None and clash.tenant_id != actor.tenant_id:
                raise Conflict("choose another verifyToken (this one is in use)", field="verifyToken")
            connection = uow.whatsapp.connection()
            if connection is None:
                connection = WhatsappConnection(
                    id=new_id(), tenant_id=actor.tenant_id,
                    phone_number_id=phone_number_id, waba_id=waba_id, access_token_sealed="",
                    app_secret_sealed="", verify_token_sealed="", verify_token_digest=digest,
                    status=ConnectionStatus.CONNECTED, last_error=None, connected_at=now, updated_at=now,
                )
                uow.whatsapp.add_connection(connection)
            connection.phone_number_id = phone_number_id
            connection.waba_id = waba_id
            seal = self._secrets.seal
            context = lambda name: secret_context(actor.tenant_id, connection.id, name)  # noqa: E731
            connection.access_token_sealed = seal(token, context=context("access_token"))
            connection.app_secret_sealed = seal(app_secret, context=context("app_secret"))
            connection.verify_token_sealed = seal(verify_token, context=context("verify_token"))
            connection.verify_token_digest = digest
            connection.status = ConnectionStatus.CONNECTED
            connection.last_error = None
            connection.connected_at = now
            connection.updated_at = now
            try:
                uow.commit()
            except DuplicateEntry:
                raise PhoneNumberIdTaken(
                    f"phone number id {phone_number_id} (or this verify token) is in use by another account",
                    field="phoneNumberId",
                ) from None
            return connection_view(connection)


class DisconnectWhatsappHandler:
    def __call__(self, cmd: DisconnectWhatsapp, uow: UnitOfWork) -> bool:
        _admin(cmd.actor)
        with uow:
            connection = uow.whatsapp.connection()
            if connection is None:
                return False
            uow.whatsapp.delete_connection(connection)
            uow.commit()
            return True


class GetWhatsappConnectionHandler:
    def __call__(self, query: GetWhatsappConnection, uow: UnitOfWork) -> WhatsappConnectionView | None:
        _tenant(query.actor)
        with uow:
            return uow.whatsapp_views.connection()


# --- numbers, default channel, templates --------------------------------------------------------


class CreateClientWhatsappHandler:
    def __init__(self, phones: PhoneNumbers, clock: Clock) -> None:
        self._phones = phones
        self._clock = clock

    def __call__(self, cmd: CreateClientWhatsapp, uow: UnitOfWork) -> ClientWhatsappView:
        actor = _tenant(cmd.actor)
        client_id = parse_id(cmd.client_id, field="clientId")
        phone = self._phones.normalize(cmd.phone, field="phone")
        with uow:
            if uow.client_views.get(client_id) is None:
                raise NotFound(f"client {client_id} not found", field="clientId")
            if uow.whatsapp.number_exists(client_id, phone):
                raise Conflict(f"client {client_id} already has {phone}", field="phone")
            number = ClientWhatsapp.create(tenant_id=actor.tenant_id, client_id=client_id, phone=phone,
                                           now=self._clock.now())
            uow.whatsapp.add_number(number)
            try:
                uow.commit()
            except DuplicateEntry:
                raise Conflict(f"client {client_id} already has {phone}", field="phone") from None
            return number_view(number)


class DeleteClientWhatsappHandler:
    def __call__(self, cmd: DeleteClientWhatsapp, uow: UnitOfWork) -> bool:
        _tenant(cmd.actor)
        number_id = parse_id(cmd.number_id, field="id")
        with uow:
            number = uow.whatsapp.number(number_id)
            if number is None:
                raise NotFound(f"client WhatsApp number {number_id} not found", field="id")
            uow.whatsapp.delete_number(number)
            uow.commit()
            return True


class GetClientWhatsappsHandler:
    def __call__(self, query: GetClientWhatsapps, uow: UnitOfWork) -> dict[str, list[ClientWhatsappView]]:
        _tenant(query.actor)
        with uow:
            found = uow.whatsapp_views.numbers_of(list(query.client_ids))
        return {client_id: found.get(client_id, []) for client_id in query.client_ids}


class SetClientDefaultChannelHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: SetClientDefaultChannel, uow: UnitOfWork) -> ClientView:
        _tenant(cmd.actor)
        client_id = parse_id(cmd.client_id, field="clientId")
        channel = DeliveryChannel.parse(cmd.channel, field="channel")
        with uow:
            client = uow.clients.get(client_id)
            if client is None:
                raise NotFound(f"client {client_id} not found", field="clientId")
            client.set_default_channel(channel, now=self._clock.now())
            uow.commit()
            return client_view(client)


class RegisterWhatsappTemplateHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: RegisterWhatsappTemplate, uow: UnitOfWork) -> WhatsappTemplateView:
        actor = _admin(cmd.actor)
        template = WhatsappTemplate.create(
            tenant_id=actor.tenant_id, name=cmd.name, language=cmd.language,
            body_parameters=cmd.body_parameters, document_header=cmd.document_header, now=self._clock.now(),
        )
        with uow:
            existing = uow.whatsapp.template_named(template.name, template.language)
            if existing is not None:
                existing.body_parameters = template.body_parameters
                existing.document_header = template.document_header
                template = existing
            else:
                uow.whatsapp.add_template(template)
            try:
                uow.commit()
            except DuplicateEntry:
                raise Conflict(f"template {template.name} ({template.language}) was just registered", field="name") from None
            return template_view(template)


class DeleteWhatsappTemplateHandler:
    def __call__(self, cmd: DeleteWhatsappTemplate, uow: UnitOfWork) -> bool:
        _admin(cmd.actor)
        template_id = parse_id(cmd.template_id, field="id")
        with uow:
            template = uow.whatsapp.template(template_id)
            if template is None:
                raise NotFound(f"WhatsApp template {template_id} not found", field="id")
            uow.whatsapp.delete_template(template)
            uow.commit()
            return True


class FindWhatsappTemplatesHandler:
    def __call__(self, query: FindWhatsappTemplates, uow: UnitOfWork) -> list[WhatsappTemplateView]:
        _tenant(query.actor)
        with uow:
            return uow.whatsapp_views.templates()


# --- sending ----------------------------------------------------------------------------------


class SendWhatsappHandler:
    def __init__(self, phones: PhoneNumbers, clock: Clock, policy: WhatsappPolicy) -> None:
        self._phones = phones
        self._clock = clock
        self._policy = policy

    def __call__(self, cmd: SendWhatsapp, uow: UnitOfWork) -> list[WhatsappMessageView]:
        actor = _tenant(cmd.actor)
        content = _content(cmd.text, cmd.template)
        now = self._clock.now()
        with uow:
            _connected(uow)
            recipients = _recipients(uow, self._phones, to=cmd.to, client_id=cmd.client_id)
            _check_template(uow, content)
            _check_windows(uow, content, recipients, now)
            queued = _queue(uow, self._policy, actor, recipients, content, now)
            uow.commit()
            return [message_view(m) for m in queued]


Renderer = Callable[[Any, UnitOfWork], Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class _PdfPlan:
    entity: tuple[str, str]  # (EntityType value, id): what the messages are about
    render: Any  # the RenderInvoicePdf / RenderQuotePdf / RenderStatementPdf command
    probe: MessageContent
    recipients: tuple[_Recipient, ...]
    now: datetime


def _document_probe(
    template_name: str | None, language: str | None, parameters: Sequence[str], caption: str | None
) -> MessageContent:
    """The message as it will be, with a placeholder for the PDF not rendered yet."""
    placeholder = document_content(file_id="pending", filename="documento.pdf", caption=caption)
    if template_name not in (None, ""):
        return MessageContent.of_template(
            name=template_name, language=language or "es", parameters=parameters, document=placeholder,
        )
    if parameters:
        raise InvalidInput("parameters are for a template: give templateName too", field="parameters")
    return MessageContent.of_document(placeholder)


class SendPdfWhatsappHandler:
    """A document's PDF (invoice, quote: ``SendPdfWhatsapp``; statement: ``SendStatementWhatsapp``).
    Checks first (document, recipients, connection, window or template), renders (or finds the
    same file again: renders are deterministic), then queues one message per number."""

    def __init__(self, phones: PhoneNumbers, clock: Clock, policy: WhatsappPolicy, renders: Mapping[type, Renderer]) -> None:
        self._phones = phones
        self._clock = clock
        self._policy = policy
        self._renders = renders

    def check(self, cmd: SendPdfWhatsapp | SendStatementWhatsapp, uow: UnitOfWork) -> _PdfPlan:
        """Everything that can refuse the send, before anything is rendered or written."""
        actor = _tenant(cmd.actor)
        pdf_template_id = None if cmd.pdf_template_id in (None, "") else parse_id(cmd.pdf_template_id, field="pdfTemplateId")
        probe = _document_probe(cmd.template_name, cmd.language, cmd.parameters, cmd.caption)
        now = self._clock.now()
        if isinstance(cmd, SendPdfWhatsapp):
            entity_type = _pdf_entity_type(cmd.entity_type)
            entity_id = parse_id(cmd.entity_id, field="entityId")
        with uow:
            _connected(uow)
            if isinstance(cmd, SendStatementWhatsapp):
                client, _ = statement_client(uow, cmd.client_id, cmd.period_from, cmd.period_to, cmd.currency)
                client_id: str | None = client.id
                entity = (EntityType.STATEMENT.value, client.id)
                render: Any = RenderStatementPdf(
                    actor=actor, client_id=client.id, period_from=cmd.period_from, period_to=cmd.period_to,
                    currency=cmd.currency, template_id=pdf_template_id,
                )
                to, to_field = cmd.recipient, "recipient"
            else:
                client_id = _entity_client(uow, entity_type, entity_id, now)
                entity = (entity_type.value, entity_id)
                render = (
                    RenderInvoicePdf(actor=actor, invoice_id=entity_id, template_id=pdf_template_id)
                    if entity_type is EntityType.INVOICE
                    else RenderQuotePdf(actor=actor, quote_id=entity_id, template_id=pdf_template_id)
                )
                to, to_field = cmd.to, "to"
                if to in (None, "") and client_id is None:
                    raise NoRecipients(
                        f"{entity_type.value} {entity_id} is for an ad-hoc party with no WhatsApp number: give to",
                        field="to",
                    )
            recipients = _recipients(
                uow, self._phones, to=to, client_id=None, default_client=client_id, to_field=to_field
            )
            _check_template(uow, probe)
            _check_windows(uow, probe, recipients, now)
        return _PdfPlan(entity=entity, render=render, probe=probe, recipients=tuple(recipients), now=now)

    def __call__(self, cmd: SendPdfWhatsapp | SendStatementWhatsapp, uow: UnitOfWork) -> list[WhatsappMessageView]:
        actor = _tenant(cmd.actor)
        plan = self.check(cmd, uow)
        probe, recipients = plan.probe, list(plan.recipients)
        file = self._renders[type(plan.render)](plan.render, uow)
        document = document_content(file_id=file.id, filename=file.name, caption=cmd.caption)
        content = (
            MessageContent.of_template(
                name=probe.template.name, language=probe.template.language, parameters=probe.template.parameters,
                document=document,
            )
            if probe.template is not None
            else MessageContent.of_document(document)
        )
        with uow:
            _connected(uow)
            _check_windows(uow, content, recipients, self._clock.now())
            queued = _queue(uow, self._policy, actor, recipients, content, plan.now, entity=plan.entity)
            uow.commit()
            return [message_view(m) for m in queued]


def _pdf_entity_type(value: object) -> EntityType:
    try:
        kind = EntityType(str(value).strip().upper())
    except ValueError:
        kind = None
    if kind is EntityType.STATEMENT:
        raise InvalidInput("a statement is sent with sendStatementWhatsapp (client and period)", field="entityType")
    if kind not in (EntityType.INVOICE, EntityType.QUOTE):
        raise InvalidInput(f"entityType must be INVOICE or QUOTE, not {str(value)[:32]!r}", field="entityType")
    return kind


def _entity_client(uow: UnitOfWork, entity_type: EntityType, entity_id: str, now: datetime) -> str | None:
    today = business_date(now)
    if entity_type is EntityType.INVOICE:
        invoice = uow.invoice_views.get(entity_id, today=today)
        if invoice is None:
            raise NotFound(f"invoice {entity_id} not found", field="entityId")
        return invoice.client_id
    quote = uow.quote_views.get(entity_id, today=today)
    if quote is None:
        raise NotFound(f"quote {entity_id} not found", field="entityId")
    return quote.client_id


class RetryWhatsappHandler:
    def __init__(self, clock: Clock, policy: WhatsappPolicy) -> None:
        self._clock = clock
        self._policy = policy

    def __call__(self, cmd: RetryWhatsapp, uow: UnitOfWork) -> WhatsappMessageView:
        _tenant(cmd.actor)
        message_id = parse_id(cmd.message_id, field="id")
        with uow:
            _connected(uow)
            message = uow.whatsapp.message_for_update(message_id)
            if message is None:
                raise MessageNotFound(f"WhatsApp message {message_id} not found", field="id")
            message.retry(now=self._clock.now())
            _enqueue(uow, message, self._policy)
            uow.commit()
            return message_view(message)


class FindWhatsappMessagesHandler:
    def __init__(self, policy: WhatsappPolicy) -> None:
        self._policy = policy

    def __call__(self, query: FindWhatsappMessages, uow: UnitOfWork) -> Page[WhatsappMessageView]:
        _tenant(query.actor)
        first = page_size(query.first, default=self._policy.page_size, maximum=self._policy.max_page_size)
        after = WhatsappMessageCursor.decode(query.after, field="after") if query.after else None
        with uow:
            rows = uow.whatsapp_views.messages(query.filter, first=first + 1, after=after)
        return Page.of(rows, first, lambda item: WhatsappMessageCursor.of(item).encode())


class GetWhatsappMessageHandler:
    def __call__(self, query: GetWhatsappMessage, uow: UnitOfWork) -> WhatsappMessageView:
        _tenant(query.actor)
        message_id = parse_id(query.message_id, field="id")
        with uow:
            found = uow.whatsapp_views.message(message_id)
        if found is None:
            raise MessageNotFound(f"WhatsApp message {message_id} not found", field="id")
        return found


# --- delivery (the job) ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Prepared:
    credentials: GraphCredentials
    outgoing: OutgoingWhatsapp
    document: bytes | None
    mime: str


class DeliverWhatsappHandler:
    """One attempt. SENDING is committed before the Graph API is called; a run that finds SENDING
    left by a run that died makes the message UNCERTAIN instead of sending it again."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, sender: WhatsAppSender, secrets: SecretBox, storage: FileStorage,
        clock: Clock,
    ) -> None:
        self._uow_factory = uow_factory
        self._sender = sender
        self._secrets = secrets
        self._storage = storage
        self._clock = clock

    def __call__(self, cmd: DeliverWhatsapp, _uow: UnitOfWork) -> MessageStatus | None:
        prepared = self._prepare(cmd)
        if prepared is None:
            return None
        try:
            outgoing = prepared.outgoing
            if prepared.document is not None:
                media_id = self._sender.upload_media(
                    prepared.credentials, data=prepared.document, filename=outgoing.document.filename,  # type: ignore[union-attr]
                    mime=prepared.mime,
                )
                outgoing = OutgoingWhatsapp(
                    to=outgoing.to, kind=outgoing.kind, text=outgoing.text, template=outgoing.template,
                    document=outgoing.document, media_id=media_id, callback_data=outgoing.callback_data,
                )
        except (GraphApiError, GraphUnreachable) as error:
            # the media upload sent no message: whatever happened, nothing reached the customer yet
            return self._refused(cmd, error, delivered=False)
        try:
            sent = self._sender.send(prepared.credentials, outgoing)
        except (GraphApiError, GraphUnreachable) as error:
            return self._refused(cmd, error, delivered=isinstance(error, GraphUnreachable) and error.maybe_delivered)
        return self._record(cmd, lambda m, now: m.sent(wamid=sent.wamid, now=now))

    def _prepare(self, cmd: DeliverWhatsapp) -> _Prepared | None:
        now = self._clock.now()
        uow = self._uow_factory(cmd.tenant_id)
        with uow:
            message = uow.whatsapp.message_for_update(cmd.message_id)
            if message is None or message.status not in (MessageStatus.QUEUED, MessageStatus.SENDING):
                return None
            if cmd.spare:  # the last attempt's worker died: never call the provider from here
                if message.status == MessageStatus.SENDING:
                    message.begin_attempt(now=now)
                    uow.commit()
                    log.warning("whatsapp.uncertain", message_id=message.id)
                return None
            if message.status == MessageStatus.SENDING:
                message.begin_attempt(now=now)  # -> UNCERTAIN: the run that died may have sent it
                uow.commit()
                log.warning("whatsapp.uncertain", message_id=message.id)
                return None
            content = message.content
            connection = uow.whatsapp.connection()
            refusal = None
            if connection is None:
                refusal = (None, "WhatsApp is not connected: connect it, then retry the message")
            elif connection.status == ConnectionStatus.NEEDS_REAUTH:
                refusal = (190, "the access token was refused: connect WhatsApp again, then retry the message")
            elif content.needs_window:
                last = uow.whatsapp_views.last_inbound_at([message.phone]).get(message.phone)
                if not window_open(last, now):
                    refusal = (131047, "the 24-hour window is closed: send a template instead")
            token = None
            if refusal is None and connection is not None:
                try:
                    token = self._secrets.open(
                        connection.access_token_sealed,
                        context=secret_context(cmd.tenant_id, connection.id, "access_token"),
                    )
                except SecretUnreadable:
                    connection.needs_reauth("the stored access token cannot be opened", now=now)
                    refusal = (None, "the stored access token cannot be opened: connect WhatsApp again")
            if refusal is not None:
                message.failed(code=refusal[0], title=refusal[1], now=now)
                uow.commit()
                raise PermanentJobError(f"message {message.id}: {refusal[1]}")
            document, mime = None, "application/pdf"
            if content.document is not None:
                file = uow.file_views.get(content.document.file_id)
                if file is None:
                    message.failed(code=None, title="the document's file was deleted", now=now)
                    uow.commit()
                    raise PermanentJobError(f"message {message.id}: the document's file was deleted")
                document = b"".join(self._storage.read(blob_key(cmd.tenant_id, file.sha256)))
                mime = file.mime
            assert connection is not None and token is not None
            if message.begin_attempt(now=now) is not Begin.SEND:
                return None
            uow.commit()
            return _Prepared(
                credentials=GraphCredentials(phone_number_id=connection.phone_number_id, access_token=token),
                outgoing=OutgoingWhatsapp(
                    to=message.phone, kind=content.kind, text=content.text, template=content.template,
                    document=content.document, callback_data=message.id,
                ),
                document=document,
                mime=mime,
            )

    def _record(self, cmd: DeliverWhatsapp, change: Callable[[WhatsappMessage, datetime], None]) -> MessageStatus | None:
        uow = self._uow_factory(cmd.tenant_id)
        with uow:
            message = uow.whatsapp.message_for_update(cmd.message_id)
            if message is None:
                return None
            change(message, self._clock.now())
            uow.commit()
            return MessageStatus(message.status)

    def _refused(self, cmd: DeliverWhatsapp, error: GraphApiError | GraphUnreachable, *, delivered: bool) -> MessageStatus | None:
        if isinstance(error, GraphUnreachable):
            if delivered:
                status = self._record(cmd, lambda m, now: m.maybe_sent(f"no answer from WhatsApp: {error.reason}", now=now))
                log.warning("whatsapp.uncertain", message_id=cmd.message_id, reason=error.reason)
                return status
            return self._transient(cmd, None, f"WhatsApp unreachable: {error.reason}", None)
        disposition = graph_disposition(error.code, error.http_status)
        title = f"{error.title}"
        if disposition == "retry":
            return self._transient(cmd, error.code, title, error.retry_after)
        if disposition == "reauth":
            uow = self._uow_factory(cmd.tenant_id)
            with uow:
                connection = uow.whatsapp.connection()
                if connection is not None:
                    connection.needs_reauth(f"{error.code}: {title}", now=self._clock.now())
                    uow.commit()
            title = f"{title} (the access token is no longer valid: connect WhatsApp again, then retry)"
        elif disposition == "window":
            title = f"{title}: the 24-hour window is closed, send a template instead"
        self._record(cmd, lambda m, now: m.failed(code=error.code, title=title, now=now))
        raise PermanentJobError(f"message {cmd.message_id}: WhatsApp error {error.code}: {title}")

    def _transient(self, cmd: DeliverWhatsapp, code: int | None, title: str, retry_after: Any) -> MessageStatus | None:
        reason = f"message {cmd.message_id}: {code or ''} {title}".strip()
        if cmd.last_attempt:
            self._record(cmd, lambda m, now: m.dead(code=code, title=title, now=now))
            # not Transient: the job's spare run is only for a worker that died (see WhatsappPolicy)
            raise PermanentJobError(f"{reason} (the delivery attempts are spent: DEAD)")
        self._record(cmd, lambda m, now: m.not_sent(code=code, title=title, now=now))
        raise TransientJobError(reason, retry_after=retry_after)


# --- webhooks -------------------------------------------------------------------------------------


class BadSignature(PermissionDenied):
    code = "BAD_SIGNATURE"


@dataclass(frozen=True, slots=True, kw_only=True)
class RoutedWebhook:
    """``tenant_id`` None: no tenant has that phone number id (kept as unmatched)."""

    tenant_id: str | None
    provider_event_id: str
    phone_number_id: str | None
    reason: str | None = None


def _payload(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("the body is not JSON", field="body") from None
    if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
        raise InvalidInput("the body is not a WhatsApp Business Account webhook", field="body")
    return payload


def _changes(payload: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for entry in payload.get("entry") or ():
        if not isinstance(entry, dict):
            continue
        for change in entry.get("changes") or ():
            if isinstance(change, dict) and isinstance(change.get("value"), dict):
                yield change["value"]


def _phone_number_id(value: dict[str, Any]) -> str | None:
    metadata = value.get("metadata")
    found = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
    return str(found) if found not in (None, "") else None


class RouteWhatsappWebhookHandler:
    def __init__(self, secrets: SecretBox, signatures: WebhookSignatures) -> None:
        self._secrets = secrets
        self._signatures = signatures

    def __call__(self, cmd: RouteWhatsappWebhook, uow: UnitOfWork) -> RoutedWebhook:
        event_id = hashlib.sha256(cmd.body).hexdigest()
        payload = _payload(cmd.body)
        phone_number_id = next((p for p in map(_phone_number_id, _changes(payload)) if p), None)
        if phone_number_id is None:
            return RoutedWebhook(tenant_id=None, provider_event_id=event_id, phone_number_id=None,
                                 reason="no metadata.phone_number_id")
        with uow:
            route = uow.whatsapp_directory.by_phone_number_id(phone_number_id)
        if route is None:
            return RoutedWebhook(tenant_id=None, provider_event_id=event_id, phone_number_id=phone_number_id,
                                 reason=f"no tenant is connected with phone number id {phone_number_id}")
        try:
            secret = self._secrets.open(route.sealed, context=secret_context(route.tenant_id, route.connection_id, "app_secret"))
        except SecretUnreadable:
            raise BadSignature("the app secret of this number cannot be opened") from None
        if not self._signatures.valid(secret=secret, body=cmd.body, header=cmd.signature):
            raise BadSignature("X-Hub-Signature-256 does not match the body")
        return RoutedWebhook(tenant_id=route.tenant_id, provider_event_id=event_id, phone_number_id=phone_number_id)


class VerifyWhatsappSubscriptionHandler:
    def __init__(self, secrets: SecretBox) -> None:
        self._secrets = secrets

    def __call__(self, cmd: VerifyWhatsappSubscription, uow: UnitOfWork) -> str | None:
        if cmd.mode != "subscribe" or not cmd.verify_token or cmd.challenge is None:
            return None
        with uow:
            route = uow.whatsapp_directory.by_verify_token_digest(secret_digest(cmd.verify_token))
        if route is None:
            return None
        try:
            expected = self._secrets.open(route.sealed, context=secret_context(route.tenant_id, route.connection_id, "verify_token"))
        except SecretUnreadable:
            return None
        if not hmac.compare_digest(expected.encode(), cmd.verify_token.encode()):
            return None
        return cmd.challenge


@dataclass(frozen=True, slots=True, kw_only=True)
class AppliedWebhook:
    statuses: int = 0
    changed: int = 0
    unknown_statuses: int = 0
    inbound: int = 0
    duplicates: int = 0
    matched: bool = True


def _timestamp(value: object, fallback: datetime) -> datetime:
    try:
        return datetime.fromtimestamp(int(str(value)), UTC)
    except (ValueError, OverflowError, OSError):
        return fallback


def _inbound_text(item: dict[str, Any]) -> tuple[MessageKind, str | None]:
    kind = item.get("type")
    if kind == "text" and isinstance(item.get("text"), dict):
        return MessageKind.TEXT, str(item["text"].get("body") or "")
    if kind == "button" and isinstance(item.get("button"), dict):
        return MessageKind.TEXT, str(item["button"].get("text") or "")
    if kind == "interactive" and isinstance(item.get("interactive"), dict):
        reply = item["interactive"].get("button_reply") or item["interactive"].get("list_reply") or {}
        return MessageKind.TEXT, str(reply.get("title") or "") if isinstance(reply, dict) else None
    if kind == "document":
        return MessageKind.DOCUMENT, (item.get("document") or {}).get("caption") if isinstance(item.get("document"), dict) else None
    return MessageKind.OTHER, None


class ApplyWhatsappWebhookHandler:
    """Runs in a unit of work of the webhook's tenant (the inbox processor has no actor)."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    def __call__(self, cmd: ApplyWhatsappWebhook, _uow: UnitOfWork) -> AppliedWebhook:
        payload = _payload(cmd.body)
        uow = self._uow_factory(cmd.tenant_id)
        now = self._clock.now()
        with uow:
            connection = uow.whatsapp.connection()
            if connection is None:
                return AppliedWebhook(matched=False)
            values = [v for v in _changes(payload) if _phone_number_id(v) == connection.phone_number_id]
            statuses = [s for v in values for s in v.get("statuses") or () if isinstance(s, dict) and s.get("id")]
            inbound = [m for v in values for m in v.get("messages") or () if isinstance(m, dict) and m.get("id") and m.get("from")]
            counts = {"statuses": len(statuses), "changed": 0, "unknown_statuses": 0, "inbound": 0, "duplicates": 0}
            if statuses:
                self._statuses(uow, statuses, now, counts)
            if inbound:
                self._inbound(uow, cmd.tenant_id, inbound, now, counts)
            uow.commit()
        return AppliedWebhook(**counts)

    @staticmethod
    def _statuses(uow: UnitOfWork, statuses: list[dict[str, Any]], now: datetime, counts: dict[str, int]) -> None:
        by_wamid = uow.whatsapp.outbound_by_wamid(sorted({str(s["id"]) for s in statuses}))
        ordered = sorted(statuses, key=lambda s: (_timestamp(s.get("timestamp"), now), str(s.get("status"))))
        for status in ordered:
            wamid = str(status["id"])
            message = by_wamid.get(wamid)
            if message is None and status.get("biz_opaque_callback_data"):
                try:
                    candidate = uow.whatsapp.message_for_update(parse_id(status["biz_opaque_callback_data"]))
                except InvalidInput:
                    candidate = None
                if candidate is not None and candidate.wamid in (None, wamid):
                    message = by_wamid[wamid] = candidate
            if message is None:
                counts["unknown_statuses"] += 1
                continue
            errors = status.get("errors") if isinstance(status.get("errors"), list) else []
            first = errors[0] if errors and isinstance(errors[0], dict) else {}
            code = first.get("code")
            title = first.get("title") or first.get("message")
            details = (first.get("error_data") or {}).get("details") if isinstance(first.get("error_data"), dict) else None
            if message.apply_status(
                str(status.get("status")), at=_timestamp(status.get("timestamp"), now), now=now, wamid=wamid,
                error_code=int(code) if isinstance(code, int | str) and str(code).isdigit() else None,
                error_title=" — ".join(str(t) for t in (title, details) if t) or None,
            ):
                counts["changed"] += 1

    @staticmethod
    def _inbound(uow: UnitOfWork, tenant_id: str, items: list[dict[str, Any]], now: datetime, counts: dict[str, int]) -> None:
        phones = sorted({"+" + str(m["from"]).lstrip("+") for m in items})
        clients = uow.whatsapp_views.clients_by_phone(phones)
        seen: set[str] = set()
        for item in items:
            wamid = str(item["id"])
            if wamid in seen or uow.whatsapp.inbound_exists(wamid):
                counts["duplicates"] += 1
                continue
            seen.add(wamid)
            phone = "+" + str(item["from"]).lstrip("+")
            kind, text = _inbound_text(item)
            uow.whatsapp.add_message(
                WhatsappMessage.inbound(
                    tenant_id=tenant_id, phone=phone[:20], client_id=clients.get(phone), wamid=wamid, kind=kind,
                    text=text, provider_at=_timestamp(item.get("timestamp"), now), now=now,
                )
            )
            counts["inbound"] += 1



# --- sendInvoice: the client's default channel ------------------------------------------------------


class EmailUnavailable(Conflict):
    code = "EMAIL_UNAVAILABLE"


@dataclass(frozen=True, slots=True, kw_only=True)
class SentInvoiceView:
    channel: DeliveryChannel
    whatsapp: tuple[WhatsappMessageView, ...] = ()
    email: Any = None


class SendInvoiceHandler:
    """The invoice's PDF by ``channel``, else by its client's default channel (EMAIL for an ad-hoc
    party). EMAIL goes through the emails domain's ``SendPdfEmail`` handler (``send_email``)."""

    def __init__(
        self, send_pdf: SendPdfWhatsappHandler, clock: Clock, send_email: Callable[[Any, UnitOfWork], Any] | None = None,
        email_command: Callable[..., Any] | None = None,
    ) -> None:
        self._send_pdf = send_pdf
        self._clock = clock
        self._send_email = send_email
        self._email_command = email_command

    def __call__(self, cmd: SendInvoice, uow: UnitOfWork) -> SentInvoiceView:
        actor = _tenant(cmd.actor)
        invoice_id = parse_id(cmd.invoice_id, field="invoiceId")
        with uow:
            invoice = uow.invoice_views.get(invoice_id, today=business_date(self._clock.now()))
            if invoice is None:
                raise NotFound(f"invoice {invoice_id} not found", field="invoiceId")
            client = uow.client_views.get(invoice.client_id) if invoice.client_id else None
        if cmd.channel not in (None, ""):
            channel = DeliveryChannel.parse(cmd.channel, field="channel")
        else:
            channel = DeliveryChannel(client.default_channel) if client is not None else DeliveryChannel.EMAIL
        if channel.email and (self._send_email is None or self._email_command is None):
            raise EmailUnavailable("sending invoices by email is not available in this build", field="channel")
        by_whatsapp = SendPdfWhatsapp(actor=actor, entity_type="INVOICE", entity_id=invoice_id)
        if channel.whatsapp:
            self._send_pdf.check(by_whatsapp, uow)  # BOTH: refused before the email is queued
        email = None
        if channel.email:
            assert self._send_email is not None and self._email_command is not None
            email = self._send_email(self._email_command(actor=actor, entity_type="INVOICE", entity_id=invoice_id), uow)
        messages: list[WhatsappMessageView] = []
        if channel.whatsapp:
            messages = self._send_pdf(by_whatsapp, uow)
        return SentInvoiceView(channel=channel, whatsapp=tuple(messages), email=email)
