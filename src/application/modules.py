"""The list of domain modules: the one place a new domain adds a line (see docs/adding-a-domain.md).

The order does not matter: a registration made twice is refused at start-up, and a module whose
needs are not configured is left out whole (the start-up log says so).
"""

from __future__ import annotations

from typing import Any

from application.deliveries import module as deliveries
from application.emails import module as emails
from application.files import module as files
from application.integrations.aurinko import module as aurinko
from application.invoicing import module as invoicing
from application.pdf import module as pdf
from application.pdf_templates import module as pdf_templates
from application.shared.bus import MessageBus
from application.shared.modules import Assembly, DomainModule, assemble
from application.tenancy import module as tenancy
from application.webhooks import module as webhooks
from application.whatsapp import module as whatsapp

MODULES: tuple[DomainModule, ...] = (
    tenancy.MODULE,
    files.MODULE,
    invoicing.MODULE,
    invoicing.PAC_MODULE,
    pdf_templates.MODULE,
    pdf.MODULE,
    webhooks.MODULE,
    deliveries.MODULE,
    deliveries.INVOICES_MODULE,
    emails.MODULE,
    whatsapp.MODULE,
    aurinko.MODULE,
)


def build_service(*, modules: tuple[DomainModule, ...] = MODULES, **dependencies: Any) -> Assembly:
    """The bus, job handlers, schedules and webhook processors of every module whose needs are met.
    ``dependencies``: by name (``uow_factory``, ``clock``, ``storage``, ...; see each module's ``needs``)."""
    return assemble(modules, dependencies["uow_factory"], dependencies)


def build_message_bus(**dependencies: Any) -> MessageBus:
    return build_service(**dependencies).bus
