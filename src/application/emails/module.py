"""The emails module: client e-mail addresses, templates, the tenant's sending settings, and outgoing
messages (composed here, queued, retried and delivered by the shared flows of ``deliveries``)."""

from __future__ import annotations

from application.deliveries.flows import DeliverHandler, GetMessageHandler, RetryHandler, SendDocumentHandler, delivery_job
from application.deliveries.recipients import AddContactHandler
from application.emails import commands as c
from application.emails.clients import ClientEmails, DeleteClientEmailHandler, GetClientEmailsHandler
from application.emails.composing import EmailComposer
from application.emails.delivery import EMAILS_SEND, EmailChannel
from application.emails.log import FindEmailMessagesHandler
from application.emails.sending import EmailDocuments, SendEmailHandler
from application.emails.settings import (
    DeleteEmailTemplateHandler,
    FindEmailTemplatesHandler,
    GetEmailSettingsHandler,
    SetEmailSettingsHandler,
    SetEmailTemplateHandler,
)
from application.shared.modules import Dependencies, DomainModule, Registrations


def register(deps: Dependencies) -> Registrations:
    clock, addresses, renderer = deps.clock, deps.email_addresses, deps.email_renderer
    policy = deps.get("email_policy", c.EmailPolicy())
    channel = EmailChannel(policy, deps.email_senders, deps.storage)
    composer = EmailComposer(addresses, renderer, clock, policy, channel)
    documents = SendDocumentHandler(EmailDocuments(composer), deps.messages)
    return Registrations(
        handlers={
            c.CreateClientEmail: AddContactHandler(ClientEmails(addresses), clock),
            c.DeleteClientEmail: DeleteClientEmailHandler(),
            c.GetClientEmails: GetClientEmailsHandler(),
            c.SendEmail: SendEmailHandler(composer),
            c.SendPdfEmail: documents,
            c.ResendInvoiceEmail: documents,
            c.SendStatementEmail: documents,
            c.RetryEmail: RetryHandler(channel, clock),
            c.DeliverEmail: DeliverHandler(channel, clock),
            c.GetEmailMessage: GetMessageHandler(channel),
            c.FindEmailMessages: FindEmailMessagesHandler(policy),
            c.SetEmailTemplate: SetEmailTemplateHandler(renderer, clock),
            c.DeleteEmailTemplate: DeleteEmailTemplateHandler(),
            c.FindEmailTemplates: FindEmailTemplatesHandler(),
            c.GetEmailSettings: GetEmailSettingsHandler(),
            c.SetEmailSettings: SetEmailSettingsHandler(deps.secrets, deps.smtp_urls, addresses, clock),
        },
        jobs={EMAILS_SEND: delivery_job(deps.messages, c.DeliverEmail)},
        provides={"delivery_channels": {channel.name: channel}},
    )


MODULE = DomainModule(
    name="emails",
    needs=("clock", "storage", "secrets", "email_addresses", "email_renderer", "email_senders", "smtp_urls"),
    register=register,
)
