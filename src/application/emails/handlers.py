"""Handlers of the emails domain: client defaults, composing and queueing messages, delivering them.

Queueing is one transaction: the message row, the links of its attachments (so a temporary
upload attached to a message is kept) and the ``emails.send`` job commit together, after every
check passed (addresses, recipients, files of this tenant, template rendering): a refused send
writes nothing. ``sendPdfEmail`` renders the document's PDF first through the pdf handlers
(renders are deterministic, so rendering again returns the same file) once the recipients are
known to resolve.

Delivery (``DeliverEmailHandler``, run by the job) commits SENDING before it calls the sender and
records the outcome in a second transaction; a run that finds the message still SENDING marks it
UNCERTAIN and sends nothing (see ``domain.shared.delivery``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import structlog

from application.emails.commands import (
    CreateClientEmail,
    DeleteClientEmail,
    DeleteEmailTemplate,
    DeliverEmail,
    EmailPolicy,
    FindEmailMessages,
    FindEmailTemplates,
    GetClientEmails,
    GetEmailMessage,
    GetEmailSettings,
    ResendInvoiceEmail,
    RetryEmail,
    SendEmail,
    SendPdfEmail,
    SendStatementEmail,
    SetEmailSettings,
    SetEmailTemplate,
)
from application.emails.ports import (
    AddressValidator,
    EmailAttachment,
    EmailDeferred,
    EmailOutcomeUnknown,
    EmailRejected,
    EmailSenders,
    EmailTemplateRenderer,
    OutgoingEmail,
    SentEmail,
    SmtpUrlChecker,
)
from application.emails.templates import BUILT_IN, TemplateSource, day, money, sample_context
from application.emails.views import (
    ClientEmailView,
    EmailMessageCursor,
    EmailMessageFilter,
    EmailMessageView,
    EmailSettingsView,
    EmailTemplateView,
)
from application.files.keeping import blob_key
from application.invoicing.handlers import client_statement
from application.files.ports import FileStorage
from application.files.views import FileView
from application.jobs.errors import PermanentJobError, TransientJobError
from application.pdf.commands import RenderInvoicePdf, RenderQuotePdf, RenderStatementPdf
from application.shared.messages import Page, page_size
from application.shared.ports import Clock, DuplicateEntry, UnitOfWork
from application.shared.secrets import SecretBox
from domain.emails.model import (
    MAX_CLIENT_EMAILS,
    ClientEmail,
    ClientEmailExists,
    Direction,
    EmailContent,
    EmailKind,
    EmailLocale,
    EmailMessage,
    EmailSettings,
    EmailTemplate,
    NoRecipients,
    RecipientKind,
    Recipients,
    parse_body,
    parse_subject,
    smtp_secret_context,
)
from domain.files.model import EntityType
from domain.invoicing.values import business_date, parse_text
from domain.shared.delivery import Begin, DeliveryStatus
from domain.shared.errors import InvalidInput, NotFound, PermissionDenied
from domain.shared.model import parse_id
from domain.tenancy.model import Actor

log = structlog.get_logger(__name__)

EMAILS_SEND = "emails.send"
MAX_MESSAGE_LENGTH = 5000


def _tenant(actor: Actor | None) -> Actor:
    if actor is None:
        raise PermissionError("a tenant's actor is required")
    return actor


# --- views -----------------------------------------------------------------------------------


def client_email_view(email: ClientEmail) -> ClientEmailView:
    return ClientEmailView(
        id=email.id, client_id=email.client_id, email=email.email, kind=RecipientKind(email.kind),
        created_at=email.created_at,
    )


def email_message_view(message: EmailMessage) -> EmailMessageView:
    return EmailMessageView(
        id=message.id,
        direction=Direction(message.direction),
        kind=EmailKind(message.kind),
        status=DeliveryStatus(message.status),
        message_id=message.internet_message_id,
        from_address=message.from_address,
        reply_to=tuple(message.reply_to),
        to=tuple(message.to),
        cc=tuple(message.cc),
        bcc=tuple(message.bcc),
        subject=message.subject,
        html=message.html,
        text=message.text,
        attachment_file_ids=tuple(message.attachment_file_ids),
        entity_type=message.entity_type,
        entity_id=message.entity_id,
        provider=message.provider,
        provider_message_id=message.provider_message_id,
        last_error=message.last_error,
        attempts=tuple(message.attempts),
        retries=message.retries,
        created_by=message.created_by,
        created_at=message.created_at,
        updated_at=message.updated_at,
        sent_at=message.sent_at,
    )


def _template_view(kind: EmailKind, locale: EmailLocale, custom: EmailTemplate | None) -> EmailTemplateView:
    if custom is not None:
        return EmailTemplateView(
            kind=kind, locale=locale, subject=custom.subject, html=custom.html, text=custom.text, custom=True,
            updated_at=custom.updated_at,
        )
    built_in = BUILT_IN[(kind, locale)]
    return EmailTemplateView(
        kind=kind, locale=locale, subject=built_in.subject, html=built_in.html, text=built_in.text,
        custom=False, updated_at=None,
    )


# --- client defaults -------------------------------------------------------------------------


class CreateClientEmailHandler:
    def __init__(self, addresses: AddressValidator, clock: Clock) -> None:
        self._addresses = addresses
        self._clock = clock

    def __call__(self, cmd: CreateClientEmail, uow: UnitOfWork) -> ClientEmailView:
        actor = _tenant(cmd.actor)
        client_id = parse_id(cmd.client_id, field="clientId")
        email = self._addresses.normalize(cmd.email, field="email")
        kind = RecipientKind.parse(cmd.kind)
        with uow:
            if uow.client_views.get(client_id) is None:
                raise NotFound(f"client {client_id} not found", field="clientId")
            existing = uow.client_emails.of_client(client_id)
            if any(e.email.lower() == email.lower() for e in existing):
                raise ClientEmailExists(f"{email} is already one of this client's emails", field="email")
            if len(existing) >= MAX_CLIENT_EMAILS:
                raise InvalidInput(f"a client has at most {MAX_CLIENT_EMAILS} emails", field="email")
            created = ClientEmail.create(
                tenant_id=actor.tenant_id, client_id=client_id, email=email, kind=kind, now=self._clock.now()
            )
            uow.client_emails.add(created)
            try:
                uow.commit()
            except DuplicateEntry:
                raise ClientEmailExists(f"{email} is already one of this client's emails", field="email") from None
            return client_email_view(created)


class DeleteClientEmailHandler:
    def __call__(self, cmd: DeleteClientEmail, uow: UnitOfWork) -> str:
        _tenant(cmd.actor)
        email_id = parse_id(cmd.client_email_id, field="id")
        with uow:
            email = uow.client_emails.get(email_id)
            if email is None:
                raise NotFound(f"client email {email_id} not found", field="id")
            uow.client_emails.delete(email)
            uow.commit()
        return email_id


class GetClientEmailsHandler:
    def __call__(self, query: GetClientEmails, uow: UnitOfWork) -> dict[str, list[ClientEmailView]]:
        with uow:
            return uow.client_email_views.of_clients(list(query.client_ids))


# --- composing and queueing ------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class _Explicit:
    to: Sequence[str]
    cc: Sequence[str]
    bcc: Sequence[str]

    @property
    def given(self) -> bool:
        return bool(self.to or self.cc or self.bcc)


class _Composer:
    """What every send shares: addresses, templates, attachments, queueing."""

    def __init__(
        self,
        addresses: AddressValidator,
        renderer: EmailTemplateRenderer,
        clock: Clock,
        policy: EmailPolicy,
    ) -> None:
        self._addresses = addresses
        self._renderer = renderer
        self._clock = clock
        self._policy = policy

    # inputs

    def addresses(self, values: Sequence[str], field: str) -> tuple[str, ...]:
        return tuple(self._addresses.normalize(value, field=f"{field}[{index}]") for index, value in enumerate(values))

    def explicit(self, to: Sequence[str], cc: Sequence[str], bcc: Sequence[str]) -> _Explicit:
        return _Explicit(to=self.addresses(to, "to"), cc=self.addresses(cc, "cc"), bcc=self.addresses(bcc, "bcc"))

    def locale(self, value: str | None) -> EmailLocale:
        return EmailLocale.parse(value or self._policy.default_locale)

    @staticmethod
    def message(value: str | None) -> str | None:
        return parse_text(value, field="message", max_length=MAX_MESSAGE_LENGTH, multiline=True)

    @staticmethod
    def resolve(
        uow: UnitOfWork, explicit: _Explicit, ad_hoc: Sequence[str], client_id: str | None
    ) -> Recipients:
        """Explicit recipients, else the document's ad-hoc emails, else the client's defaults."""
        if explicit.given:
            return Recipients.of(explicit.to, explicit.cc, explicit.bcc)
        if ad_hoc:
            return Recipients.of(tuple(ad_hoc))
        defaults = uow.client_emails.of_client(client_id) if client_id else []
        if not defaults:
            raise NoRecipients(
                "no recipients: give to, or add emails to the client (createClientEmail)", field="to"
            )
        by_kind = {kind: [e.email for e in defaults if e.kind == kind] for kind in RecipientKind}
        return Recipients.of(by_kind[RecipientKind.TO], by_kind[RecipientKind.CC], by_kind[RecipientKind.BCC])

    # templates

    @staticmethod
    def template(uow: UnitOfWork, kind: EmailKind, locale: EmailLocale) -> TemplateSource:
        custom = uow.email_templates.get(kind, locale)
        if custom is not None:
            return TemplateSource(subject=custom.subject, html=custom.html, text=custom.text)
        return BUILT_IN[(kind, locale)]

    def render(self, source: TemplateSource, context: Mapping[str, Any]) -> EmailContent:
        subject = " ".join(self._renderer.render(source.subject, context, field="subject", html=False).split())
        html = None if source.html is None else self._renderer.render(source.html, context, field="html", html=True)
        text = None if source.text is None else self._renderer.render(source.text, context, field="text", html=False)
        return EmailContent.of(subject=subject, html=html, text=text)

    @staticmethod
    def base_context(uow: UnitOfWork, actor: Actor, client_name: str | None, message: str | None, locale: EmailLocale) -> dict[str, Any]:
        tenant = uow.tenants.get(actor.tenant_id)
        return {
            "tenant": {"name": tenant.name if tenant else ""},
            "client": {"name": client_name},
            "message": message,
            "locale": locale.value,
            "action_url": None,
            "document": {"name": None},
        }

    # queueing

    def _attachments(self, uow: UnitOfWork, file_ids: Sequence[str]) -> list[str]:
        """The tenant's files, linked to nothing yet here; a file of another tenant is not found."""
        total = 0
        checked: list[str] = []
        for index, raw in enumerate(file_ids):
            field = f"attachmentFileIds[{index}]"
            file_id = parse_id(raw, field=field)
            view = uow.file_views.get(file_id)
            if view is None:
                raise NotFound(f"file {file_id} not found", field=field)
            total += view.size
            if total > self._policy.max_attachment_bytes:
                raise InvalidInput(
                    f"attachments may add up to at most {self._policy.max_attachment_bytes} bytes", field=field
                )
            checked.append(file_id)
        return checked

    def queue(
        self,
        uow: UnitOfWork,
        actor: Actor,
        *,
        kind: EmailKind,
        recipients: Recipients,
        content: EmailContent,
        reply_to: Sequence[str] = (),
        attachment_file_ids: Sequence[str] = (),
        entity: tuple[str, str] | None = None,
    ) -> EmailMessageView:
        """Inside ``uow``: write the message, link its attachments, queue the job, commit."""
        now = self._clock.now()
        file_ids = self._attachments(uow, attachment_file_ids)
        settings = uow.email_settings.get()
        message = EmailMessage.queue(
            tenant_id=actor.tenant_id,
            kind=kind,
            recipients=recipients,
            content=content,
            from_address=settings.from_address if settings else None,
            reply_to=reply_to,
            attachment_file_ids=file_ids,
            entity_type=entity[0] if entity else None,
            entity_id=entity[1] if entity else None,
            message_id_domain=self._policy.message_id_domain,
            created_by=actor.user_id,
            now=now,
        )
        for file_id in message.attachment_file_ids:
            file = uow.files.get(file_id)
            if file is None:  # deleted since it was checked, in this same transaction: impossible
                raise NotFound(f"file {file_id} not found", field="attachmentFileIds")
            uow.files.lock_content(file.sha256)
            file = uow.files.get(file_id)
            if file is None:
                raise NotFound(f"file {file_id} not found", field="attachmentFileIds")
            file.link(EntityType.EMAIL_MESSAGE, message.id, now=now)
        uow.email_messages.add(message)
        uow.jobs.enqueue(
            EMAILS_SEND, {"message_id": message.id}, idempotency_key=message.send_job_key(),
            max_attempts=self._policy.delivery_attempts + 1,
        )
        uow.commit()
        log.info("email.queued", message_id=message.id, kind=str(kind), recipients=recipients.count)
        return email_message_view(message)


