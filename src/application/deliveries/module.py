"""The deliveries modules: the sweep of messages left SENDING (every channel), and ``sendInvoice``
(which needs both channels: left out with either)."""

from __future__ import annotations

from datetime import timedelta

from application.deliveries import sweep as s
from application.deliveries.invoices import SendInvoice, SendInvoiceHandler
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
            s.FindStaleDeliveries: s.FindStaleDeliveriesHandler(deps.clock),
            s.AbandonStaleDelivery: s.AbandonStaleDeliveryHandler(deps.clock),
        },
        jobs={s.SWEEP_JOB: sweep},
        schedules=[
            Schedule(kind=s.SWEEP_JOB, interval=deps.get("deliveries_sweep_every", timedelta(minutes=15)))
        ],
    )


MODULE = DomainModule(name="deliveries", needs=("clock",), register=register)


def register_invoices(deps: Dependencies) -> Registrations:
    return Registrations(handlers={SendInvoice: SendInvoiceHandler(deps.messages, deps.clock)})


INVOICES_MODULE = DomainModule(
    name="invoice_delivery", needs=("clock",), requires=("emails", "whatsapp"), register=register_invoices
)
MODULES = (MODULE, INVOICES_MODULE)
