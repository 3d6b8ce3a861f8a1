"""The WhatsApp module: the tenant's Cloud API connection, client numbers, templates, outgoing
messages (the ``whatsapp.send`` job), and the webhook's inbound messages and statuses."""

from __future__ import annotations

from application.emails.commands import SendPdfEmail
from application.emails.module import through_bus
from application.jobs.errors import PermanentJobError
from application.shared.modules import Dependencies, DomainModule, Registrations
from application.whatsapp import commands as c
from application.whatsapp import handlers as h
from application.whatsapp.webhooks import PROVIDER, WhatsappWebhookProcessor
from domain.jobs.model import Job


def register(deps: Dependencies) -> Registrations:
    clock, secrets, phones = deps.clock, deps.secrets, deps.phones
    policy = deps.get("whatsapp_policy", c.WhatsappPolicy())
    send_pdf = h.SendPdfWhatsappHandler(phones, clock, policy, through_bus(deps))

    def deliver(job: Job) -> None:
        if job.tenant_id is None or "message_id" not in job.payload:
            raise PermanentJobError("a whatsapp.send job names its tenant and message")
        # the job has one attempt more than the delivery: the spare run (see WhatsappPolicy)
        deps.messages.handle(
            c.DeliverWhatsapp(
                actor=None, tenant_id=job.tenant_id, message_id=str(job.payload["message_id"]),
                last_attempt=job.attempts >= job.max_attempts - 1, spare=job.attempts >= job.max_attempts,
            )
        )

    return Registrations(
        handlers={
            c.ConnectWhatsapp: h.ConnectWhatsappHandler(secrets, clock),
            c.DisconnectWhatsapp: h.DisconnectWhatsappHandler(),
            c.GetWhatsappConnection: h.GetWhatsappConnectionHandler(),
            c.CreateClientWhatsapp: h.CreateClientWhatsappHandler(phones, clock),
            c.DeleteClientWhatsapp: h.DeleteClientWhatsappHandler(),
            c.GetClientWhatsapps: h.GetClientWhatsappsHandler(),
            c.SetClientDefaultChannel: h.SetClientDefaultChannelHandler(clock),
            c.RegisterWhatsappTemplate: h.RegisterWhatsappTemplateHandler(clock),
            c.DeleteWhatsappTemplate: h.DeleteWhatsappTemplateHandler(),
            c.FindWhatsappTemplates: h.FindWhatsappTemplatesHandler(),
            c.SendWhatsapp: h.SendWhatsappHandler(phones, clock, policy),
            c.RetryWhatsapp: h.RetryWhatsappHandler(clock, policy),
            c.FindWhatsappMessages: h.FindWhatsappMessagesHandler(policy),
            c.GetWhatsappMessage: h.GetWhatsappMessageHandler(),
            c.DeliverWhatsapp: h.DeliverWhatsappHandler(
                deps.uow_factory, deps.whatsapp_sender, secrets, deps.storage, clock
            ),
            c.RouteWhatsappWebhook: h.RouteWhatsappWebhookHandler(secrets, deps.webhook_signatures),
            c.VerifyWhatsappSubscription: h.VerifyWhatsappSubscriptionHandler(secrets),
            c.ApplyWhatsappWebhook: h.ApplyWhatsappWebhookHandler(deps.uow_factory, clock),
            c.SendPdfWhatsapp: send_pdf,
            c.SendStatementWhatsapp: send_pdf,
            c.SendInvoice: h.SendInvoiceHandler(
                send_pdf, clock, send_email=lambda command, uow: deps.messages.handle(command),
                email_command=SendPdfEmail,
            ),
        },
        jobs={h.SEND_JOB: deliver},
        webhook_processors={PROVIDER: WhatsappWebhookProcessor(deps.messages)},
    )


MODULE = DomainModule(
    name="whatsapp",
    needs=("uow_factory", "clock", "storage", "secrets", "whatsapp_sender", "phones", "webhook_signatures"),
    register=register,
)
