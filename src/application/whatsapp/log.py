"""The WhatsApp log: the tenant's messages by status, direction, client or document."""

from __future__ import annotations

from application.shared.actors import tenant_actor
from application.shared.messages import Page, page_size
from application.whatsapp.commands import FindWhatsappMessages, WhatsappPolicy
from application.whatsapp.ports import WhatsappUnitOfWork
from application.whatsapp.views import WhatsappMessageCursor, WhatsappMessageView


class FindWhatsappMessagesHandler:
    def __init__(self, policy: WhatsappPolicy) -> None:
        self._policy = policy

    def __call__(self, query: FindWhatsappMessages, uow: WhatsappUnitOfWork) -> Page[WhatsappMessageView]:
        tenant_actor(query.actor)
        first = page_size(query.first, default=self._policy.page_size, maximum=self._policy.max_page_size)
        after = WhatsappMessageCursor.decode(query.after, field="after") if query.after else None
        with uow:
            rows = uow.whatsapp_views.messages(query.filter, first=first + 1, after=after)
        return Page.of(rows, first, lambda item: WhatsappMessageCursor.of(item).encode())
