"""A tenant's own e-mail: its subject and body templates, and its sending settings (SMTP, From)."""

from __future__ import annotations

import structlog

from application.shared.actors import tenant_actor
from application.emails.commands import (
    DeleteEmailTemplate,
    FindEmailTemplates,
    GetEmailSettings,
    SetEmailSettings,
    SetEmailTemplate,
)
from application.emails.ports import AddressValidator, EmailsUnitOfWork, EmailTemplateRenderer, SmtpUrlChecker
from application.emails.templates import sample_context
from application.emails.views import EmailSettingsView, EmailTemplateView, email_settings_view, email_template_view
from application.shared.ports import Clock
from application.shared.secrets import SecretBox
from domain.emails.model import (
    EmailKind,
    EmailLocale,
    EmailSettings,
    EmailTemplate,
    parse_body,
    parse_subject,
    smtp_secret_context,
)
from domain.shared.errors import InvalidInput, PermissionDenied

log = structlog.get_logger(__name__)


class SetEmailTemplateHandler:
    def __init__(self, renderer: EmailTemplateRenderer, clock: Clock) -> None:
        self._renderer = renderer
        self._clock = clock

    def __call__(self, cmd: SetEmailTemplate, uow: EmailsUnitOfWork) -> EmailTemplateView:
        actor = tenant_actor(cmd.actor)
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
            return email_template_view(kind, locale, template)


class DeleteEmailTemplateHandler:
    def __call__(self, cmd: DeleteEmailTemplate, uow: EmailsUnitOfWork) -> EmailTemplateView:
        tenant_actor(cmd.actor)
        kind, locale = EmailKind.parse(cmd.kind), EmailLocale.parse(cmd.locale)
        with uow:
            template = uow.email_templates.get(kind, locale)
            if template is not None:
                uow.email_templates.delete(template)
                uow.commit()
        return email_template_view(kind, locale, None)


class FindEmailTemplatesHandler:
    def __call__(self, query: FindEmailTemplates, uow: EmailsUnitOfWork) -> list[EmailTemplateView]:
        kinds = [EmailKind.parse(kind, field=f"kinds[{i}]") for i, kind in enumerate(query.kinds)] or list(EmailKind)
        with uow:
            custom = {(EmailKind(t.kind), EmailLocale(t.locale)): t for t in uow.email_templates.all()}
            return [email_template_view(kind, locale, custom.get((kind, locale))) for kind in kinds for locale in EmailLocale]


class SetEmailSettingsHandler:
    def __init__(self, secrets: SecretBox, smtp: SmtpUrlChecker, addresses: AddressValidator, clock: Clock) -> None:
        self._secrets = secrets
        self._smtp = smtp
        self._addresses = addresses
        self._clock = clock

    def __call__(self, cmd: SetEmailSettings, uow: EmailsUnitOfWork) -> EmailSettingsView:
        actor = tenant_actor(cmd.actor)
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
            return email_settings_view(settings)


class GetEmailSettingsHandler:
    def __call__(self, query: GetEmailSettings, uow: EmailsUnitOfWork) -> EmailSettingsView:
        with uow:
            return email_settings_view(uow.email_settings.get())
