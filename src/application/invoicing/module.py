"""The invoicing modules: clients, invoices, quotes and statements; and the PAC (Alanube) that
authorises invoices with the DGI (its settings, webhook, sync, polling fallback and jobs)."""

from __future__ import annotations

from datetime import timedelta

from application.files.keeping import FileKeeper
from application.invoicing import commands as c
from application.invoicing import handlers as h
from application.invoicing import credit_notes as cn
from application.invoicing import pac, pac_settings, profiles, statements
from application.jobs.schedules import Schedule
from application.shared.modules import Dependencies, DomainModule, Registrations


def register(deps: Dependencies) -> Registrations:
    clock = deps.clock
    policy = deps.get("invoicing_policy", c.InvoicingPolicy())
    return Registrations(
        handlers={
            c.CreateClient: h.CreateClientHandler(clock),
            c.UpdateClient: h.UpdateClientHandler(clock),
            c.GetClient: h.GetClientHandler(),
            c.GetClients: h.GetClientsHandler(),
            c.FindClients: h.FindClientsHandler(policy),
            c.CreateInvoice: h.CreateInvoiceHandler(clock),
            c.RegisterInvoicePayment: h.RegisterInvoicePaymentHandler(clock),
            c.RemoveInvoicePayment: h.RemoveInvoicePaymentHandler(clock),
            c.VoidInvoice: h.VoidInvoiceHandler(clock),
            c.GetInvoice: h.GetInvoiceHandler(clock),
            c.GetInvoices: h.GetInvoicesHandler(clock),
            c.FindInvoices: h.FindInvoicesHandler(clock, policy),
            c.FindInvoiceSummaries: h.FindInvoicesHandler(clock, policy),
            c.CreateQuote: h.CreateQuoteHandler(clock),
            c.GetQuote: h.GetQuoteHandler(clock),
            c.FindQuotes: h.FindQuotesHandler(clock, policy),
            c.GetClientStatement: statements.GetClientStatementHandler(clock),
            statements.GetClientBalance: statements.GetClientBalanceHandler(clock),
            c.GetInvoiceTotals: h.GetInvoiceTotalsHandler(),
            profiles.UpdateTenantProfile: profiles.UpdateTenantProfileHandler(clock),
            profiles.GetTenantProfile: profiles.GetTenantProfileHandler(),
            cn.CreateCreditNote: cn.CreateCreditNoteHandler(clock),
            cn.GetCreditNote: cn.GetCreditNoteHandler(),
            cn.FindCreditNotes: cn.FindCreditNotesHandler(),
        },
    )


MODULE = DomainModule(name="invoicing", needs=("clock",), register=register)


def register_pac(deps: Dependencies) -> Registrations:
    clock, secrets, storage, file_policy = deps.clock, deps.secrets, deps.storage, deps.file_policy
    policy = deps.get("pac_policy", pac.PacPolicy())
    keeper = FileKeeper(storage, deps.mime, clock, file_policy)
    return Registrations(
        handlers={
            pac_settings.ConfigurePac: pac_settings.ConfigurePacHandler(clock, secrets),
            pac_settings.GetPacSettings: pac_settings.GetPacSettingsHandler(),
            pac_settings.VerifyPacDelivery: pac_settings.VerifyPacDeliveryHandler(secrets, policy),
            pac.SyncPacDocument: pac.SyncPacDocumentHandler(
                clock, secrets, deps.pac_client, keeper, storage, file_policy, policy
            ),
            pac.QueueStalePacDocuments: pac.QueueStalePacDocumentsHandler(clock, deps.uow_factory, policy),
        },
        jobs={
            pac.SYNC_JOB: pac.sync_job(deps.messages),
            pac.POLL_JOB: pac.poll_job(deps.messages),
        },
        schedules=[Schedule(kind=pac.POLL_JOB, interval=deps.get("pac_poll_every", timedelta(minutes=5)))],
        provides={"webhook_processors": {pac.PROVIDER: pac.PacWebhookProcessor(deps.messages)}},
    )


PAC_MODULE = DomainModule(
    name="pac",
    needs=("uow_factory", "clock", "secrets", "pac_client", "storage", "mime", "file_policy"),
    requires=("invoicing",),
    register=register_pac,
)
MODULES = (MODULE, PAC_MODULE)
