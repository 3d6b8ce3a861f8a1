"""Ports of purchases: the suppliers and supplier invoices of one tenant."""

from __future__ import annotations

from typing import Protocol

from application.purchases.views import SupplierInvoiceView, SupplierView
from application.shared.cursors import Cursor
from application.shared.ports import UnitOfWork
from domain.purchases.invoices import InvoiceStatus, Supplier, SupplierInvoice


class PurchasesRepository(Protocol):
    tenant_id: str

    def supplier_by_ruc(self, ruc: str) -> Supplier | None: ...

    def add_supplier(self, supplier: Supplier) -> Supplier:
        """Keep ``supplier``, unless the tenant has one of its RUC already (another job's, committed
        meanwhile): the one kept."""
        ...

    def invoice(self, invoice_id: str) -> SupplierInvoice | None: ...

    def invoice_for_update(self, invoice_id: str) -> SupplierInvoice | None: ...

    def earlier_invoices(
        self, intake_id: str, cufe: str | None
    ) -> tuple[SupplierInvoice | None, SupplierInvoice | None]:
        """The invoice an intake recorded, and the one of a CUFE (``None`` for none): one read."""
        ...

    def add_invoice(self, invoice: SupplierInvoice) -> None: ...

    def save_invoice(self, invoice: SupplierInvoice) -> None: ...


class PurchasesReader(Protocol):
    def invoice(self, invoice_id: str) -> SupplierInvoiceView | None: ...

    def invoices(self, *, status: InvoiceStatus | None, first: int, after: Cursor | None) -> list[SupplierInvoiceView]:
        """Newest first, by (created_at, id)."""
        ...

    def suppliers(self, *, first: int, after: Cursor | None) -> list[SupplierView]:
        """Newest first, by (created_at, id)."""
        ...


class PurchasesUnitOfWork(UnitOfWork, Protocol):
    purchases: PurchasesRepository
    purchase_views: PurchasesReader
