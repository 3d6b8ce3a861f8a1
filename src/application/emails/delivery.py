"""E-mail as a delivery channel: what the shared flows (``application.deliveries.flows``) need to
deliver one message of the log through the tenant's ``EmailSender``.

The attachments are read from storage after SENDING is committed; one deleted meanwhile rejects
the message (the attempt is recorded).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from application.deliveries.ports import DeliveryRejected, Receipt, StaleDelivery
from application.emails.commands import EmailPolicy
from application.emails.ports import EmailAttachment, EmailSenders, EmailsUnitOfWork, OutgoingEmail
from application.emails.views import EmailMessageView, email_message_view
from application.files.keeping import blob_key
from application.files.ports import FileStorage
from application.files.views import FileView
from domain.emails.model import EmailMessage
from domain.shared.errors import NotFound

EMAILS_SEND = "emails.send"


@dataclass(frozen=True, slots=True)
class PreparedEmail:
    email: OutgoingEmail
    file_ids: tuple[str, ...]
    files: dict[str, FileView]


class EmailChannel:
    """The e-mail channel's rules (``ChannelRules``): its log, its job, its attachments."""

    name = "email"
    job = EMAILS_SEND

    def __init__(self, policy: EmailPolicy, senders: EmailSenders, storage: FileStorage) -> None:
        self.attempts = policy.delivery_attempts
        self._senders = senders
        self._storage = storage

    def add(self, uow: EmailsUnitOfWork, message: EmailMessage) -> None:
        uow.email_messages.add(message)

    def locked(self, uow: EmailsUnitOfWork, message_id: str) -> EmailMessage | None:
        return uow.email_messages.get_for_update(message_id)

    def stale(self, uow: Any, cutoff: datetime, limit: int) -> list[StaleDelivery]:
        return uow.stale_emails.sending_since_before(cutoff, limit=limit)

    def not_found(self, message_id: str) -> Exception:
        return NotFound(f"email message {message_id} not found", field="id")

    def view(self, message: EmailMessage) -> EmailMessageView:
        return email_message_view(message)

    def read(self, uow: EmailsUnitOfWork, message_id: str) -> EmailMessageView | None:
        return uow.email_message_views.get(message_id)

    def may_retry(self, uow: EmailsUnitOfWork) -> None:
        """Any e-mail may be retried: the tenant's sender is chosen again when it is sent."""

    def prepare(self, uow: EmailsUnitOfWork, message: EmailMessage, now: datetime) -> PreparedEmail:
        file_ids = tuple(message.attachment_file_ids)
        email = OutgoingEmail(
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
        return PreparedEmail(email, file_ids, {f.id: f for f in uow.file_views.get_many(list(file_ids))})

    def deliver(self, prepared: PreparedEmail) -> Receipt:
        email = prepared.email
        attachments = []
        for file_id in prepared.file_ids:
            file = prepared.files.get(file_id)
            if file is None:
                raise DeliveryRejected(f"attachment {file_id} was deleted before it was sent")
            data = b"".join(self._storage.read(blob_key(email.tenant_id, file.sha256)))
            attachments.append(EmailAttachment(name=file.name, mime=file.mime, data=data))
        return self._senders.for_tenant(email.tenant_id).deliver(replace(email, attachments=tuple(attachments)))

    def rejected(self, uow: EmailsUnitOfWork, error: DeliveryRejected, now: datetime) -> None:
        """A mailbox whose token was refused is marked by its sender (Aurinko) already."""

