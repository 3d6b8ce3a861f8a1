"""WhatsApp's recipient rules and the checks a send makes before anything is written: a number
given, else the client's numbers; a registered template's shape; the 24-hour window."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from application.deliveries.recipients import require_client
from application.whatsapp.commands import TemplateInput
from application.whatsapp.ports import PhoneNumbers, WhatsappUnitOfWork
from domain.shared.delivery import NoRecipients
from domain.shared.errors import InvalidInput
from domain.shared.model import parse_id
from domain.whatsapp.content import MessageContent, check_window


@dataclass(frozen=True, slots=True)
class Recipient:
    phone: str
    client_id: str | None


def recipients(
    uow: WhatsappUnitOfWork,
    phones: PhoneNumbers,
    *,
    to: str | None,
    client_id: str | None,
    default_client: str | None = None,
    to_field: str = "to",
) -> list[Recipient]:
    """``to`` (one number, linked to the client that has it; its argument is ``to_field``), else
    the client's numbers."""
    if to not in (None, "") and client_id not in (None, ""):
        raise InvalidInput("give either to (a number) or clientId, not both", field="to")
    if to not in (None, ""):
        phone = phones.normalize(to, field=to_field)
        return [Recipient(phone, uow.whatsapp_views.clients_by_phone([phone]).get(phone))]
    wanted = client_id if client_id not in (None, "") else default_client
    if wanted is None:
        raise NoRecipients("give to (a number) or clientId", field="to")
    parsed = parse_id(wanted, field="clientId")
    require_client(uow, parsed)
    numbers = uow.whatsapp_views.numbers_of([parsed]).get(parsed, [])
    if not numbers:
        raise NoRecipients(
            f"client {parsed} has no WhatsApp number: add one with createClientWhatsapp, or give {to_field}",
            field="clientId",
        )
    return [Recipient(number.phone, parsed) for number in numbers]


def check_template(uow: WhatsappUnitOfWork, content: MessageContent) -> None:
    """A registered template's shape is checked here; an unregistered one is left to the provider."""
    if content.template is None:
        return
    registered = uow.whatsapp.template_named(content.template.name, content.template.language)
    if registered is not None:
        registered.check(content.template.parameters, with_document=content.document is not None)


def check_windows(
    uow: WhatsappUnitOfWork, content: MessageContent, recipients: Sequence[Recipient], now: datetime
) -> None:
    if not content.needs_window:
        return
    last = uow.whatsapp_views.last_inbound_at([r.phone for r in recipients])
    for recipient in recipients:
        check_window(content, last.get(recipient.phone), now, phone=recipient.phone)


def written_content(text: str | None, template: TemplateInput | None) -> MessageContent:
    """A text or a template the caller wrote (exactly one of them)."""
    if (text is None) == (template is None):
        raise InvalidInput("give either text or template", field="text")
    if template is not None:
        return MessageContent.of_template(
            name=template.name, language=template.language or "es", parameters=template.parameters
        )
    return MessageContent.of_text(text)