class SendEmailHandler(_Composer):
    _KINDS = (EmailKind.GENERIC, EmailKind.SIGNATURE_APPROVAL)

    def __call__(self, cmd: SendEmail, uow: UnitOfWork) -> EmailMessageView:
        actor = _tenant(cmd.actor)
        kind = EmailKind.parse(cmd.kind)
        if kind not in self._KINDS:
            raise InvalidInput(
                "sendEmail sends GENERIC or SIGNATURE_APPROVAL messages; use sendPdfEmail, "
                "resendInvoiceEmail or sendStatementEmail for documents",
                field="kind",
            )
        recipients = Recipients.of(*self._explicit_tuple(cmd))
        reply_to = self.addresses(cmd.reply_to, "replyTo")
        locale = self.locale(cmd.locale)
        message = self.message(cmd.message)
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
                context = self.base_context(uow, actor, None, message, locale)
                context["action_url"] = action_url
                rendered = self.render(self.template(uow, kind, locale), context)
                if subject is None:
                    subject = rendered.subject
                if html is None and text is None:
                    html, text = rendered.html, rendered.text
            content = EmailContent.of(subject=subject, html=html, text=text)
            return self.queue(
                uow, actor, kind=kind, recipients=recipients, content=content, reply_to=reply_to,
                attachment_file_ids=cmd.attachment_file_ids, entity=entity,
            )

    def _explicit_tuple(self, cmd: SendEmail) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        explicit = self.explicit(cmd.to, cmd.cc, cmd.bcc)
        return tuple(explicit.to), tuple(explicit.cc), tuple(explicit.bcc)


