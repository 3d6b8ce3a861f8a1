"""In-memory WhatsApp storage with the semantics of ``adapters.db.whatsapp``: the tenant's connection,
clients' numbers, templates and messages, copied into each unit of work and written back on commit
(refusing what the unique constraints refuse); the directory sees every tenant. Also the fakes of
the WhatsApp ports: the Graph API (scripted answers), phone numbers, and a SecretBox."""

from __future__ import annotations

import base64
import copy
import inspect
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any

from adapters.db.registry import Binding
from adapters.whatsapp.graph import GraphApiError, GraphUnreachable, GraphWhatsAppSender, SentWhatsapp
from application.shared.ports import DuplicateEntry
from application.shared.secrets import SecretUnreadable
from application.whatsapp.ports import GraphCredentials, OutgoingWhatsapp
from application.whatsapp.views import (
    ClientWhatsappView,
    WhatsappConnectionView,
    WhatsappMessageCursor,
    WhatsappMessageFilter,
    WhatsappMessageView,
    WhatsappRoute,
    WhatsappTemplateView,
    connection_view,
    message_view,
    number_view,
    template_view,
)
from domain.invoicing.errors import InvalidPhone
from domain.shared.delivery import Delivery, DeliveryState
from domain.whatsapp.connection import ClientWhatsapp, WhatsappConnection, WhatsappTemplate
from domain.whatsapp.content import MessageKind
from domain.whatsapp.messages import Direction, InboundWhatsapp, MessageStatus, WhatsappDelivery
from domain.shared.model import Aggregate
from tests.fakes.state import FakeDomain, FakeRepository, States

LogEntry = WhatsappDelivery | InboundWhatsapp

if TYPE_CHECKING:
    from tests.fakes.uow import FakeUnitOfWork


def _copy(item: Any) -> Any:
    """A new object of the same class, built through ``__init__`` (mapped classes stay unmapped copies)."""
    return type(item)(**{name: copy.copy(getattr(item, name)) for name in _init_names(type(item))})


def _init_names(cls: type) -> list[str]:
    """The keyword arguments of ``cls.__init__``, with a delivery's state (passed on to ``Delivery``)."""
    names = [n for n, p in inspect.signature(cls.__init__).parameters.items() if p.kind is p.KEYWORD_ONLY]
    return names + list(DeliveryState.__annotations__) if issubclass(cls, Delivery) else names


@dataclass
class WhatsappData:
    """What the database holds (one of these in the store, a copy in each unit of work)."""

    connections: dict[str, WhatsappConnection] = field(default_factory=dict)
    numbers: dict[str, ClientWhatsapp] = field(default_factory=dict)
    templates: dict[str, WhatsappTemplate] = field(default_factory=dict)
    messages: dict[str, LogEntry] = field(default_factory=dict)

    def copy(self) -> WhatsappData:
        return WhatsappData(**{name: {k: _copy(v) for k, v in getattr(self, name).items()} for name in
                               ("connections", "numbers", "templates", "messages")})

    def check_unique(self) -> None:
        def unique(constraint: str, keys: list[Any]) -> None:
            keys = [k for k in keys if None not in (k if isinstance(k, tuple) else (k,))]
            if len(keys) != len(set(keys)):
                raise DuplicateEntry(f"UNIQUE constraint failed: {constraint}")

        connections = list(self.connections.values())
        unique("whatsapp_connections.tenant_id", [c.tenant_id for c in connections])
        unique("whatsapp_connections.phone_number_id", [c.phone_number_id for c in connections])
        unique("whatsapp_connections.verify_token_digest", [c.verify_token_digest for c in connections])
        unique("client_whatsapps.client_id, phone", [(n.client_id, n.phone) for n in self.numbers.values()])
        unique("whatsapp_templates", [(t.tenant_id, t.name, t.language) for t in self.templates.values()])
        unique("whatsapp_messages.tenant_id, wamid", [(m.tenant_id, m.wamid) for m in self.messages.values()])


class _Scoped:
    def __init__(self, uow: FakeUnitOfWork, tenant_id: str | None) -> None:
        self._uow = uow
        self._tenant_id = tenant_id

    @property
    def _data(self) -> WhatsappData:
        return self._uow.workspace().whatsapp

    def _mine(self, items: dict[str, Any]) -> list[Any]:
        return [item for item in items.values() if item.tenant_id == self._tenant_id]

    def _own(self, item: Any) -> Any:
        if item.tenant_id != self._tenant_id:
            raise PermissionError("a WhatsApp record of another tenant cannot be written here")
        return item


