"""Stop-gap: the fake emails and WhatsApp states and repositories, registered from this one place
while those domains are being reworked (their fakes stay in ``tests/fakes/emails.py`` and
``tests/fakes/whatsapp.py``). Once they move, each of those modules declares its own
``FAKE_DOMAIN`` and this module goes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields

from adapters.db.registry import Binding
from domain.shared.model import Aggregate
from tests.fakes.emails import (
    EmailState,
    FakeClientEmailReader,
    FakeClientEmailRepository,
    FakeEmailMessageReader,
    FakeEmailMessageRepository,
    FakeEmailSettingsRepository,
    FakeEmailTemplateRepository,
)
from tests.fakes.state import FakeDomain, FakeRepository, States
from tests.fakes.whatsapp import (
    FakeWhatsappDirectory,
    FakeWhatsappReader,
    FakeWhatsappRepository,
    WhatsappData,
)


class EmailDomainState(EmailState):
    """``EmailState`` following the fake domain state protocol."""

    def checkout(self) -> EmailDomainState:
        copy = super().checkout()
        return EmailDomainState(**{f.name: getattr(copy, f.name) for f in fields(copy)})

    def check(  # type: ignore[override]
        self, work: EmailDomainState, store: States, workspace: States
    ) -> None:
        EmailState.check(work, {**store.clients, **workspace.clients})


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


EMAILS = FakeDomain(
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

WHATSAPP = FakeDomain(
    name="whatsapp",
    state=WhatsappDomainState,
    exposed=False,
    repositories={
        "whatsapp": FakeRepository(lambda uow: FakeWhatsappRepository(uow, uow.tenant)),
        "whatsapp_views": FakeRepository(lambda uow: FakeWhatsappReader(uow, uow.tenant)),
        "whatsapp_directory": FakeRepository(FakeWhatsappDirectory, Binding.ANY),
    },
)