Render = Callable[[Any, UnitOfWork], FileView]


class _DocumentSender(_Composer):
    """Sends a document's PDF: resolve recipients (refusing before anything is written), render
    the PDF through the pdf handler, then queue the message with it attached."""

    def __init__(
        self,
        addresses: AddressValidator,
        renderer: EmailTemplateRenderer,
        clock: Clock,
        policy: EmailPolicy,
        renders: Mapping[type, Render],
    ) -> None:
        super().__init__(addresses, renderer, clock, policy)
        self._renders = renders

    def _render_pdf(self, command: Any, uow: UnitOfWork) -> FileView:
        return self._renders[type(command)](command, uow)

    def _invoice(
        self,
        actor: Actor,
        uow: UnitOfWork,
        invoice_id: str,
        explicit: _Explicit,
        message: str | None,
        locale: EmailLocale,
        template_id: str | None,
        field: str = "invoiceId",
    ) -> EmailMessageView:
        with uow:
            invoice = uow.invoice_views.get(invoice_id, today=business_date(self._clock.now()))
            if invoice is None:
                raise NotFound(f"invoice {invoice_id} not found", field=field)
            recipients = self.resolve(uow, explicit, invoice.ad_hoc_emails, invoice.client_id)
            context = self.base_context(uow, actor, invoice.client_name, message, locale)
            context["invoice"] = {
                "number": invoice.number, "issue_date": day(invoice.issue_date), "due_date": day(invoice.due_date),
                "total": money(invoice.total), "balance": money(invoice.balance), "currency": str(invoice.currency),
            }
            content = self.render(self.template(uow, EmailKind.INVOICE, locale), context)
        pdf = self._render_pdf(RenderInvoicePdf(actor=actor, invoice_id=invoice_id, template_id=template_id), uow)
        with uow:
            return self.queue(
                uow, actor, kind=EmailKind.INVOICE, recipients=recipients, content=content,
                attachment_file_ids=(pdf.id,), entity=(EntityType.INVOICE.value, invoice_id),
            )

    def _quote(
        self,
        actor: Actor,
        uow: UnitOfWork,
        quote_id: str,
        explicit: _Explicit,
        message: str | None,
        locale: EmailLocale,
        template_id: str | None,
    ) -> EmailMessageView:
        with uow:
            quote = uow.quote_views.get(quote_id, today=business_date(self._clock.now()))
            if quote is None:
                raise NotFound(f"quote {quote_id} not found", field="entityId")
            recipients = self.resolve(uow, explicit, quote.ad_hoc_emails, quote.client_id)
            context = self.base_context(uow, actor, quote.client_name, message, locale)
            context["quote"] = {
                "number": quote.number, "issue_date": day(quote.issue_date), "valid_until": day(quote.valid_until),
                "total": money(quote.total), "currency": str(quote.currency),
            }
            content = self.render(self.template(uow, EmailKind.QUOTE, locale), context)
        pdf = self._render_pdf(RenderQuotePdf(actor=actor, quote_id=quote_id, template_id=template_id), uow)
        with uow:
            return self.queue(
                uow, actor, kind=EmailKind.QUOTE, recipients=recipients, content=content,
                attachment_file_ids=(pdf.id,), entity=(EntityType.QUOTE.value, quote_id),
            )


