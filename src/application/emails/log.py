"""The e-mail log: the tenant's messages by status, kind, direction or document."""

from __future__ import annotations

from application.emails.commands import EmailPolicy, FindEmailMessages
from application.emails.ports import EmailsUnitOfWork
from application.emails.views import EmailMessageCursor, EmailMessageFilter, EmailMessageView
from application.shared.messages import Page, page_size
from domain.emails.model import Direction, EmailKind
from domain.files.model import EntityType
from domain.invoicing.values import parse_text
from domain.shared.delivery import DeliveryStatus
from domain.shared.errors import InvalidInput


class FindEmailMessagesHandler:
    def __init__(self, policy: EmailPolicy) -> None:
        self._policy = policy

    def __call__(self, query: FindEmailMessages, uow: EmailsUnitOfWork) -> Page[EmailMessageView]:
        first = page_size(query.first, default=self._policy.default_page_size, maximum=self._policy.max_page_size)
        statuses = []
        for index, status in enumerate(query.statuses):
            try:
                statuses.append(DeliveryStatus(status))
            except ValueError:
                raise InvalidInput(
                    f"status must be one of {', '.join(DeliveryStatus)}, not {str(status)[:32]!r}",
                    field=f"filter.status[{index}]",
                ) from None
        filter = EmailMessageFilter(
            statuses=tuple(statuses),
            kind=None if query.kind is None else EmailKind.parse(query.kind, field="filter.kind"),
            direction=None if query.direction is None else _direction(query.direction),
            entity_type=None if query.entity_type is None else EntityType.parse(query.entity_type).value,
            entity_id=parse_text(query.entity_id, field="filter.entityId", max_length=128),
        )
        after = None if query.after is None else EmailMessageCursor.decode(query.after)
        with uow:
            rows = uow.email_message_views.find(filter, first=first + 1, after=after)
        return Page.of(rows, first, lambda view: EmailMessageCursor.of(view).encode())


def _direction(value: str) -> Direction:
    try:
        return Direction(value)
    except ValueError:
        raise InvalidInput(
            f"direction must be one of {', '.join(Direction)}, not {str(value)[:32]!r}", field="filter.direction"
        ) from None
