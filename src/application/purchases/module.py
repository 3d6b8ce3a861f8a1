"""The purchases module: suppliers and the invoices they send, recorded from document intake."""

from __future__ import annotations

from application.purchases import commands as c
from application.purchases import handlers as h
from application.purchases.company import CompanyProfiles
from application.shared.modules import Dependencies, DomainModule, Registrations
from domain.invoicing.issuer import TenantProfileUpdated


def register(deps: Dependencies) -> Registrations:
    clock = deps.clock
    company = CompanyProfiles(deps.messages, clock)
    return Registrations(
        handlers={
            c.RecordSupplierInvoice: h.RecordSupplierInvoiceHandler(clock, company),
            c.ConfirmSupplierInvoice: h.ConfirmSupplierInvoiceHandler(clock),
            c.GetSupplierInvoice: h.GetSupplierInvoiceHandler(),
            c.FindSupplierInvoices: h.FindSupplierInvoicesHandler(),
            c.FindSuppliers: h.FindSuppliersHandler(),
        },
        event_handlers={TenantProfileUpdated: [company.forget]},
    )


MODULE = DomainModule(
    name="purchases",
    needs=("clock",),
    requires=("invoicing",),  # the tenant's own RUC is its fiscal profile's (GetTenantProfile)
    register=register,
)