def _optional_id(value: str | None, *, field: str) -> str | None:
    return None if value in (None, "") else parse_id(value, field=field)


class SendPdfEmailHandler(_DocumentSender):
    def __call__(self, cmd: SendPdfEmail, uow: UnitOfWork) -> EmailMessageView:
        actor = _tenant(cmd.actor)
        entity_type = EntityType.parse(cmd.entity_type)
        entity_id = parse_id(cmd.entity_id, field="entityId")
        template_id = _optional_id(cmd.template_id, field="templateId")
        explicit = self.explicit(cmd.to, cmd.cc, cmd.bcc)
        message, locale = self.message(cmd.message), self.locale(cmd.locale)
        if entity_type is EntityType.INVOICE:
            return self._invoice(actor, uow, entity_id, explicit, message, locale, template_id, field="entityId")
        if entity_type is EntityType.QUOTE:
            return self._quote(actor, uow, entity_id, explicit, message, locale, template_id)
        raise InvalidInput(
            "sendPdfEmail sends an INVOICE or a QUOTE; use sendStatementEmail for statements", field="entityType"
        )


class ResendInvoiceEmailHandler(_DocumentSender):
    def __call__(self, cmd: ResendInvoiceEmail, uow: UnitOfWork) -> EmailMessageView:
        actor = _tenant(cmd.actor)
        invoice_id = parse_id(cmd.invoice_id, field="invoiceId")
        to = () if cmd.email in (None, "") else (self._addresses.normalize(cmd.email, field="email"),)
        explicit = _Explicit(to=to, cc=(), bcc=())
        return self._invoice(actor, uow, invoice_id, explicit, self.message(cmd.message), self.locale(cmd.locale), None)


