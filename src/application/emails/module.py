"""The emails module: client e-mail addresses, templates, the tenant's sending settings, and
outgoing messages (composed, queued, delivered by the ``emails.send`` job)."""

from __future__ import annotations

from typing import Any

from application.emails import commands as c
from application.emails import handlers as h
from application.pdf.commands import RenderInvoicePdf, RenderQuotePdf, RenderStatementPdf
from application.shared.modules import Dependencies, DomainModule, Registrations
from domain.jobs.model import Job


def through_bus(deps: Dependencies) -> dict[type, Any]:
    """The PDF renders a send needs, each run by the pdf module through the bus."""
    return {
        kind: (lambda command, uow: deps.messages.handle(command))
        for kind in (RenderInvoicePdf, RenderQuotePdf, RenderStatementPdf)
    }


def register(deps: Dependencies) -> Registrations:
    clock, addresses, renderer = deps.clock, deps.email_addresses, deps.email_renderer
    policy = deps.get("email_policy", c.EmailPolicy())
    composes = (addresses, renderer, clock, policy)
    renders = through_bus(deps)

    def deliver(job: Job) -> None:
        # the job has one attempt more than the delivery: the spare run (see DeliverEmail)
        last, spare = job.attempts >= job.max_attempts - 1, job.attempts >= job.max_attempts
        message_id = str(job.payload.get("message_id", ""))
        command = c.DeliverEmail(actor=None, message_id=message_id, last_attempt=last, spare=spare)
        deps.messages.handle(command, tenant_id=job.tenant_id)

    return Registrations(
        handlers={
            c.CreateClientEmail: h.CreateClientEmailHandler(addresses, clock),
            c.DeleteClientEmail: h.DeleteClientEmailHandler(),
            c.GetClientEmails: h.GetClientEmailsHandler(),
            c.SendEmail: h.SendEmailHandler(*composes),
            c.RetryEmail: h.RetryEmailHandler(clock, policy),
            c.GetEmailMessage: h.GetEmailMessageHandler(),
            c.FindEmailMessages: h.FindEmailMessagesHandler(policy),
            c.SetEmailTemplate: h.SetEmailTemplateHandler(renderer, clock),
            c.DeleteEmailTemplate: h.DeleteEmailTemplateHandler(),
            c.FindEmailTemplates: h.FindEmailTemplatesHandler(),
            c.SendPdfEmail: h.SendPdfEmailHandler(*composes, renders),
            c.ResendInvoiceEmail: h.ResendInvoiceEmailHandler(*composes, renders),
            c.SendStatementEmail: h.SendStatementEmailHandler(*composes, renders),
            c.DeliverEmail: h.DeliverEmailHandler(deps.email_senders, deps.storage, clock),
            c.GetEmailSettings: h.GetEmailSettingsHandler(),
            c.SetEmailSettings: h.SetEmailSettingsHandler(deps.secrets, deps.smtp_urls, addresses, clock),
        },
        jobs={h.EMAILS_SEND: deliver},
    )


MODULE = DomainModule(
    name="emails",
    needs=("clock", "storage", "secrets", "email_addresses", "email_renderer", "email_senders", "smtp_urls"),
    register=register,
)
