"""The deliveries module: what every outbound channel shares that runs on its own, the sweep of
messages left SENDING (each channel provides its rules as ``"delivery_channels"``)."""

from __future__ import annotations

from datetime import timedelta

from application.deliveries import sweep as s
from application.jobs.schedules import Schedule
from application.shared.modules import Dependencies, DomainModule, Registrations
from domain.jobs.model import Job


def register(deps: Dependencies) -> Registrations:
    def sweep(job: Job) -> None:
        """Messages left SENDING with no run of their job left: UNCERTAIN."""
        found = deps.messages.handle(s.FindStaleDeliveries(actor=None))
        for stale in found.deliveries:
            command = s.AbandonStaleDelivery(
                actor=None, channel=stale.channel, message_id=stale.message_id, claimed_before=found.claimed_before
            )
            deps.messages.handle(command, tenant_id=stale.tenant_id)

    return Registrations(
        handlers={
            s.FindStaleDeliveries: s.FindStaleDeliveriesHandler(deps.clock, deps.provided("delivery_channels")),
            s.AbandonStaleDelivery: s.AbandonStaleDeliveryHandler(deps.clock, deps.provided("delivery_channels")),
        },
        jobs={s.SWEEP_JOB: sweep},
        schedules=[
            Schedule(kind=s.SWEEP_JOB, interval=deps.get("deliveries_sweep_every", timedelta(minutes=15)))
        ],
    )


MODULE = DomainModule(name="deliveries", needs=("clock",), register=register)