class SendStatementEmailHandler(_DocumentSender):
    def __call__(self, cmd: SendStatementEmail, uow: UnitOfWork) -> EmailMessageView:
        actor = _tenant(cmd.actor)
        template_id = _optional_id(cmd.template_id, field="templateId")
        explicit = self.explicit(cmd.to, cmd.cc, cmd.bcc)
        message, locale = self.message(cmd.message), self.locale(cmd.locale)
        statement = client_statement(uow, cmd.client_id, cmd.period_from, cmd.period_to, cmd.currency)
        client = statement.client
        with uow:
            recipients = self.resolve(uow, explicit, (), client.id)
            context = self.base_context(uow, actor, client.name, message, locale)
            context["statement"] = {
                "period_from": day(cmd.period_from), "period_to": day(cmd.period_to),
                "closing_balance": money(statement.statement.closing_balance),
                "currency": str(statement.statement.currency),
            }
            content = self.render(self.template(uow, EmailKind.STATEMENT, locale), context)
        pdf = self._render_pdf(
            RenderStatementPdf(
                actor=actor, client_id=client.id, period_from=cmd.period_from, period_to=cmd.period_to,
                currency=cmd.currency, template_id=template_id,
            ),
            uow,
        )
        with uow:
            return self.queue(
                uow, actor, kind=EmailKind.STATEMENT, recipients=recipients, content=content,
                attachment_file_ids=(pdf.id,), entity=(EntityType.STATEMENT.value, client.id),
            )


