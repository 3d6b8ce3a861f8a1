"""The service on a test database with the intake's collaborators it cannot reach here played by
fakes: the AI assistant's ``ExtractDocumentFields`` handler and the DGI lookup."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from application.chats.extraction import ExtractDocumentFields, ExtractedFields, ExtractionUnavailable
from application.files.commands import AddFile
from application.files.staging import stage_chunks
from application.intake.commands import GetDocumentIntake, IngestFile
from application.intake.views import DocumentIntakeView
from application.jobs.worker import Worker
from application.modules import DOMAINS, MODULES, build_service
from application.shared.modules import Assembly, DomainModule, Registrations
from domain.purchases.invoices import ParsedInvoice
from domain.tenancy.model import Actor, Role


@dataclass
class FakeExtraction:
    """The assistant's answer: ``data`` as the provider would fill the schema, or ``unavailable``."""

    data: dict[str, Any] | None = None
    unavailable: str | None = None
    requests: list[ExtractDocumentFields] = field(default_factory=list)

    def __call__(self, cmd: ExtractDocumentFields, uow: Any) -> ExtractedFields:
        self.requests.append(cmd)
        if self.unavailable is not None:
            raise ExtractionUnavailable(self.unavailable)
        return ExtractedFields(data=dict(self.data or {}), provider="fake", model="fake-1")


@dataclass
class FakeDgiLookup:
    invoices: dict[str, ParsedInvoice] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def invoice(self, cufe: str) -> ParsedInvoice | None:
        self.asked.append(cufe)
        return self.invoices.get(cufe)


class IntakeWorld:
    def __init__(self, service: Any, *, extraction: FakeExtraction | None = None, dgi: FakeDgiLookup | None = None) -> None:
        self.service = service
        self.container = service.container
        self.extraction = extraction
        self.dgi = dgi
        modules = tuple(m for m in MODULES if m.name != "chats")
        if extraction is not None:
            modules += (DomainModule(name="fake_chats", register=lambda deps: Registrations(
                handlers={ExtractDocumentFields: extraction}
            )),)
        deps: dict[str, Any] = dict(self.container.core.exports())
        for name in DOMAINS:
            if name == "chats":
                continue
            part = getattr(self.container, name.rpartition(".")[2], None)
            if part is not None:
                deps.update(part.exports())
        if dgi is not None:
            deps["dgi_lookup"] = dgi
        self.assembly: Assembly = build_service(modules=modules, **deps)
        self.bus = self.assembly.bus

    def worker(self) -> Worker:
        return Worker(
            self.container.job_queue(), self.assembly.job_handlers, self.container.clock(), concurrency=1,
            schedules=(),
        )

    def tenant(self, slug: str) -> Actor:
        tenant_id = self.service.tenant(slug)
        return Actor(tenant_id=tenant_id, user_id=f"owner@{slug}.pa", role=Role.OWNER)

    def upload(self, actor: Actor, data: bytes, name: str = "documento.bin") -> str:
        staged = stage_chunks(self.container.storage(), [data], max_size=1 << 30)
        return self.bus.handle(AddFile(actor=actor, content=staged, name=name)).id

    def ingest(self, actor: Actor, data: bytes, *, kind: str | None = None, name: str = "documento.bin") -> DocumentIntakeView:
        file_id = self.upload(actor, data, name)
        intake = self.bus.handle(IngestFile(actor=actor, file_id=file_id, kind=kind))
        self.run_jobs()
        return self.intake(actor, intake.id)

    def intake(self, actor: Actor, intake_id: str) -> DocumentIntakeView:
        return self.bus.handle(GetDocumentIntake(actor=actor, intake_id=intake_id))

    def run_jobs(self) -> int:
        done = 0
        worker = self.worker()
        while (ran := worker.run_once()):
            done += ran
        return done

    def handle(self, message: Any) -> Any:
        return self.bus.handle(message)


def world_factory(make_service: Callable[..., Any]) -> Callable[..., IntakeWorld]:
    def make(**kw: Any) -> IntakeWorld:
        return IntakeWorld(make_service(), **kw)

    return make
