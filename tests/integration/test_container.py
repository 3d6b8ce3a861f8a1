"""The composition root: core, gateways and one container per domain, assembled into one service."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from dependency_injector import providers

from application.files.commands import AddFile
from application.files.staging import stage_chunks
from application.modules import MODULES
from domain.tenancy.model import Actor, Role
from entrypoints.container import assemble_service
from tests.fakes.clock import FakeClock


def test_every_domain_module_is_registered_with_what_the_containers_export(make_service: Any) -> None:
    assembly = make_service().container.service()
    assert assembly.left_out == {}
    assert sorted(assembly.registered) == sorted(module.name for module in MODULES)


def test_a_dependency_two_containers_export_is_refused() -> None:
    with pytest.raises(ValueError, match="'clock' is provided by two containers"):
        assemble_service({"clock": object()}, {"storage": object(), "clock": object()})


def test_the_core_providers_named_at_the_top_are_the_cores_own(make_service: Any) -> None:
    container = make_service().container
    for name in ("engine", "clock", "storage", "secret_box", "job_queue"):
        assert getattr(container, name) is getattr(container.core, name), name


def test_a_clock_overridden_at_the_top_reaches_the_handlers_of_the_bus(make_service: Any) -> None:
    service = make_service()
    then = datetime(2031, 2, 3, 4, 5, tzinfo=UTC)
    service.container.clock.override(providers.Object(FakeClock(then)))
    tenant_id = service.tenant("acme")
    actor = Actor(tenant_id=tenant_id, user_id="user-1", role=Role.OWNER)
    staged = stage_chunks(service.container.storage(), [b"%PDF-1.7 a file"], max_size=1 << 20)

    view = service.container.bus().handle(AddFile(actor=actor, content=staged))

    assert view.created_at == then
