"""Sending e-mail: a message the caller writes (``SendEmail``) and a document's PDF (``SendPdfEmail``,
``ResendInvoiceEmail``, ``SendStatementEmail``).

A document send is the shared ``SendDocumentHandler``: ``EmailDocuments.plan`` resolves the
recipients and renders the subject and body (refusing before anything is written), the pdf module
renders the PDF, and ``EmailDocuments.queue`` queues the message with it attached.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from application.shared.actors import tenant_actor
from application.emails.commands import ResendInvoiceEmail, SendEmail, SendPdfEmail, SendStatementEmail
from application.emails.composing import EmailComposer, Explicit
from application.emails.ports import EmailsUnitOfWork
from application.emails.templates import day, money
from application.emails.views import EmailMessageView
from application.files.views import FileView
from application.invoicing.statements import client_statement
from application.pdf.commands import RenderInvoicePdf, RenderQuotePdf, RenderStatementPdf
from domain.emails.model import EmailContent, EmailKind, EmailLocale, Recipients, parse_body
from domain.files.model import EntityType
from domain.invoicing.values import business_date, parse_text
from domain.shared.errors import InvalidInput, NotFound
from domain.shared.model import parse_id
from domain.tenancy.model import Actor


class SendEmailHandler:
    _KINDS = (EmailKind.GENERIC, EmailKind.SIGNATURE_APPROVAL)

    def __init__(self, composer: EmailComposer) -> None:
        self._composer = composer

    def __call__(self, cmd: SendEmail, uow: EmailsUnitOfWork) -> EmailMessageView:
        actor = tenant_actor(cmd.actor)
        compose = self._composer
        kind = EmailKind.parse(cmd.kind)
        if kind not in self._KINDS:
            raise InvalidInput(
                "sendEmail sends GENERIC or SIGNATURE_APPROVAL messages; use sendPdfEmail, "
                "resendInvoiceEmail or sendStatementEmail for documents",
                field="kind",
            )
        explicit = compose.explicit(cmd.to, cmd.cc, cmd.bcc)
        recipients = Recipients.of(tuple(explicit.to), tuple(explicit.cc), tuple(explicit.bcc))
        reply_to = compose.addresses(cmd.reply_to, "replyTo")
        locale = compose.locale(cmd.locale)
        message = compose.message(cmd.message)
        entity = None
        if cmd.entity_type is not None or cmd.entity_id is not None:
            entity_type = EntityType.parse(cmd.entity_type or "")
            entity_id = parse_text(cmd.entity_id, field="entityId", max_length=128, required=True) or ""
            entity = (entity_type.value, entity_id)
        action_url = parse_text(cmd.action_url, field="actionUrl", max_length=2000)
        if action_url is not None and not action_url.startswith(("https://", "http://")):
            raise InvalidInput("actionUrl must be an http(s) URL", field="actionUrl")
        with uow:
            subject: object = cmd.subject
            html, text = parse_body(cmd.html, field="html"), parse_body(cmd.text, field="text")
            if subject is None or (html is None and text is None):
                context = compose.context(uow, actor, None, message, locale)
                context["action_url"] = action_url
                rendered = compose.render(compose.template(uow, kind, locale), context)
                if subject is None:
                    subject = rendered.subject
                if html is None and text is None:
                    html, text = rendered.html, rendered.text
            content = EmailContent.of(subject=subject, html=html, text=text)
            return compose.queue(
                uow, actor, kind=kind, recipients=recipients, content=content, reply_to=reply_to,
                attachment_file_ids=cmd.attachment_file_ids, entity=entity,
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailPlan:
    """A document's message before its PDF is rendered."""

    actor: Actor
    kind: EmailKind
    recipients: Recipients
    content: EmailContent
    entity: tuple[str, str]
    render: Any  # the RenderInvoicePdf / RenderQuotePdf / RenderStatementPdf command


EmailDocumentSend = SendPdfEmail | ResendInvoiceEmail | SendStatementEmail


def _optional_id(value: str | None, *, field: str) -> str | None:
    return None if value in (None, "") else parse_id(value, field=field)


