"""Read models of the WhatsApp domain: frozen views, the log's filter and its cursor. No secrets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.deliveries.views import LogCursor, view_of
from domain.shared.delivery import DeliveryAttempt
from domain.whatsapp.connection import ClientWhatsapp, ConnectionStatus, WhatsappConnection, WhatsappTemplate
from domain.whatsapp.content import MessageKind
from domain.whatsapp.messages import Direction, MessageStatus, WhatsappDelivery


@dataclass(frozen=True, slots=True, kw_only=True)
class WhatsappConnectionView:
    id: str
    phone_number_id: str
    waba_id: str
    status: ConnectionStatus
    last_error: str | None
    connected_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientWhatsappView:
    id: str
    client_id: str
    phone: str
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class WhatsappTemplateView:
    id: str
    name: str
    language: str
    body_parameters: int
    document_header: bool
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class WhatsappMessageView:
    id: str
    direction: Direction
    phone: str
    client_id: str | None
    kind: MessageKind
    text: str | None
    template_name: str | None
    template_language: str | None
    template_parameters: tuple[str, ...]
    file_id: str | None
    filename: str | None
    caption: str | None
    entity_type: str | None
    entity_id: str | None
    status: MessageStatus
    wamid: str | None
    error_code: int | None
    error_title: str | None
    attempts: int
    attempt_log: tuple[DeliveryAttempt, ...]
    """Each delivery attempt: when, its outcome, the provider's answer (no secrets)."""
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None
    failed_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class WhatsappMessageFilter:
    statuses: frozenset[MessageStatus] = frozenset()
    direction: Direction | None = None
    client_id: str | None = None
    phone: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WhatsappRoute:
    """Which tenant a webhook or a handshake belongs to, with the sealed secret that checks it."""

    tenant_id: str
    connection_id: str
    sealed: str


class WhatsappMessageCursor(LogCursor):
    """A position in the newest-first whatsapp log."""

    __slots__ = ()
    log = "whatsapp"


def connection_view(connection: WhatsappConnection) -> WhatsappConnectionView:
    return view_of(WhatsappConnectionView, connection, status=ConnectionStatus(connection.status))


def number_view(number: ClientWhatsapp) -> ClientWhatsappView:
    return ClientWhatsappView(id=number.id, client_id=number.client_id, phone=number.phone, created_at=number.created_at)


def template_view(template: WhatsappTemplate) -> WhatsappTemplateView:
    return WhatsappTemplateView(
        id=template.id, name=template.name, language=template.language,
        body_parameters=template.body_parameters, document_header=template.document_header,
        created_at=template.created_at,
    )


def message_view(message: WhatsappDelivery) -> WhatsappMessageView:
    return view_of(
        WhatsappMessageView, message, status=MessageStatus(message.status),
        template_parameters=tuple(message.template_parameters or ()), error_title=message.last_error,
        attempts=len(message.attempts), attempt_log=tuple(message.attempts),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class AppliedWebhook:
    """What one WhatsApp webhook delivery changed."""

    statuses: int = 0
    changed: int = 0
    unknown_statuses: int = 0
    inbound: int = 0
    duplicates: int = 0
    matched: bool = True
