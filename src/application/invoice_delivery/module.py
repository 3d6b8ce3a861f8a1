"""The invoice delivery module: ``sendInvoice`` (an invoice to its client by e-mail, WhatsApp or
both), and the PAC's ``pac.send_authorized_invoice`` job (contract E: an invoice, once authorised,
to its client's default channel). It needs both channels: left out with either."""

from __future__ import annotations

from collections.abc import Callable

from application.invoice_delivery.sending import SendInvoice, SendInvoiceHandler
from application.invoicing.pac import SEND_JOB, pac_actor
from application.jobs.errors import PermanentJobError
from application.jobs.ports import JobHandler
from application.shared.modules import Dependencies, DomainModule, Messages, Registrations
from domain.jobs.model import Job
from domain.shared.errors import DomainError
from domain.tenancy.model import Actor

AuthorizedInvoiceSender = Callable[[Actor, str], None]
"""Sends an authorised invoice (the PAC's actor, the invoice id) to its client's default channel."""


def send_invoice_through(messages: Messages) -> AuthorizedInvoiceSender:
    def send(actor: Actor, invoice_id: str) -> None:
        messages.handle(SendInvoice(actor=actor, invoice_id=invoice_id, channel=None))

    return send


def send_job(send: AuthorizedInvoiceSender) -> JobHandler:
    """``pac.send_authorized_invoice``: queued by the PAC sync once per invoice when first authorised."""

    def run(job: Job) -> None:
        if job.tenant_id is None or not job.payload.get("invoice_id"):
            raise PermanentJobError("a pac.send_authorized_invoice job names a tenant and an invoice")
        try:
            send(pac_actor(job.tenant_id), str(job.payload["invoice_id"]))
        except DomainError as error:
            raise PermanentJobError(f"{error.code}: {error.message}") from None

    return run


def register(deps: Dependencies) -> Registrations:
    return Registrations(
        handlers={SendInvoice: SendInvoiceHandler(deps.messages, deps.clock)},
        jobs={SEND_JOB: send_job(send_invoice_through(deps.messages))},
    )


MODULE = DomainModule(
    name="invoice_delivery", needs=("clock",), requires=("invoicing", "emails", "whatsapp"), register=register
)