class FakeWhatsappRepository(_Scoped):
    def connection(self) -> WhatsappConnection | None:
        return next(iter(self._mine(self._data.connections)), None)

    def add_connection(self, connection: WhatsappConnection) -> None:
        self._data.connections[connection.id] = self._own(connection)

    def delete_connection(self, connection: WhatsappConnection) -> None:
        self._data.connections.pop(self._own(connection).id, None)

    def number(self, number_id: str) -> ClientWhatsapp | None:
        found = self._data.numbers.get(number_id)
        return found if found is not None and found.tenant_id == self._tenant_id else None

    def number_exists(self, client_id: str, phone: str) -> bool:
        return any(n.client_id == client_id and n.phone == phone for n in self._mine(self._data.numbers))

    def add_number(self, number: ClientWhatsapp) -> None:
        self._data.numbers[number.id] = self._own(number)

    def delete_number(self, number: ClientWhatsapp) -> None:
        self._data.numbers.pop(self._own(number).id, None)

    def template(self, template_id: str) -> WhatsappTemplate | None:
        found = self._data.templates.get(template_id)
        return found if found is not None and found.tenant_id == self._tenant_id else None

    def template_named(self, name: str, language: str) -> WhatsappTemplate | None:
        return next((t for t in self._mine(self._data.templates) if (t.name, t.language) == (name, language)), None)

    def add_template(self, template: WhatsappTemplate) -> None:
        self._data.templates[template.id] = self._own(template)

    def delete_template(self, template: WhatsappTemplate) -> None:
        self._data.templates.pop(self._own(template).id, None)

    def add_delivery(self, message: WhatsappDelivery) -> None:
        self._data.messages[message.id] = self._own(message)

    def add_inbound(self, message: InboundWhatsapp) -> None:
        self._data.messages[message.id] = self._own(message)

    def message_for_update(self, message_id: str) -> WhatsappDelivery | None:
        found = self._data.messages.get(message_id)
        mine = isinstance(found, WhatsappDelivery) and found.tenant_id == self._tenant_id
        return found if mine else None  # type: ignore[return-value]

    def outbound_by_wamid(self, wamids: Sequence[str]) -> dict[str, WhatsappDelivery]:
        wanted = set(wamids)
        return {m.wamid: m for m in self._mine(self._data.messages)
                if isinstance(m, WhatsappDelivery) and m.wamid in wanted}

    def inbound_exists(self, wamid: str) -> bool:
        return any(m.wamid == wamid for m in self._mine(self._data.messages))


