"""The list of business domains: the one place a new domain adds a line (docs/adding-a-domain.md).

The order does not matter: a registration made twice is refused at start-up, and a module whose
needs are not configured is left out whole (the start-up log says so).
"""

from __future__ import annotations

from typing import Any

from application.shared.bus import MessageBus
from application.shared.modules import Assembly, DomainModule, assemble, domain_parts

DOMAINS: tuple[str, ...] = (
    "tenancy",
    "jobs",
    "files",
    "invoicing",
    "pdf_templates",
    "pdf",
    "webhooks",
    "deliveries",
    "emails",
    "whatsapp",
    "invoice_delivery",
    "integrations.aurinko",
    "integrations.quickbooks",
    "banking",
    "purchases",
    "intake",
    "signatures",
    "chats",
)
"""The business domains, by package name. Each layer finds a domain's part by this name:
``application.<name>.module`` (its ``MODULE``, or ``MODULES`` where it registers more than one),
``adapters.db.<name>.module``, ``entrypoints.containers.<name>`` and ``entrypoints.graphql.<name>``
where the domain has them."""


def _modules() -> tuple[DomainModule, ...]:
    return tuple(
        module
        for _, part in domain_parts("application.{domain}.module", DOMAINS)
        for module in getattr(part, "MODULES", None) or (part.MODULE,)
    )


MODULES: tuple[DomainModule, ...] = _modules()


def build_service(*, modules: tuple[DomainModule, ...] = MODULES, **dependencies: Any) -> Assembly:
    """The bus, job handlers, schedules and webhook processors of every module whose needs are met.
    ``dependencies``: by name (``uow_factory``, ``clock``, ``storage``, ...; see each module's ``needs``)."""
    return assemble(modules, dependencies["uow_factory"], dependencies)


def build_message_bus(**dependencies: Any) -> MessageBus:
    return build_service(**dependencies).bus
