"""``sendInvoice``: an invoice's PDF by the channel named, else by its client's default channel
(EMAIL for an ad-hoc party). Each channel sends through the bus: the e-mail as ``SendPdfEmail``,
the WhatsApp messages as ``SendPdfWhatsapp``; for BOTH, the WhatsApp send is checked first, so a
refusal leaves no e-mail queued."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from application.shared.actors import tenant_actor
from application.emails.commands import SendPdfEmail
from application.emails.views import EmailMessageView
from application.invoicing.ports import ClientReader, InvoiceReader
from application.shared.messages import Command
from application.shared.modules import Messages
from application.shared.ports import Clock, UnitOfWork
from application.whatsapp.commands import CheckPdfWhatsapp, SendPdfWhatsapp
from application.whatsapp.views import WhatsappMessageView
from domain.invoicing.values import business_date
from domain.shared.channels import DeliveryChannel
from domain.shared.errors import NotFound
from domain.shared.model import parse_id


@dataclass(frozen=True, slots=True, kw_only=True)
class SendInvoice(Command):
    """The invoice by the channel named, else the client's default channel (EMAIL for ad-hoc parties)."""

    invoice_id: str
    channel: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SentInvoiceView:
    channel: DeliveryChannel
    whatsapp: tuple[WhatsappMessageView, ...] = ()
    email: EmailMessageView | None = None


class InvoiceUnitOfWork(UnitOfWork, Protocol):
    invoice_views: InvoiceReader
    client_views: ClientReader


class SendInvoiceHandler:
    def __init__(self, messages: Messages, clock: Clock) -> None:
        self._messages = messages
        self._clock = clock

    def __call__(self, cmd: SendInvoice, uow: InvoiceUnitOfWork) -> SentInvoiceView:
        actor = tenant_actor(cmd.actor)
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
        by_whatsapp = SendPdfWhatsapp(actor=actor, entity_type="INVOICE", entity_id=invoice_id)
        if channel.whatsapp:
            self._messages.handle(CheckPdfWhatsapp(actor=actor, send=by_whatsapp))
        email = None
        if channel.email:
            email = self._messages.handle(SendPdfEmail(actor=actor, entity_type="INVOICE", entity_id=invoice_id))
        whatsapp = self._messages.handle(by_whatsapp) if channel.whatsapp else []
        return SentInvoiceView(channel=channel, whatsapp=tuple(whatsapp), email=email)