class RetryEmailHandler:
    def __init__(self, clock: Clock, policy: EmailPolicy) -> None:
        self._clock = clock
        self._policy = policy

    def __call__(self, cmd: RetryEmail, uow: UnitOfWork) -> EmailMessageView:
        _tenant(cmd.actor)
        message_id = parse_id(cmd.message_id, field="id")
        with uow:
            message = uow.email_messages.get_for_update(message_id)
            if message is None:
                raise NotFound(f"email message {message_id} not found", field="id")
            message.retry(now=self._clock.now())
            uow.jobs.enqueue(
                EMAILS_SEND, {"message_id": message.id}, idempotency_key=message.send_job_key(),
                max_attempts=self._policy.delivery_attempts + 1,
            )
            uow.commit()
            log.info("email.retried", message_id=message.id, retries=message.retries)
            return email_message_view(message)


# --- delivery (the emails.send job) ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Outcome:
    sent: SentEmail | None = None
    deferred: EmailDeferred | None = None
    rejected: EmailRejected | None = None
    unknown: EmailOutcomeUnknown | None = None


class DeliverEmailHandler:
    def __init__(self, senders: EmailSenders, storage: FileStorage, clock: Clock) -> None:
        self._senders = senders
        self._storage = storage
        self._clock = clock

    def __call__(self, cmd: DeliverEmail, uow: UnitOfWork) -> DeliveryStatus | None:
        with uow:
            message = uow.email_messages.get_for_update(cmd.message_id)
            if message is None:
                log.warning("email.deliver_missing", message_id=cmd.message_id)
                return None
            tenant_id = message.tenant_id
            if cmd.spare and DeliveryStatus(message.status) is not DeliveryStatus.SENDING:
                return DeliveryStatus(message.status)  # the spare run sends nothing
            begin = message.begin_attempt(now=self._clock.now())
            if begin is Begin.SKIP:
                return DeliveryStatus(message.status)
            file_ids = tuple(message.attachment_file_ids)
            files = {f.id: f for f in uow.file_views.get_many(list(file_ids))}
            email = self._outgoing(message)
            uow.commit()  # SENDING ("maybe sent") is durable before the provider is called
        if begin is Begin.UNCERTAIN:
            log.warning("email.uncertain", message_id=cmd.message_id)
            return DeliveryStatus.UNCERTAIN
        outcome = self._send(tenant_id, email, file_ids, files)
        with uow:
            message = uow.email_messages.get_for_update(cmd.message_id)
            if message is None:
                return None
            now = self._clock.now()
            if outcome.sent is not None:
                message.record_sent(
                    provider=outcome.sent.provider, provider_message_id=outcome.sent.provider_message_id,
                    response=outcome.sent.response, now=now,
                )
            elif outcome.rejected is not None:
                message.record_rejected(provider=None, reason=outcome.rejected.reason, now=now)
            elif outcome.unknown is not None:
                message.record_unknown(provider=None, reason=outcome.unknown.reason, now=now)
            else:
                assert outcome.deferred is not None
                message.record_deferred(
                    provider=None, reason=outcome.deferred.reason, now=now, last=cmd.last_attempt
                )
            status = DeliveryStatus(message.status)
            uow.commit()
        log.info("email.attempt", message_id=cmd.message_id, status=str(status))
        if outcome.rejected is not None:
            raise PermanentJobError(outcome.rejected.reason)
        if outcome.deferred is not None:
            if cmd.last_attempt:  # DEAD: the job ends too (its spare run is for crashes only)
                raise PermanentJobError(f"delivery attempts spent: {outcome.deferred.reason}")
            raise TransientJobError(outcome.deferred.reason, retry_after=outcome.deferred.retry_after)
        return status

    @staticmethod
    def _outgoing(message: EmailMessage) -> OutgoingEmail:
        return OutgoingEmail(
            tenant_id=message.tenant_id,
            message_id=message.internet_message_id,
            idempotency_key=message.idempotency_key,
            from_address=message.from_address,
            reply_to=tuple(message.reply_to),
            to=tuple(message.to),
            cc=tuple(message.cc),
            bcc=tuple(message.bcc),
            subject=message.subject,
            html=message.html,
            text=message.text,
            attachments=(),
        )

    def _send(
        self, tenant_id: str, email: OutgoingEmail, file_ids: Sequence[str], files: Mapping[str, FileView]
    ) -> _Outcome:
        try:
            attachments = []
            for file_id in file_ids:
                file = files.get(file_id)
                if file is None:
                    return _Outcome(rejected=EmailRejected(f"attachment {file_id} was deleted before it was sent"))
                data = b"".join(self._storage.read(blob_key(tenant_id, file.sha256)))
                attachments.append(EmailAttachment(name=file.name, mime=file.mime, data=data))
            ready = replace(email, attachments=tuple(attachments))
            return _Outcome(sent=self._senders.for_tenant(tenant_id).send(ready))
        except EmailRejected as error:
            return _Outcome(rejected=error)
        except EmailDeferred as error:
            return _Outcome(deferred=error)
        except EmailOutcomeUnknown as error:
            return _Outcome(unknown=error)
        except Exception as error:  # anything else is transient; the adapters keep secrets out
            log.exception("email.send_error", error_type=type(error).__name__)
            return _Outcome(deferred=EmailDeferred(f"{type(error).__name__}: {error}"))


