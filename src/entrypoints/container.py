"""The composition root: the only place where concrete adapters are chosen.

``Container`` is made of the containers under ``entrypoints.containers`` (the way the
dependency-injector examples split theirs): ``core``, ``gateways``, and one per domain, each
providing (``exports``) what its module in ``application.modules`` needs, by name. The service
(bus, job handlers, schedules, webhook processors) is assembled from those; a new domain adds
its container here, once in the class and once in ``service``'s list.

Tests override providers where they live (``container.core.clock``, ``container.pdf.pdf_renderer``);
``settings``, ``engine``, ``clock``, ``storage``, ``secret_box`` and ``job_queue`` are also
reachable from the top, as the same providers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dependency_injector import containers, providers

from application.jobs.worker import Worker
from application.modules import build_service
from application.shared.modules import Assembly
from domain.jobs.model import RetryPolicy
from entrypoints.config import Settings
from entrypoints.containers.aurinko import AurinkoServices
from entrypoints.containers.core import Core
from entrypoints.containers.emails import EmailsServices
from entrypoints.containers.files import FilesServices
from entrypoints.containers.gateways import Gateways
from entrypoints.containers.invoicing import InvoicingServices
from entrypoints.containers.pdf import PdfServices
from entrypoints.containers.tenancy import TenancyServices
from entrypoints.containers.webhooks import WebhooksServices
from entrypoints.containers.whatsapp import WhatsappServices


def assemble_service(*provided: Mapping[str, Any]) -> Assembly:
    """The service from what the containers provide, by name; a name provided twice is an error."""
    dependencies: dict[str, Any] = {}
    for mapping in provided:
        for name, value in mapping.items():
            if name in dependencies:
                raise ValueError(f"the dependency {name!r} is provided by two containers")
            dependencies[name] = value
    return build_service(**dependencies)


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)

    core = providers.Container(Core, settings=settings)
    gateways = providers.Container(Gateways, settings=settings, core=core)

    tenancy = providers.Container(TenancyServices, core=core, gateways=gateways)
    files = providers.Container(FilesServices, settings=settings)
    invoicing = providers.Container(InvoicingServices, settings=settings, gateways=gateways)
    pdf = providers.Container(PdfServices, settings=settings)
    webhooks = providers.Container(WebhooksServices)
    whatsapp = providers.Container(WhatsappServices, settings=settings, gateways=gateways)
    aurinko = providers.Container(AurinkoServices, settings=settings, core=core, gateways=gateways)
    emails = providers.Container(
        EmailsServices, settings=settings, core=core, gateways=gateways, aurinko_senders=aurinko.aurinko_senders
    )

    service = providers.Singleton(
        assemble_service,
        core.exports,
        tenancy.exports,
        files.exports,
        invoicing.exports,
        pdf.exports,
        webhooks.exports,
        whatsapp.exports,
        aurinko.exports,
        emails.exports,
    )
    bus = service.provided.bus
    job_handlers = service.provided.job_handlers
    schedules = service.provided.schedules

    retry_policy = providers.Singleton(RetryPolicy, max_attempts=settings.provided.job_max_attempts)
    worker = providers.Factory(
        Worker,
        queue=core.job_queue,
        handlers=job_handlers,
        clock=core.clock,
        concurrency=settings.provided.worker_concurrency,
        lease=settings.provided.job_lease,
        policy=retry_policy,
        schedules=schedules,
    )

    # The core providers the app, the CLI and the tests use most, reachable from the top.
    engine = core.engine
    clock = core.clock
    storage = core.storage
    secret_box = core.secret_box
    job_queue = core.job_queue


def build_container(settings: Settings | None = None) -> Container:
    container = Container(settings=settings or Settings.from_env())
    container.init_resources()
    return container
