"""WhatsApp as a delivery channel: what the shared flows (``application.deliveries.flows``) need to
deliver one outbound message through the Graph API.

Just before the send (the clock moved since the message was queued) the connection must be usable,
its token must open, the 24-hour window must still be open for free-form content, and a document's
file must still be there; otherwise the message fails without any call. A token the Graph API
refuses (error 190) marks the connection NEEDS_REAUTH.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from application.deliveries.ports import DeliveryRefused, DeliveryRejected, Receipt, StaleDelivery
from application.files.keeping import blob_key
from application.files.ports import FileStorage
from application.files.views import FileView
from application.shared.secrets import SecretBox, SecretUnreadable
from application.whatsapp.commands import WhatsappPolicy
from application.whatsapp.connection import connected
from application.whatsapp.ports import (
    GraphCredentials,
    GraphDelivery,
    OutgoingWhatsapp,
    WhatsAppSender,
    WhatsappUnitOfWork,
)
from application.whatsapp.views import WhatsappMessageView, message_view
from domain.whatsapp.connection import ConnectionStatus, secret_context
from domain.whatsapp.content import window_open
from domain.whatsapp.errors import MessageNotFound
from domain.whatsapp.graph import TOKEN_INVALID, WINDOW_CLOSED_CODE
from domain.whatsapp.messages import WhatsappDelivery

SEND_JOB = "whatsapp.send"


@dataclass(frozen=True, slots=True)
class PreparedWhatsapp:
    tenant_id: str
    credentials: GraphCredentials
    message: OutgoingWhatsapp
    file: FileView | None


class WhatsappChannel:
    """The WhatsApp channel's rules (``ChannelRules``): its log, its job, its pre-send checks."""

    name = "whatsapp"
    job = SEND_JOB

    def __init__(self, policy: WhatsappPolicy, sender: WhatsAppSender, secrets: SecretBox, storage: FileStorage) -> None:
        self.attempts = policy.delivery_attempts
        self._sender = sender
        self._secrets = secrets
        self._storage = storage

    def add(self, uow: WhatsappUnitOfWork, message: WhatsappDelivery) -> None:
        uow.whatsapp.add_delivery(message)

    def stale(self, uow: Any, cutoff: datetime, limit: int) -> list[StaleDelivery]:
        return uow.stale_whatsapps.sending_since_before(cutoff, limit=limit)

    def locked(self, uow: WhatsappUnitOfWork, message_id: str) -> WhatsappDelivery | None:
        return uow.whatsapp.message_for_update(message_id)

    def not_found(self, message_id: str) -> Exception:
        return MessageNotFound(f"WhatsApp message {message_id} not found", field="id")

    def view(self, message: WhatsappDelivery) -> WhatsappMessageView:
        return message_view(message)

    def read(self, uow: WhatsappUnitOfWork, message_id: str) -> WhatsappMessageView | None:
        return uow.whatsapp_views.message(message_id)

    def may_retry(self, uow: WhatsappUnitOfWork) -> None:
        connected(uow)

    def prepare(self, uow: WhatsappUnitOfWork, message: WhatsappDelivery, now: datetime) -> PreparedWhatsapp:
        content = message.content
        connection = uow.whatsapp.connection()
        if connection is None:
            raise DeliveryRefused("WhatsApp is not connected: connect it, then retry the message")
        if connection.status == ConnectionStatus.NEEDS_REAUTH:
            raise DeliveryRefused(
                "the access token was refused: connect WhatsApp again, then retry the message", code=TOKEN_INVALID
            )
        if content.needs_window:
            last = uow.whatsapp_views.last_inbound_at([message.phone]).get(message.phone)
            if not window_open(last, now):
                raise DeliveryRefused("the 24-hour window is closed: send a template instead", code=WINDOW_CLOSED_CODE)
        try:
            token = self._secrets.open(
                connection.access_token_sealed, context=secret_context(message.tenant_id, connection.id, "access_token")
            )
        except SecretUnreadable:
            connection.needs_reauth("the stored access token cannot be opened", now=now)
            raise DeliveryRefused("the stored access token cannot be opened: connect WhatsApp again") from None
        file = None
        if content.document is not None:
            file = uow.file_views.get(content.document.file_id)
            if file is None:
                raise DeliveryRefused("the document's file was deleted")
        return PreparedWhatsapp(
            tenant_id=message.tenant_id,
            credentials=GraphCredentials(phone_number_id=connection.phone_number_id, access_token=token),
            message=OutgoingWhatsapp(
                to=message.phone, kind=content.kind, text=content.text, template=content.template,
                document=content.document, callback_data=message.id,
            ),
            file=file,
        )

    def deliver(self, prepared: PreparedWhatsapp) -> Receipt:
        file = prepared.file
        document = None if file is None else b"".join(self._storage.read(blob_key(prepared.tenant_id, file.sha256)))
        return self._sender.deliver(
            GraphDelivery(
                credentials=prepared.credentials, message=prepared.message, document=document,
                mime=file.mime if file is not None else "application/pdf",
            )
        )

    def rejected(self, uow: WhatsappUnitOfWork, error: DeliveryRejected, now: datetime) -> None:
        if error.credentials_refused:
            connection = uow.whatsapp.connection()
            if connection is not None:
                connection.needs_reauth(f"{error.code}: {error.reason}", now=now)