class FakeWhatsappReader(_Scoped):
    def connection(self) -> WhatsappConnectionView | None:
        found = self._mine(self._data.connections)
        return connection_view(found[0]) if found else None

    def numbers_of(self, client_ids: Sequence[str]) -> dict[str, list[ClientWhatsappView]]:
        found: dict[str, list[ClientWhatsappView]] = defaultdict(list)
        for number in sorted(self._mine(self._data.numbers), key=lambda n: (n.created_at, n.id)):
            if number.client_id in client_ids:
                found[number.client_id].append(number_view(number))
        return dict(found)

    def clients_by_phone(self, phones: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for number in sorted(self._mine(self._data.numbers), key=lambda n: (n.created_at, n.id)):
            if number.phone in phones:
                found.setdefault(number.phone, number.client_id)
        return found

    def templates(self) -> list[WhatsappTemplateView]:
        return [template_view(t) for t in sorted(self._mine(self._data.templates), key=lambda t: (t.name, t.language))]

    def message(self, message_id: str) -> WhatsappMessageView | None:
        found = self._data.messages.get(message_id)
        return _view(found) if found is not None and found.tenant_id == self._tenant_id else None

    def messages(
        self, filter: WhatsappMessageFilter, *, first: int, after: WhatsappMessageCursor | None
    ) -> list[WhatsappMessageView]:
        def keep(m: LogEntry) -> bool:
            return (
                (not filter.statuses or m.status in filter.statuses)
                and (filter.direction is None or m.direction == filter.direction)
                and (filter.client_id is None or m.client_id == filter.client_id)
                and (filter.phone is None or m.phone == filter.phone)
                and (filter.entity_type is None or getattr(m, "entity_type", None) == filter.entity_type)
                and (filter.entity_id is None or getattr(m, "entity_id", None) == filter.entity_id)
                and (after is None or (m.created_at, m.id) < (after.created_at, after.message_id))
            )

        found = sorted((m for m in self._mine(self._data.messages) if keep(m)), key=lambda m: (m.created_at, m.id), reverse=True)
        return [_view(m) for m in found[:first]]

    def last_inbound_at(self, phones: Sequence[str]) -> dict[str, datetime]:
        found: dict[str, datetime] = {}
        for m in self._mine(self._data.messages):
            if isinstance(m, InboundWhatsapp) and m.phone in phones:
                found[m.phone] = max(found.get(m.phone, m.provider_at), m.provider_at)
        return found


def _view(message: LogEntry) -> WhatsappMessageView:
    return message_view(message) if isinstance(message, WhatsappDelivery) else _inbound_view(message)


def _inbound_view(message: InboundWhatsapp) -> WhatsappMessageView:
    return WhatsappMessageView(
        id=message.id, direction=Direction.INBOUND, phone=message.phone, client_id=message.client_id,
        kind=MessageKind(message.kind), text=message.text, template_name=None, template_language=None,
        template_parameters=(), file_id=None, filename=None, caption=None, entity_type=None, entity_id=None,
        status=MessageStatus.RECEIVED, wamid=message.wamid, error_code=None, error_title=None, attempts=0,
        attempt_log=(), created_by=None, created_at=message.created_at, updated_at=message.updated_at,
        sent_at=None, delivered_at=None, read_at=None, failed_at=None,
    )


class FakeWhatsappDirectory:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    def _all(self) -> list[WhatsappConnection]:
        return list(self._uow.workspace().whatsapp.connections.values())

    def by_phone_number_id(self, phone_number_id: str) -> WhatsappRoute | None:
        c = next((c for c in self._all() if c.phone_number_id == phone_number_id), None)
        return None if c is None else WhatsappRoute(tenant_id=c.tenant_id, connection_id=c.id, sealed=c.app_secret_sealed)

    def by_verify_token_digest(self, digest: str) -> WhatsappRoute | None:
        c = next((c for c in self._all() if c.verify_token_digest == digest), None)
        return None if c is None else WhatsappRoute(tenant_id=c.tenant_id, connection_id=c.id, sealed=c.verify_token_sealed)


# --- the ports -------------------------------------------------------------------------------------


class FakeSecretBox:
    """Reversible, context-bound, and never the plaintext in clear (base64 of JSON)."""

    def seal(self, plaintext: str, *, context: str) -> str:
        return "fake:" + base64.b64encode(json.dumps([context, plaintext]).encode()).decode()

    def open(self, sealed: str, *, context: str) -> str:
        try:
            bound, plaintext = json.loads(base64.b64decode(sealed.removeprefix("fake:")))
        except (ValueError, TypeError):
            raise SecretUnreadable("not sealed here") from None
        if bound != context:
            raise SecretUnreadable("wrong context")
        return str(plaintext)

    def reseal(self, sealed: str, *, context: str) -> str:
        return self.seal(self.open(sealed, context=context), context=context)


class FakePhoneNumbers:
    """``+`` and 8 to 15 digits stay; 8 digits alone are a Panama number; 7 digits (alone or after
    +507) are a Panama landline, refused as the adapter refuses one; anything else is invalid."""

    def normalize(self, raw: object, *, field: str) -> str:
        digits = "".join(ch for ch in str(raw) if ch.isdigit())
        text = str(raw).strip()
        if len(digits) == 7 or (text.startswith("+507") and len(digits) == 10):
            raise InvalidPhone(f"{field} is a landline ({text!r}): WhatsApp needs a mobile number", field=field)
        if text.startswith("+") and 8 <= len(digits) <= 15:
            return "+" + digits
        if len(digits) == 8:
            return "+507" + digits
        raise InvalidPhone(f"{field} is not a phone number: {text!r}", field=field)


class FakeWhatsAppSender(GraphWhatsAppSender):
    """The Graph channel with the HTTP calls faked: records what it was asked to send; answers with
    the next scripted error, else a new wamid."""

    def __init__(self) -> None:  # no HTTP session: ``send`` and ``upload_media`` are faked

        self.sent: list[tuple[GraphCredentials, OutgoingWhatsapp]] = []
        self.uploads: list[tuple[str, int]] = []
        self.script: list[Exception] = []

    def send(self, credentials: GraphCredentials, message: OutgoingWhatsapp) -> SentWhatsapp:
        self.sent.append((credentials, message))
        if self.script:
            raise self.script.pop(0)
        return SentWhatsapp(wamid=f"wamid.FAKE{len(self.sent)}", wa_id=message.to.lstrip("+"))

    def upload_media(self, credentials: GraphCredentials, *, data: bytes, filename: str, mime: str) -> str:
        self.uploads.append((filename, len(data)))
        return f"media-{len(self.uploads)}"


__all__ = [
    "FakePhoneNumbers", "FakeSecretBox", "FakeWhatsAppSender", "FakeWhatsappDirectory", "FakeWhatsappReader",
    "FakeWhatsappRepository", "GraphApiError", "GraphUnreachable", "WhatsappData",
]


class WhatsappDomainState(WhatsappData):
    """``WhatsappData`` following the fake domain state protocol: written back whole on commit."""

    def checkout(self) -> WhatsappDomainState:
        copy = self.copy()
        return WhatsappDomainState(**{f.name: getattr(copy, f.name) for f in fields(copy)})

    def check(self, work: WhatsappDomainState, store: States, workspace: States) -> None:
        work.check_unique()

    def apply(self, work: WhatsappDomainState) -> None:
        copy = work.copy()
        for f in fields(copy):
            setattr(self, f.name, getattr(copy, f.name))

    def aggregates(self) -> Iterable[Aggregate]:
        return ()


FAKE_DOMAIN = FakeDomain(
    name="whatsapp",
    state=WhatsappDomainState,
    exposed=False,
    repositories={
        "whatsapp": FakeRepository(lambda uow: FakeWhatsappRepository(uow, uow.tenant)),
        "whatsapp_views": FakeRepository(lambda uow: FakeWhatsappReader(uow, uow.tenant)),
        "whatsapp_directory": FakeRepository(FakeWhatsappDirectory, Binding.ANY),
    },
)
