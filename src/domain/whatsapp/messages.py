"""The WhatsApp message log: outbound deliveries and the messages customers write in.

An outbound message (``WhatsappDelivery``) is a ``Delivery`` (``domain.shared.delivery``): QUEUED
in the same transaction as its ``whatsapp.send`` job, SENDING (committed) before the Graph API is
called, then SENT with its wamid, FAILED with the provider's code and title, DEAD once transient
failures spent the attempts, or UNCERTAIN when an attempt may have reached WhatsApp. The status
webhook then moves it on: sent < delivered < read (any may be skipped, arrive late or twice);
``failed`` records the error and is final, unless the message was already delivered.

An inbound message (``InboundWhatsapp``) is kept once per wamid; it opens the 24-hour window. Both
are rows of the one log (told apart by ``direction``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Unpack

from domain.shared.delivery import Delivery, DeliveryState, DeliveryStatus, clip_response, queued
from domain.shared.model import new_id
from domain.whatsapp.connection import check_e164
from domain.whatsapp.content import MAX_TEXT, DocumentContent, MessageContent, MessageKind, TemplateContent

PROVIDER = "whatsapp"


class Direction(StrEnum):
    OUTBOUND = "OUTBOUND"
    INBOUND = "INBOUND"


class MessageStatus(StrEnum):
    """The statuses the log shows: those of a delivery, and RECEIVED (inbound)."""

    QUEUED = DeliveryStatus.QUEUED.value
    SENDING = DeliveryStatus.SENDING.value
    SENT = DeliveryStatus.SENT.value
    FAILED = DeliveryStatus.FAILED.value
    DEAD = DeliveryStatus.DEAD.value
    UNCERTAIN = DeliveryStatus.UNCERTAIN.value
    DELIVERED = DeliveryStatus.DELIVERED.value
    READ = DeliveryStatus.READ.value
    RECEIVED = "RECEIVED"


PROVIDER_STATUSES = {"sent": DeliveryStatus.SENT, "delivered": DeliveryStatus.DELIVERED, "read": DeliveryStatus.READ}
_RANK = {DeliveryStatus.SENT: 1, DeliveryStatus.DELIVERED: 2, DeliveryStatus.READ: 3}
_STEPS = ((DeliveryStatus.SENT, "sent_at"), (DeliveryStatus.DELIVERED, "delivered_at"), (DeliveryStatus.READ, "read_at"))


class WhatsappDelivery(Delivery):
    """One outbound message, delivered by the ``whatsapp.send`` job; the provider's error code is
    kept beside ``last_error`` (its title)."""

    retry_operation = "retryWhatsapp"

    def __init__(
        self,
        *,
        phone: str,
        client_id: str | None,
        kind: MessageKind,
        text: str | None,
        template_name: str | None,
        template_language: str | None,
        template_parameters: list[str],
        file_id: str | None,
        filename: str | None,
        caption: str | None,
        wamid: str | None,
        error_code: int | None,
        delivered_at: datetime | None,
        read_at: datetime | None,
        failed_at: datetime | None,
        **delivery: Unpack[DeliveryState],
    ) -> None:
        super().__init__(**delivery)
        self.direction = Direction.OUTBOUND
        self.phone = phone
        self.client_id = client_id
        self.kind = kind
        self.text = text
        self.template_name = template_name
        self.template_language = template_language
        self.template_parameters = template_parameters
        self.file_id = file_id
        self.filename = filename
        self.caption = caption
        self.wamid = wamid
        self.error_code = error_code
        self.delivered_at = delivered_at
        self.read_at = read_at
        self.failed_at = failed_at

    @classmethod
    def outbound(
        cls,
        *,
        tenant_id: str,
        phone: str,
        client_id: str | None,
        content: MessageContent,
        entity: tuple[str, str] | None = None,
        created_by: str | None,
        now: datetime,
    ) -> WhatsappDelivery:
        template, document = content.template, content.document
        return cls(
            phone=check_e164(phone), client_id=client_id, kind=content.kind, text=content.text,
            template_name=template.name if template else None,
            template_language=template.language if template else None,
            template_parameters=list(template.parameters) if template else [],
            file_id=document.file_id if document else None,
            filename=document.filename if document else None,
            caption=document.caption if document else None,
            wamid=None, error_code=None, delivered_at=None, read_at=None, failed_at=None,
            **queued(tenant_id=tenant_id, entity=entity, created_by=created_by, now=now),
        )

    @property
    def delivery_key(self) -> str:
        return f"whatsapp:{self.id}"

    @property
    def provider_message_id(self) -> str | None:  # what ``Delivery`` calls the wamid
        return self.wamid

    @provider_message_id.setter
    def provider_message_id(self, value: str | None) -> None:
        self.wamid = self.wamid or (value[:128] if value else None)

    @property
    def content(self) -> MessageContent:
        document = (
            DocumentContent(file_id=self.file_id, filename=self.filename or "documento.pdf", caption=self.caption)
            if self.file_id
            else None
        )
        template = (
            TemplateContent(
                name=self.template_name, language=self.template_language or "es",
                parameters=tuple(self.template_parameters or ()),
            )
            if self.template_name
            else None
        )
        return MessageContent(kind=MessageKind(self.kind), text=self.text, template=template, document=document)

    def _noted(self, *, code: int | None, failed: bool, now: datetime) -> None:
        self.error_code = code
        self.failed_at = now if failed else None

    def apply_status(
        self,
        status: str,
        *,
        at: datetime,
        now: datetime,
        wamid: str | None = None,
        error_code: int | None = None,
        error_title: str | None = None,
    ) -> bool:
        """Apply one status of the webhook; True if anything changed. Only forward; failed is final."""
        if self.status == DeliveryStatus.FAILED:
            return False
        changed = False
        if wamid and not self.wamid:
            self.wamid = wamid[:128]
            changed = True
        current = _RANK.get(DeliveryStatus(self.status), 0)
        if status == "failed":
            if current >= _RANK[DeliveryStatus.DELIVERED]:
                return changed
            self.status = DeliveryStatus.FAILED
            self.failed_at = at
            self.error_code = error_code
            self.last_error = clip_response(error_title or "failed")
            self.updated_at = now
            return True
        target = PROVIDER_STATUSES.get(status)
        if target is None:
            return changed
        if _RANK[target] > current:
            self.status = target
            self.error_code = None
            self.last_error = None
            changed = True
        for step, attribute in _STEPS:  # a skipped or late step still tells when it happened, once
            if _RANK[step] <= _RANK[target] and getattr(self, attribute) is None:
                setattr(self, attribute, at)
                changed = True
        if changed:
            self.updated_at = now
        return changed


class InboundWhatsapp:
    """A message a customer wrote to the tenant; text and interactive replies keep their text."""

    def __init__(
        self,
        *,
        id: str,
        tenant_id: str,
        phone: str,
        client_id: str | None,
        wamid: str,
        kind: MessageKind,
        text: str | None,
        provider_at: datetime,
        created_at: datetime,
    ) -> None:
        self.id = id
        self.tenant_id = tenant_id
        self.direction = Direction.INBOUND
        self.status = MessageStatus.RECEIVED
        self.provider = PROVIDER
        self.phone = phone
        self.client_id = client_id
        self.wamid = wamid
        self.kind = kind
        self.text = text
        self.provider_at = provider_at
        self.created_at = created_at
        self.updated_at = created_at

    @classmethod
    def receive(
        cls,
        *,
        tenant_id: str,
        phone: str,
        client_id: str | None,
        wamid: str,
        kind: MessageKind,
        text: str | None,
        provider_at: datetime,
        now: datetime,
    ) -> InboundWhatsapp:
        return cls(
            id=new_id(), tenant_id=tenant_id, phone=phone, client_id=client_id, wamid=wamid[:128], kind=kind,
            text=None if text is None else text[:MAX_TEXT], provider_at=provider_at, created_at=now,
        )