class EmailDocuments:
    """The e-mail ``DocumentComposer``: recipients (explicit, else the document's ad-hoc emails,
    else the client's defaults) and the kind's template, then the message with its PDF."""

    def __init__(self, composer: EmailComposer) -> None:
        self._composer = composer

    def plan(self, cmd: EmailDocumentSend, uow: EmailsUnitOfWork) -> EmailPlan:
        actor = tenant_actor(cmd.actor)
        compose = self._composer
        message, locale = compose.message(cmd.message), compose.locale(cmd.locale)
        if isinstance(cmd, SendStatementEmail):
            return self._statement(cmd, uow, actor, message, locale)
        if isinstance(cmd, ResendInvoiceEmail):
            invoice_id = parse_id(cmd.invoice_id, field="invoiceId")
            to = () if cmd.email in (None, "") else (compose.address(cmd.email, "email"),)
            return self._invoice(uow, actor, invoice_id, Explicit(to=to), message, locale, None, field="invoiceId")
        entity_type = EntityType.parse(cmd.entity_type)
        entity_id = parse_id(cmd.entity_id, field="entityId")
        template_id = _optional_id(cmd.template_id, field="templateId")
        explicit = compose.explicit(cmd.to, cmd.cc, cmd.bcc)
        if entity_type is EntityType.INVOICE:
            return self._invoice(uow, actor, entity_id, explicit, message, locale, template_id, field="entityId")
        if entity_type is EntityType.QUOTE:
            return self._quote(uow, actor, entity_id, explicit, message, locale, template_id)
        raise InvalidInput(
            "sendPdfEmail sends an INVOICE or a QUOTE; use sendStatementEmail for statements", field="entityType"
        )

    def queue(self, cmd: EmailDocumentSend, uow: EmailsUnitOfWork, plan: EmailPlan, pdf: FileView) -> EmailMessageView:
        with uow:
            return self._composer.queue(
                uow, plan.actor, kind=plan.kind, recipients=plan.recipients, content=plan.content,
                attachment_file_ids=(pdf.id,), entity=plan.entity,
            )

    def _invoice(
        self, uow: EmailsUnitOfWork, actor: Actor, invoice_id: str, explicit: Explicit, message: str | None,
        locale: EmailLocale, template_id: str | None, *, field: str,
    ) -> EmailPlan:
        compose = self._composer
        with uow:
            invoice = uow.invoice_views.get(invoice_id, today=business_date(compose.clock.now()))
            if invoice is None:
                raise NotFound(f"invoice {invoice_id} not found", field=field)
            recipients = compose.resolve(uow, explicit, invoice.ad_hoc_emails, invoice.client_id)
            context = compose.context(uow, actor, invoice.client_name, message, locale)
            context["invoice"] = {
                "number": invoice.number, "issue_date": day(invoice.issue_date), "due_date": day(invoice.due_date),
                "total": money(invoice.total), "balance": money(invoice.balance), "currency": str(invoice.currency),
            }
            content = compose.render(compose.template(uow, EmailKind.INVOICE, locale), context)
        return EmailPlan(
            actor=actor, kind=EmailKind.INVOICE, recipients=recipients, content=content,
            entity=(EntityType.INVOICE.value, invoice_id),
            render=RenderInvoicePdf(actor=actor, invoice_id=invoice_id, template_id=template_id),
        )

    def _quote(
        self, uow: EmailsUnitOfWork, actor: Actor, quote_id: str, explicit: Explicit, message: str | None,
        locale: EmailLocale, template_id: str | None,
    ) -> EmailPlan:
        compose = self._composer
        with uow:
            quote = uow.quote_views.get(quote_id, today=business_date(compose.clock.now()))
            if quote is None:
                raise NotFound(f"quote {quote_id} not found", field="entityId")
            recipients = compose.resolve(uow, explicit, quote.ad_hoc_emails, quote.client_id)
            context = compose.context(uow, actor, quote.client_name, message, locale)
            context["quote"] = {
                "number": quote.number, "issue_date": day(quote.issue_date), "valid_until": day(quote.valid_until),
                "total": money(quote.total), "currency": str(quote.currency),
            }
            content = compose.render(compose.template(uow, EmailKind.QUOTE, locale), context)
        return EmailPlan(
            actor=actor, kind=EmailKind.QUOTE, recipients=recipients, content=content,
            entity=(EntityType.QUOTE.value, quote_id),
            render=RenderQuotePdf(actor=actor, quote_id=quote_id, template_id=template_id),
        )

    def _statement(
        self, cmd: SendStatementEmail, uow: EmailsUnitOfWork, actor: Actor, message: str | None, locale: EmailLocale
    ) -> EmailPlan:
        compose = self._composer
        template_id = _optional_id(cmd.template_id, field="templateId")
        explicit = compose.explicit(cmd.to, cmd.cc, cmd.bcc)
        statement = client_statement(uow, cmd.client_id, cmd.period_from, cmd.period_to, cmd.currency)
        client = statement.client
        with uow:
            recipients = compose.resolve(uow, explicit, (), client.id)
            context = compose.context(uow, actor, client.name, message, locale)
            context["statement"] = {
                "period_from": day(cmd.period_from), "period_to": day(cmd.period_to),
                "closing_balance": money(statement.statement.closing_balance),
                "currency": str(statement.statement.currency),
            }
            content = compose.render(compose.template(uow, EmailKind.STATEMENT, locale), context)
        return EmailPlan(
            actor=actor, kind=EmailKind.STATEMENT, recipients=recipients, content=content,
            entity=(EntityType.STATEMENT.value, client.id),
            render=RenderStatementPdf(
                actor=actor, client_id=client.id, period_from=cmd.period_from, period_to=cmd.period_to,
                currency=cmd.currency, template_id=template_id,
            ),
        )
