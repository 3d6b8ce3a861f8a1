"""The composition root: the only place where concrete adapters are chosen.

``Container`` is made of the containers under ``entrypoints.containers`` (the way the
dependency-injector examples split theirs): ``core``, ``gateways``, and one per domain, each
providing (``exports``) what its module in ``application.modules`` needs, by name. The service
(bus, job handlers, schedules, webhook processors) is assembled from those; a new domain's
container is found by its name in ``application.modules.DOMAINS``, not listed here.

Tests override providers where they live (``container.core.clock``, ``container.pdf.pdf_renderer``);
``settings``, ``engine``, ``clock``, ``storage``, ``secret_box`` and ``job_queue`` are also
reachable from the top, as the same providers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dependency_injector import containers, providers

from application.jobs.worker import Worker
from application.modules import DOMAINS, build_service
from application.shared.modules import Assembly, domain_parts
from domain.jobs.model import RetryPolicy
from entrypoints.config import Settings
from entrypoints.containers.core import Core
from entrypoints.containers.gateways import Gateways


def assemble_service(*provided: Mapping[str, Any]) -> Assembly:
    """The service from what the containers provide, by name; a name provided twice is an error."""
    dependencies: dict[str, Any] = {}
    for mapping in provided:
        for name, value in mapping.items():
            if name in dependencies:
                raise ValueError(f"the dependency {name!r} is provided by two containers")
            dependencies[name] = value
    return build_service(**dependencies)


def _container_class() -> type[containers.DeclarativeContainer]:
    """``Container``: core, gateways, and each domain's ``Services`` (``entrypoints/containers/<domain>.py``,
    found by the names of ``application.modules.DOMAINS``) under its name's last part
    (``container.emails``, ``container.aurinko``); the service is assembled from their ``exports``."""
    settings = providers.Dependency(instance_of=Settings)
    core = providers.Container(Core, settings=settings)
    gateways = providers.Container(Gateways, settings=settings, core=core)
    domains = {
        name.rpartition(".")[2]: providers.Container(part.Services, settings=settings, core=core, gateways=gateways)
        for name, part in domain_parts("entrypoints.containers.{domain}", DOMAINS)
    }
    service = providers.Singleton(assemble_service, core.exports, *(domain.exports for domain in domains.values()))
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
    return type(
        "Container",
        (containers.DeclarativeContainer,),
        {
            "__module__": __name__,
            "settings": settings,
            "core": core,
            "gateways": gateways,
            **domains,
            "service": service,
            "bus": service.provided.bus,
            "job_handlers": job_handlers,
            "schedules": schedules,
            "retry_policy": retry_policy,
            "worker": worker,
            # The core providers the app, the CLI and the tests use most, reachable from the top.
            "engine": core.engine,
            "clock": core.clock,
            "storage": core.storage,
            "secret_box": core.secret_box,
            "job_queue": core.job_queue,
        },
    )


Container = _container_class()


def build_container(settings: Settings | None = None) -> Container:
    container = Container(settings=settings or Settings.from_env())
    container.init_resources()
    return container
