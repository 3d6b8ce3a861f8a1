"""The WhatsApp module: the tenant's Cloud API connection, client numbers, templates, outgoing
messages (composed here, queued, retried and delivered by the shared flows of ``deliveries``), and
the webhook's inbound messages and statuses."""

from __future__ import annotations

from application.deliveries.flows import DeliverHandler, GetMessageHandler, RetryHandler, SendDocumentHandler, delivery_job
from application.deliveries.recipients import AddContactHandler
from application.shared.modules import Dependencies, DomainModule, Registrations
from application.whatsapp import commands as c
from application.whatsapp.clients import (
    ClientNumbers,
    DeleteClientWhatsappHandler,
    GetClientWhatsappsHandler,
    SetClientDefaultChannelHandler,
)
from application.whatsapp.connection import (
    ConnectWhatsappHandler,
    DisconnectWhatsappHandler,
    GetWhatsappConnectionHandler,
)
from application.whatsapp.delivery import SEND_JOB, WhatsappChannel
from application.whatsapp.log import FindWhatsappMessagesHandler
from application.whatsapp.notifications import ApplyWhatsappWebhookHandler
from application.whatsapp.sending import CheckPdfWhatsappHandler, SendWhatsappHandler, WhatsappDocuments
from application.whatsapp.templates import (
    DeleteWhatsappTemplateHandler,
    FindWhatsappTemplatesHandler,
    RegisterWhatsappTemplateHandler,
)
from application.whatsapp.webhooks import (
    PROVIDER,
    RouteWhatsappWebhookHandler,
    VerifyWhatsappSubscriptionHandler,
    WhatsappWebhookProcessor,
)


def register(deps: Dependencies) -> Registrations:
    clock, secrets, phones = deps.clock, deps.secrets, deps.phones
    policy = deps.get("whatsapp_policy", c.WhatsappPolicy())
    channel = WhatsappChannel(policy, deps.whatsapp_sender, secrets, deps.storage)
    documents = WhatsappDocuments(phones, clock, channel)
    send_pdf = SendDocumentHandler(documents, deps.messages)
    return Registrations(
        handlers={
            c.ConnectWhatsapp: ConnectWhatsappHandler(secrets, clock),
            c.DisconnectWhatsapp: DisconnectWhatsappHandler(),
            c.GetWhatsappConnection: GetWhatsappConnectionHandler(),
            c.CreateClientWhatsapp: AddContactHandler(ClientNumbers(phones), clock),
            c.DeleteClientWhatsapp: DeleteClientWhatsappHandler(),
            c.GetClientWhatsapps: GetClientWhatsappsHandler(),
            c.SetClientDefaultChannel: SetClientDefaultChannelHandler(clock),
            c.RegisterWhatsappTemplate: RegisterWhatsappTemplateHandler(clock),
            c.DeleteWhatsappTemplate: DeleteWhatsappTemplateHandler(),
            c.FindWhatsappTemplates: FindWhatsappTemplatesHandler(),
            c.SendWhatsapp: SendWhatsappHandler(phones, clock, channel),
            c.SendPdfWhatsapp: send_pdf,
            c.SendStatementWhatsapp: send_pdf,
            c.CheckPdfWhatsapp: CheckPdfWhatsappHandler(documents),
            c.RetryWhatsapp: RetryHandler(channel, clock),
            c.DeliverWhatsapp: DeliverHandler(channel, clock),
            c.FindWhatsappMessages: FindWhatsappMessagesHandler(policy),
            c.GetWhatsappMessage: GetMessageHandler(channel),
            c.RouteWhatsappWebhook: RouteWhatsappWebhookHandler(secrets, deps.webhook_signatures),
            c.VerifyWhatsappSubscription: VerifyWhatsappSubscriptionHandler(secrets),
            c.ApplyWhatsappWebhook: ApplyWhatsappWebhookHandler(clock),
        },
        jobs={SEND_JOB: delivery_job(deps.messages, c.DeliverWhatsapp)},
        provides={
            "webhook_processors": {PROVIDER: WhatsappWebhookProcessor(deps.messages)},
            "delivery_channels": {channel.name: channel},
        },
    )


MODULE = DomainModule(
    name="whatsapp",
    needs=("clock", "storage", "secrets", "whatsapp_sender", "phones", "webhook_signatures"),
    register=register,
)
