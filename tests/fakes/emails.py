"""In-memory fakes of the emails domain: repositories and readers with the semantics of
``adapters.db.emails`` (checked by ``tests/integration/test_email_store_contract.py``), and
scriptable senders.

``EmailState`` is what the database holds of emails; each unit of work works on a copy of it
(``checkout``) that ``FakeUnitOfWork.commit`` checks (``check``) and writes back (``apply``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from application.emails.views import client_email_view, email_message_view
from application.deliveries.ports import DeliveryDeferred, DeliveryRejected, Receipt
from application.emails.ports import EmailSender, OutgoingEmail
from application.emails.views import ClientEmailView, EmailMessageCursor, EmailMessageFilter, EmailMessageView
from application.shared.ports import DuplicateEntry
from tests.fakes.state import FakeDomain, FakeRepository, States
from domain.emails.model import ClientEmail, EmailKind, EmailLocale, EmailMessage, EmailSettings, EmailTemplate

if TYPE_CHECKING:
    from tests.fakes.uow import FakeUnitOfWork

_CLIENT_EMAIL_FIELDS = ("id", "tenant_id", "client_id", "email", "kind", "created_at")
_MESSAGE_FIELDS = (
    "id", "tenant_id", "direction", "kind", "status", "internet_message_id", "idempotency_key", "from_address",
    "reply_to", "to", "cc", "bcc", "subject", "html", "text", "attachment_file_ids", "entity_type", "entity_id",
    "provider", "provider_message_id", "last_error", "attempts", "retries", "created_by", "created_at",
    "updated_at", "sent_at",
)
_TEMPLATE_FIELDS = ("tenant_id", "kind", "locale", "subject", "html", "text", "updated_at")
_SETTINGS_FIELDS = ("tenant_id", "smtp_url_sealed", "smtp_summary", "from_address", "updated_at")


def _values(obj: object, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in names}


def _copy_client_email(email: ClientEmail) -> ClientEmail:
    return ClientEmail(**_values(email, _CLIENT_EMAIL_FIELDS))


def _copy_message(message: EmailMessage) -> EmailMessage:
    return EmailMessage(**_values(message, _MESSAGE_FIELDS))


def _copy_template(template: EmailTemplate) -> EmailTemplate:
    return EmailTemplate(**_values(template, _TEMPLATE_FIELDS))


def _copy_settings(settings: EmailSettings) -> EmailSettings:
    return EmailSettings(**_values(settings, _SETTINGS_FIELDS))


def _template_key(template: EmailTemplate) -> tuple[str, str, str]:
    return (template.tenant_id, str(template.kind), str(template.locale))


@dataclass
class EmailState:
    client_emails: dict[str, ClientEmail] = field(default_factory=dict)
    messages: dict[str, EmailMessage] = field(default_factory=dict)
    templates: dict[tuple[str, str, str], EmailTemplate] = field(default_factory=dict)
    settings: dict[str, EmailSettings] = field(default_factory=dict)

    def checkout(self) -> EmailState:
        return EmailState(
            client_emails={k: _copy_client_email(v) for k, v in self.client_emails.items()},
            messages={k: _copy_message(v) for k, v in self.messages.items()},
            templates={k: _copy_template(v) for k, v in self.templates.items()},
            settings={k: _copy_settings(v) for k, v in self.settings.items()},
        )

    def check(self, clients: dict[str, Any]) -> None:
        """The unique and foreign keys of the tables, on the state this copy would commit."""
        seen: set[tuple[str, str]] = set()
        for email in self.client_emails.values():
            key = (email.client_id, email.email.lower())
            if key in seen:
                raise DuplicateEntry(f"client_emails(client_id, email): {key}")
            seen.add(key)
            if email.client_id not in clients:
                raise LookupError(f"client_emails.client_id: no client {email.client_id} (foreign key)")
        ids = [m.internet_message_id for m in self.messages.values()]
        if len(ids) != len(set(ids)):
            raise DuplicateEntry("email_messages.internet_message_id")

    def apply(self, work: EmailState) -> None:
        self.client_emails = {k: _copy_client_email(v) for k, v in work.client_emails.items()}
        self.messages = {k: _copy_message(v) for k, v in work.messages.items()}
        self.templates = {k: _copy_template(v) for k, v in work.templates.items()}
        self.settings = {k: _copy_settings(v) for k, v in work.settings.items()}

    def aggregates(self) -> list[Any]:
        return [*self.client_emails.values(), *self.messages.values(), *self.templates.values(), *self.settings.values()]

    def messages_of(self, tenant_id: str) -> list[EmailMessage]:
        return [m for m in self.messages.values() if m.tenant_id == tenant_id]


class _Bound:
    def __init__(self, uow: FakeUnitOfWork, tenant_id: str) -> None:
        self._uow = uow
        self._tenant_id = tenant_id

    @property
    def _state(self) -> EmailState:
        return self._uow.workspace().emails

    def _own(self, obj: Any, verb: str) -> None:
        if obj.tenant_id != self._tenant_id:
            raise PermissionError(f"an email record of another tenant cannot be {verb} here")


class FakeClientEmailRepository(_Bound):
    def add(self, email: ClientEmail) -> None:
        self._own(email, "added")
        self._state.client_emails[email.id] = email

    def get(self, client_email_id: str) -> ClientEmail | None:
        found = self._state.client_emails.get(client_email_id)
        return found if found is not None and found.tenant_id == self._tenant_id else None

    def delete(self, email: ClientEmail) -> None:
        self._own(email, "deleted")
        self._state.client_emails.pop(email.id, None)

    def of_client(self, client_id: str) -> list[ClientEmail]:
        found = [
            e for e in self._state.client_emails.values() if e.tenant_id == self._tenant_id and e.client_id == client_id
        ]
        return sorted(found, key=lambda e: (e.created_at, e.id))


class FakeClientEmailReader(_Bound):
    def of_clients(self, client_ids: Sequence[str]) -> dict[str, list[ClientEmailView]]:
        wanted = set(client_ids)
        result: dict[str, list[ClientEmailView]] = {client_id: [] for client_id in client_ids}
        for email in sorted(self._state.client_emails.values(), key=lambda e: (e.created_at, e.id)):
            if email.tenant_id == self._tenant_id and email.client_id in wanted:
                result[email.client_id].append(client_email_view(email))
        return result


class FakeEmailMessageRepository(_Bound):
    def add(self, message: EmailMessage) -> None:
        self._own(message, "added")
        self._state.messages[message.id] = message

    def get_for_update(self, message_id: str) -> EmailMessage | None:
        found = self._state.messages.get(message_id)
        return found if found is not None and found.tenant_id == self._tenant_id else None


class FakeEmailMessageReader(_Bound):
    def get(self, message_id: str) -> EmailMessageView | None:
        found = self._state.messages.get(message_id)
        return email_message_view(found) if found is not None and found.tenant_id == self._tenant_id else None

    def find(
        self, filter: EmailMessageFilter, *, first: int, after: EmailMessageCursor | None
    ) -> list[EmailMessageView]:
        found = [m for m in self._state.messages.values() if m.tenant_id == self._tenant_id]
        if filter.statuses:
            found = [m for m in found if m.status in filter.statuses]
        if filter.kind is not None:
            found = [m for m in found if m.kind == filter.kind]
        if filter.direction is not None:
            found = [m for m in found if m.direction == filter.direction]
        if filter.entity_type is not None:
            found = [m for m in found if m.entity_type == filter.entity_type]
        if filter.entity_id is not None:
            found = [m for m in found if m.entity_id == filter.entity_id]
        if after is not None:
            found = [m for m in found if (m.created_at, m.id) < (after.created_at, after.message_id)]
        found.sort(key=lambda m: (m.created_at, m.id), reverse=True)
        return [email_message_view(m) for m in found[:first]]


class FakeEmailTemplateRepository(_Bound):
    def add(self, template: EmailTemplate) -> None:
        self._own(template, "added")
        self._state.templates[_template_key(template)] = template

    def get(self, kind: EmailKind, locale: EmailLocale) -> EmailTemplate | None:
        return self._state.templates.get((self._tenant_id, str(kind), str(locale)))

    def delete(self, template: EmailTemplate) -> None:
        self._own(template, "deleted")
        self._state.templates.pop(_template_key(template), None)

    def all(self) -> list[EmailTemplate]:
        return [t for t in self._state.templates.values() if t.tenant_id == self._tenant_id]


class FakeEmailSettingsRepository(_Bound):
    def get(self) -> EmailSettings | None:
        return self._state.settings.get(self._tenant_id)

    def add(self, settings: EmailSettings) -> None:
        self._own(settings, "added")
        self._state.settings[settings.tenant_id] = settings


# --- senders ---------------------------------------------------------------------------------


Script = Callable[[OutgoingEmail], Receipt | Exception | None]


class FakeEmailSender:
    """Records what it was given; ``script`` may answer an email with an exception to raise
    (``DeliveryDeferred``, ``DeliveryRejected``, anything) or a ``Receipt``."""

    def __init__(self, provider: str = "fake", script: Script | None = None) -> None:
        self.provider = provider
        self.script = script
        self.sent: list[OutgoingEmail] = []
        self.calls = 0
        self._lock = threading.Lock()

    def deliver(self, email: OutgoingEmail) -> Receipt:
        with self._lock:
            self.calls += 1
        answer = self.script(email) if self.script else None
        if isinstance(answer, Exception):
            raise answer
        with self._lock:
            self.sent.append(email)
        return answer or Receipt(provider=self.provider, provider_message_id=f"fake-{len(self.sent)}", response="250 OK")


class FakeEmailSenders:
    def __init__(self, default: EmailSender | None = None) -> None:
        self.default = default or FakeEmailSender()
        self.per_tenant: dict[str, EmailSender] = {}

    def for_tenant(self, tenant_id: str) -> EmailSender:
        return self.per_tenant.get(tenant_id, self.default)


def deferred(reason: str = "421 try later") -> DeliveryDeferred:
    return DeliveryDeferred(reason)


def rejected(reason: str = "550 no such user") -> DeliveryRejected:
    return DeliveryRejected(reason)


class EmailDomainState(EmailState):
    """``EmailState`` following the fake domain state protocol (``tests/fakes/state.py``)."""

    def checkout(self) -> EmailDomainState:
        copy = super().checkout()
        return EmailDomainState(**{f.name: getattr(copy, f.name) for f in fields(copy)})

    def check(  # type: ignore[override]
        self, work: EmailDomainState, store: States, workspace: States
    ) -> None:
        EmailState.check(work, {**store.clients, **workspace.clients})


FAKE_DOMAIN = FakeDomain(
    name="emails",
    state=EmailDomainState,
    exposed=False,
    repositories={
        "client_emails": FakeRepository(lambda uow: FakeClientEmailRepository(uow, uow.tenant)),
        "client_email_views": FakeRepository(lambda uow: FakeClientEmailReader(uow, uow.tenant)),
        "email_messages": FakeRepository(lambda uow: FakeEmailMessageRepository(uow, uow.tenant)),
        "email_message_views": FakeRepository(lambda uow: FakeEmailMessageReader(uow, uow.tenant)),
        "email_templates": FakeRepository(lambda uow: FakeEmailTemplateRepository(uow, uow.tenant)),
        "email_settings": FakeRepository(lambda uow: FakeEmailSettingsRepository(uow, uow.tenant)),
    },
)
