"""The document intake module: uploaded files routed to the strategy that reads them, and the job
that turns them into bank statements and supplier invoices (through the banking and purchases modules)."""

from __future__ import annotations

from application.intake import commands as c
from application.intake import handlers as h
from application.intake.ports import IntakeLimits
from application.intake.processing import IntakeJob
from application.shared.modules import Dependencies, DomainModule, Registrations


def register(deps: Dependencies) -> Registrations:
    clock = deps.clock
    limits = deps.get("intake_limits", IntakeLimits())
    return Registrations(
        handlers={
            c.IngestFile: h.IngestFileHandler(clock),
            c.RetryDocumentIntake: h.RetryDocumentIntakeHandler(clock),
            c.BeginDocumentIntake: h.BeginDocumentIntakeHandler(),
            c.FinishDocumentIntake: h.FinishDocumentIntakeHandler(clock),
            c.GetDocumentIntake: h.GetDocumentIntakeHandler(),
            c.FindDocumentIntakes: h.FindDocumentIntakesHandler(),
        },
        jobs={c.PROCESS_JOB: IntakeJob(deps.messages, deps.storage, deps.intake_strategies, limits, deps.dgi_lookup)},
    )


MODULE = DomainModule(
    name="intake",
    needs=("clock", "storage", "intake_strategies"),
    requires=("banking", "purchases"),
    register=register,
)
