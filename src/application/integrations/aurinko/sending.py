"""Which Aurinko sender a tenant has now: an ACTIVE connection whose token opens.

``AurinkoSenderSource.for_tenant`` is what the emails domain's per-tenant chooser asks first: an
active Aurinko connection wins over SMTP and the local outbox. The sender it builds marks the
connection NEEDS_RECONNECT when Aurinko rejects the token (401) on a send (in a unit of work of
its own, not through the bus: the bus's send handlers use this source).
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

from application.emails.ports import EmailSender
from application.integrations.aurinko.ports import AurinkoUnitOfWork
from application.shared.ports import Clock, UnitOfWorkFactory
from application.shared.secrets import SecretBox, SecretUnreadable

log = structlog.get_logger(__name__)

SenderFactory = Callable[[str, str | None, Callable[[str], None]], EmailSender]
"""(access token, the mailbox address, what to call with Aurinko's code when it rejects the token)
-> a sender."""


class AurinkoSenderSource:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory[AurinkoUnitOfWork],
        secrets: SecretBox,
        clock: Clock,
        make_sender: SenderFactory,
    ) -> None:
        self._uow_factory = uow_factory
        self._secrets = secrets
        self._clock = clock
        self._make_sender = make_sender

    def for_tenant(self, tenant_id: str) -> EmailSender | None:
        with self._uow_factory(tenant_id) as uow:
            connection = uow.aurinko_connections.get()
            if connection is None or not connection.active or not connection.token_sealed:
                return None
            connection_id, sealed, context = connection.id, connection.token_sealed, connection.token_context
            mailbox = connection.email
        try:
            token = self._secrets.open(sealed, context=context)
        except SecretUnreadable:
            log.error("aurinko.token_unreadable", connection_id=connection_id)
            return None
        return self._make_sender(
            token, mailbox, lambda reason: self.mark_needs_reconnect(tenant_id, connection_id, reason)
        )

    def mark_needs_reconnect(self, tenant_id: str, connection_id: str, reason: str) -> bool:
        uow = self._uow_factory(tenant_id)
        with uow:
            connection = uow.aurinko_connections.get()
            if connection is None or connection.id != connection_id:
                return False
            changed = connection.mark_needs_reconnect(reason, now=self._clock.now())
            uow.commit()
        if changed:
            log.warning("aurinko.needs_reconnect", connection_id=connection_id, reason=reason)
        return changed