# --- the log -----------------------------------------------------------------------------------


class GetEmailMessageHandler:
    def __call__(self, query: GetEmailMessage, uow: UnitOfWork) -> EmailMessageView:
        message_id = parse_id(query.message_id, field="id")
        with uow:
            view = uow.email_message_views.get(message_id)
        if view is None:
            raise NotFound(f"email message {message_id} not found", field="id")
        return view


class FindEmailMessagesHandler:
    def __init__(self, policy: EmailPolicy) -> None:
        self._policy = policy

    def __call__(self, query: FindEmailMessages, uow: UnitOfWork) -> Page[EmailMessageView]:
        first = page_size(query.first, default=self._policy.default_page_size, maximum=self._policy.max_page_size)
        statuses = []
        for index, status in enumerate(query.statuses):
            try:
                statuses.append(DeliveryStatus(status))
            except ValueError:
                raise InvalidInput(
                    f"status must be one of {', '.join(DeliveryStatus)}, not {str(status)[:32]!r}",
                    field=f"filter.status[{index}]",
                ) from None
        filter = EmailMessageFilter(
            statuses=tuple(statuses),
            kind=None if query.kind is None else EmailKind.parse(query.kind, field="filter.kind"),
            direction=None if query.direction is None else _direction(query.direction),
            entity_type=None if query.entity_type is None else EntityType.parse(query.entity_type).value,
            entity_id=parse_text(query.entity_id, field="filter.entityId", max_length=128),
        )
        after = None if query.after is None else EmailMessageCursor.decode(query.after)
        with uow:
            rows = uow.email_message_views.find(filter, first=first + 1, after=after)
        return Page.of(rows, first, lambda view: EmailMessageCursor.of(view).encode())


def _direction(value: str) -> Direction:
    try:
        return Direction(value)
    except ValueError:
        raise InvalidInput(
            f"direction must be one of {', '.join(Direction)}, not {str(value)[:32]!r}", field="filter.direction"
        ) from None


# --- templates -------------------------------------------------------------------------------


