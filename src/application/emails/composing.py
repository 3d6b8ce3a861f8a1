"""The e-mail composer and recipient rules: addresses, templates, attachments, and queueing.

Queueing is one transaction: the message row, the links of its attachments (so a temporary upload
attached to a message is kept) and the ``emails.send`` job commit together, after every check
passed (addresses, recipients, files of this tenant, template rendering): a refused send writes
nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from application.deliveries import flows
from application.emails.commands import EmailPolicy
from application.emails.delivery import EmailChannel
from application.emails.ports import AddressValidator, EmailsUnitOfWork, EmailTemplateRenderer
from application.emails.templates import BUILT_IN, TemplateSource
from application.emails.views import EmailMessageView, email_message_view
from application.shared.ports import Clock
from domain.emails.model import (
    EmailContent,
    EmailKind,
    EmailLocale,
    EmailMessage,
    RecipientKind,
    Recipients,
)
from domain.files.model import EntityType
from domain.shared.delivery import NoRecipients
from domain.invoicing.values import parse_text
from domain.shared.errors import InvalidInput, NotFound
from domain.shared.model import parse_id
from domain.tenancy.model import Actor

log = structlog.get_logger(__name__)

MAX_MESSAGE_LENGTH = 5000


@dataclass(frozen=True, slots=True, kw_only=True)
class Explicit:
    """The recipients a send names (checked addresses); none: the document's or the client's."""

    to: Sequence[str] = ()
    cc: Sequence[str] = ()
    bcc: Sequence[str] = ()

    @property
    def given(self) -> bool:
        return bool(self.to or self.cc or self.bcc)


class EmailComposer:
    """What every e-mail send shares: addresses, recipients, templates, attachments, queueing."""

    def __init__(
        self,
        addresses: AddressValidator,
        renderer: EmailTemplateRenderer,
        clock: Clock,
        policy: EmailPolicy,
        channel: EmailChannel,
    ) -> None:
        self._addresses = addresses
        self._renderer = renderer
        self._clock = clock
        self._policy = policy
        self._channel = channel

    @property
    def clock(self) -> Clock:
        return self._clock

    # inputs

    def address(self, value: object, field: str) -> str:
        return self._addresses.normalize(value, field=field)

    def addresses(self, values: Sequence[str], field: str) -> tuple[str, ...]:
        return tuple(self.address(value, f"{field}[{index}]") for index, value in enumerate(values))

    def explicit(self, to: Sequence[str], cc: Sequence[str], bcc: Sequence[str]) -> Explicit:
        return Explicit(to=self.addresses(to, "to"), cc=self.addresses(cc, "cc"), bcc=self.addresses(bcc, "bcc"))

    def locale(self, value: str | None) -> EmailLocale:
        return EmailLocale.parse(value or self._policy.default_locale)

    @staticmethod
    def message(value: str | None) -> str | None:
        return parse_text(value, field="message", max_length=MAX_MESSAGE_LENGTH, multiline=True)

    # recipient rules

    @staticmethod
    def resolve(uow: EmailsUnitOfWork, explicit: Explicit, ad_hoc: Sequence[str], client_id: str | None) -> Recipients:
        """Explicit recipients, else the document's ad-hoc emails, else the client's defaults, else
        its contacts' e-mails (issue 18: a client registered with contacts needs nothing more)."""
        if explicit.given:
            return Recipients.of(explicit.to, explicit.cc, explicit.bcc)
        if ad_hoc:
            return Recipients.of(tuple(ad_hoc))
        defaults = uow.client_emails.of_client(client_id) if client_id else []
        if not defaults:
            client = uow.client_views.get(client_id) if client_id else None
            contacts = tuple(dict.fromkeys(c.email for c in client.contacts if c.email)) if client else ()
            if contacts:
                return Recipients.of(contacts)
            raise NoRecipients(
                "no recipients: give to, or add emails to the client (createClientEmail) or to its contacts",
                field="to",
            )
        by_kind = {kind: [e.email for e in defaults if e.kind == kind] for kind in RecipientKind}
        return Recipients.of(by_kind[RecipientKind.TO], by_kind[RecipientKind.CC], by_kind[RecipientKind.BCC])

    # templates

    @staticmethod
    def template(uow: EmailsUnitOfWork, kind: EmailKind, locale: EmailLocale) -> TemplateSource:
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
    def context(
        uow: EmailsUnitOfWork, actor: Actor, client_name: str | None, message: str | None, locale: EmailLocale
    ) -> dict[str, Any]:
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

    def _attachments(self, uow: EmailsUnitOfWork, file_ids: Sequence[str]) -> list[str]:
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
        uow: EmailsUnitOfWork,
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
            entity=entity,
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
        flows.queue(uow, self._channel, [message])
        uow.commit()
        log.info("email.queued", message_id=message.id, kind=str(kind), recipients=recipients.count)
        return email_message_view(message)
