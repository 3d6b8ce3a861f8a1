"""Templates approved in the tenant's WhatsApp Manager, registered here with their shape."""

from __future__ import annotations

from application.shared.actors import tenant_actor
from application.shared.deleting import delete_named
from application.shared.ports import Clock, DuplicateEntry
from application.whatsapp.commands import DeleteWhatsappTemplate, FindWhatsappTemplates, RegisterWhatsappTemplate
from application.whatsapp.connection import admin
from application.whatsapp.ports import WhatsappUnitOfWork
from application.whatsapp.views import WhatsappTemplateView, template_view
from domain.shared.errors import Conflict
from domain.whatsapp.connection import WhatsappTemplate


class RegisterWhatsappTemplateHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: RegisterWhatsappTemplate, uow: WhatsappUnitOfWork) -> WhatsappTemplateView:
        actor = admin(cmd.actor)
        template = WhatsappTemplate.create(
            tenant_id=actor.tenant_id, name=cmd.name, language=cmd.language,
            body_parameters=cmd.body_parameters, document_header=cmd.document_header, now=self._clock.now(),
        )
        with uow:
            existing = uow.whatsapp.template_named(template.name, template.language)
            if existing is not None:
                existing.body_parameters = template.body_parameters
                existing.document_header = template.document_header
                template = existing
            else:
                uow.whatsapp.add_template(template)
            try:
                uow.commit()
            except DuplicateEntry:
                raise Conflict(f"template {template.name} ({template.language}) was just registered", field="name") from None
            return template_view(template)


class DeleteWhatsappTemplateHandler:
    def __call__(self, cmd: DeleteWhatsappTemplate, uow: WhatsappUnitOfWork) -> bool:
        admin(cmd.actor)
        delete_named(uow, cmd.template_id, what="WhatsApp template",
                     find=lambda u, i: u.whatsapp.template(i), delete=lambda u, t: u.whatsapp.delete_template(t))
        return True


class FindWhatsappTemplatesHandler:
    def __call__(self, query: FindWhatsappTemplates, uow: WhatsappUnitOfWork) -> list[WhatsappTemplateView]:
        tenant_actor(query.actor)
        with uow:
            return uow.whatsapp_views.templates()
