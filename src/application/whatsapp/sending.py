"""Sending WhatsApp: a text or a template (``SendWhatsapp``), and a document's PDF (``SendPdfWhatsapp``,
``SendStatementWhatsapp``) as a document message inside the 24-hour window or as a template with a
document header. One message is queued per number, each with its ``whatsapp.send`` job.

A document send is the shared ``SendDocumentHandler``: ``WhatsappDocuments.plan`` checks everything
(document, recipients, connection, window or template), the pdf module renders the PDF, and
``WhatsappDocuments.queue`` checks the connection and the window again and queues.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from application.deliveries import flows
from application.shared.actors import tenant_actor
from application.files.views import FileView
from application.invoicing.statements import statement_client
from application.pdf.commands import RenderInvoicePdf, RenderQuotePdf, RenderStatementPdf
from application.shared.ports import Clock
from application.whatsapp.commands import CheckPdfWhatsapp, SendPdfWhatsapp, SendStatementWhatsapp, SendWhatsapp
from application.whatsapp.connection import connected
from application.whatsapp.delivery import WhatsappChannel
from application.whatsapp.ports import PhoneNumbers, WhatsappUnitOfWork
from application.whatsapp.recipients import Recipient, check_template, check_windows, recipients, written_content
from application.whatsapp.views import WhatsappMessageView, message_view
from domain.files.model import EntityType
from domain.invoicing.values import business_date
from domain.shared.delivery import NoRecipients
from domain.shared.errors import InvalidInput, NotFound
from domain.shared.model import parse_id
from domain.tenancy.model import Actor
from domain.whatsapp.content import MessageContent, document_content
from domain.whatsapp.messages import WhatsappDelivery


def _queue(
    uow: WhatsappUnitOfWork,
    channel: WhatsappChannel,
    actor: Actor,
    to: Iterable[Recipient],
    content: MessageContent,
    now: datetime,
    entity: tuple[str, str] | None = None,
) -> list[WhatsappMessageView]:
    """Inside ``uow``: one message per number with its delivery job, committed."""
    messages = [
        WhatsappDelivery.outbound(
            tenant_id=actor.tenant_id, phone=recipient.phone, client_id=recipient.client_id, content=content,
            entity=entity, created_by=actor.user_id, now=now,
        )
        for recipient in to
    ]
    flows.queue(uow, channel, messages)
    uow.commit()
    return [message_view(m) for m in messages]


class SendWhatsappHandler:
    def __init__(self, phones: PhoneNumbers, clock: Clock, channel: WhatsappChannel) -> None:
        self._phones = phones
        self._clock = clock
        self._channel = channel

    def __call__(self, cmd: SendWhatsapp, uow: WhatsappUnitOfWork) -> list[WhatsappMessageView]:
        actor = tenant_actor(cmd.actor)
        content = written_content(cmd.text, cmd.template)
        now = self._clock.now()
        with uow:
            connected(uow)
            to = recipients(uow, self._phones, to=cmd.to, client_id=cmd.client_id)
            check_template(uow, content)
            check_windows(uow, content, to, now)
            return _queue(uow, self._channel, actor, to, content, now)


@dataclass(frozen=True, slots=True, kw_only=True)
class WhatsappPlan:
    actor: Actor
    entity: tuple[str, str]  # (EntityType value, id): what the messages are about
    render: Any  # the RenderInvoicePdf / RenderQuotePdf / RenderStatementPdf command
    probe: MessageContent  # the message as it will be, with a placeholder for the PDF
    recipients: tuple[Recipient, ...]
    now: datetime


def _document_probe(
    template_name: str | None, language: str | None, parameters: Sequence[str], caption: str | None
) -> MessageContent:
    placeholder = document_content(file_id="pending", filename="documento.pdf", caption=caption)
    if template_name not in (None, ""):
        return MessageContent.of_template(
            name=template_name, language=language or "es", parameters=parameters, document=placeholder,
        )
    if parameters:
        raise InvalidInput("parameters are for a template: give templateName too", field="parameters")
    return MessageContent.of_document(placeholder)


WhatsappDocumentSend = SendPdfWhatsapp | SendStatementWhatsapp


class WhatsappDocuments:
    """The WhatsApp ``DocumentComposer``: the document's numbers (``to``, else its client's), then
    one message per number with the PDF."""

    def __init__(self, phones: PhoneNumbers, clock: Clock, channel: WhatsappChannel) -> None:
        self._phones = phones
        self._clock = clock
        self._channel = channel

    def plan(self, cmd: WhatsappDocumentSend, uow: WhatsappUnitOfWork) -> WhatsappPlan:
        actor = tenant_actor(cmd.actor)
        pdf_template_id = None if cmd.pdf_template_id in (None, "") else parse_id(cmd.pdf_template_id, field="pdfTemplateId")
        probe = _document_probe(cmd.template_name, cmd.language, cmd.parameters, cmd.caption)
        now = self._clock.now()
        if isinstance(cmd, SendPdfWhatsapp):
            entity_type = _pdf_entity_type(cmd.entity_type)
            entity_id = parse_id(cmd.entity_id, field="entityId")
        with uow:
            connected(uow)
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
            found = recipients(uow, self._phones, to=to, client_id=None, default_client=client_id, to_field=to_field)
            check_template(uow, probe)
            check_windows(uow, probe, found, now)
        return WhatsappPlan(actor=actor, entity=entity, render=render, probe=probe, recipients=tuple(found), now=now)

    def queue(
        self, cmd: WhatsappDocumentSend, uow: WhatsappUnitOfWork, plan: WhatsappPlan, pdf: FileView
    ) -> list[WhatsappMessageView]:
        probe, to = plan.probe, list(plan.recipients)
        document = document_content(file_id=pdf.id, filename=pdf.name, caption=cmd.caption)
        content = (
            MessageContent.of_template(
                name=probe.template.name, language=probe.template.language, parameters=probe.template.parameters,
                document=document,
            )
            if probe.template is not None
            else MessageContent.of_document(document)
        )
        with uow:
            connected(uow)
            check_windows(uow, content, to, self._clock.now())
            return _queue(uow, self._channel, plan.actor, to, content, plan.now, entity=plan.entity)


class CheckPdfWhatsappHandler:
    def __init__(self, documents: WhatsappDocuments) -> None:
        self._documents = documents

    def __call__(self, query: CheckPdfWhatsapp, uow: WhatsappUnitOfWork) -> None:
        self._documents.plan(query.send, uow)


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


def _entity_client(uow: WhatsappUnitOfWork, entity_type: EntityType, entity_id: str, now: datetime) -> str | None:
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