class SetEmailTemplateHandler:
    def __init__(self, renderer: EmailTemplateRenderer, clock: Clock) -> None:
        self._renderer = renderer
        self._clock = clock

    def __call__(self, cmd: SetEmailTemplate, uow: UnitOfWork) -> EmailTemplateView:
        actor = _tenant(cmd.actor)
        kind, locale = EmailKind.parse(cmd.kind), EmailLocale.parse(cmd.locale)
        subject = parse_subject(cmd.subject)
        html, text = parse_body(cmd.html, field="html"), parse_body(cmd.text, field="text")
        if html is None and text is None:
            raise InvalidInput("a body is required: html, text or both", field="text")
        sample = sample_context(kind, locale)
        for field, source, is_html in (("subject", subject, False), ("html", html, True), ("text", text, False)):
            if source is not None:
                self._renderer.check(source, field=field)
                self._renderer.render(source, sample, field=field, html=is_html)
        now = self._clock.now()
        with uow:
            template = uow.email_templates.get(kind, locale)
            if template is None:
                template = EmailTemplate(
                    tenant_id=actor.tenant_id, kind=kind, locale=locale, subject=subject, html=html, text=text,
                    updated_at=now,
                )
                uow.email_templates.add(template)
            else:
                template.change(subject=subject, html=html, text=text, now=now)
            uow.commit()
            return _template_view(kind, locale, template)


class DeleteEmailTemplateHandler:
    def __call__(self, cmd: DeleteEmailTemplate, uow: UnitOfWork) -> EmailTemplateView:
        _tenant(cmd.actor)
        kind, locale = EmailKind.parse(cmd.kind), EmailLocale.parse(cmd.locale)
        with uow:
            template = uow.email_templates.get(kind, locale)
            if template is not None:
                uow.email_templates.delete(template)
                uow.commit()
        return _template_view(kind, locale, None)


class FindEmailTemplatesHandler:
    def __call__(self, query: FindEmailTemplates, uow: UnitOfWork) -> list[EmailTemplateView]:
        kinds = [EmailKind.parse(kind, field=f"kinds[{i}]") for i, kind in enumerate(query.kinds)] or list(EmailKind)
        with uow:
            custom = {(EmailKind(t.kind), EmailLocale(t.locale)): t for t in uow.email_templates.all()}
            return [_template_view(kind, locale, custom.get((kind, locale))) for kind in kinds for locale in EmailLocale]


# --- a tenant's own sending settings ---------------------------------------------------------


def _settings_view(settings: EmailSettings | None) -> EmailSettingsView:
    if settings is None:
        return EmailSettingsView(smtp=None, from_address=None, updated_at=None)
    return EmailSettingsView(smtp=settings.smtp_summary, from_address=settings.from_address, updated_at=settings.updated_at)


class SetEmailSettingsHandler:
    def __init__(self, secrets: SecretBox, smtp: SmtpUrlChecker, addresses: AddressValidator, clock: Clock) -> None:
        self._secrets = secrets
        self._smtp = smtp
        self._addresses = addresses
        self._clock = clock

    def __call__(self, cmd: SetEmailSettings, uow: UnitOfWork) -> EmailSettingsView:
        actor = _tenant(cmd.actor)
        if not actor.is_admin:
            raise PermissionDenied("only owners and admins change the email settings")
        sealed = summary = None
        if cmd.smtp_url not in (None, ""):
            summary = self._smtp.summary(str(cmd.smtp_url), field="smtpUrl")
            sealed = self._secrets.seal(str(cmd.smtp_url), context=smtp_secret_context(actor.tenant_id))
        from_address = (
            None if cmd.from_address in (None, "") else self._addresses.normalize(cmd.from_address, field="fromAddress")
        )
        now = self._clock.now()
        with uow:
            settings = uow.email_settings.get()
            if settings is None:
                settings = EmailSettings(
                    tenant_id=actor.tenant_id, smtp_url_sealed=sealed, smtp_summary=summary,
                    from_address=from_address, updated_at=now,
                )
                uow.email_settings.add(settings)
            else:
                settings.change(smtp_url_sealed=sealed, smtp_summary=summary, from_address=from_address, now=now)
            uow.commit()
            log.info("email.settings_changed", smtp=summary is not None, from_address=from_address is not None)
            return _settings_view(settings)


class GetEmailSettingsHandler:
    def __call__(self, query: GetEmailSettings, uow: UnitOfWork) -> EmailSettingsView:
        with uow:
            return _settings_view(uow.email_settings.get())
