"""In-memory purchases with the semantics of ``adapters.db.purchases``: one supplier per (tenant,
RUC), one invoice per (tenant, CUFE) and per (tenant, intake)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from application.purchases.views import SupplierInvoiceView, SupplierView, invoice_view, supplier_view
from application.shared.cursors import Cursor
from domain.purchases.invoices import InvoiceStatus, Supplier, SupplierInvoice
from domain.shared.model import Aggregate
from tests.fakes.state import FakeDomain, FakeRepository, States, unique

if TYPE_CHECKING:
    from tests.fakes.uow import FakeUnitOfWork

_TABLES = ("suppliers", "supplier_invoices")


@dataclass
class PurchasesState:
    suppliers: dict[str, Supplier] = field(default_factory=dict)
    supplier_invoices: dict[str, SupplierInvoice] = field(default_factory=dict)

    def checkout(self) -> PurchasesState:
        return PurchasesState()

    def check(self, work: PurchasesState, store: States, workspace: States) -> None:
        suppliers = {**self.suppliers, **work.suppliers}
        unique("suppliers.tenant_id, ruc", ((s.tenant_id, s.ruc) for s in suppliers.values()))
        invoices = {**self.supplier_invoices, **work.supplier_invoices}
        unique("supplier_invoices.tenant_id, cufe", ((i.tenant_id, i.cufe) for i in invoices.values() if i.cufe))
        unique("supplier_invoices.tenant_id, intake_id",
               ((i.tenant_id, i.intake_id) for i in invoices.values() if i.intake_id))

    def apply(self, work: PurchasesState) -> None:
        for table in _TABLES:
            getattr(self, table).update(getattr(work, table))
            getattr(work, table).clear()

    def aggregates(self) -> Iterable[Aggregate]:
        return ()


class _Bound:
    def __init__(self, uow: FakeUnitOfWork, tenant_id: str) -> None:
        self._uow = uow
        self.tenant_id = tenant_id

    def _rows(self, table: str) -> dict[str, Any]:
        merged = {**getattr(self._uow.store, table), **getattr(self._uow.workspace(), table)}
        return {k: v for k, v in merged.items() if v.tenant_id == self.tenant_id}

    def _invoice(self, **match: Any) -> SupplierInvoice | None:
        return next(
            (i for i in self._rows("supplier_invoices").values() if all(getattr(i, k) == v for k, v in match.items())),
            None,
        )


class FakePurchasesRepository(_Bound):
    def supplier_by_ruc(self, ruc: str) -> Supplier | None:
        return next((s for s in self._rows("suppliers").values() if s.ruc == ruc), None)

    def add_supplier(self, supplier: Supplier) -> Supplier:
        kept = self.supplier_by_ruc(supplier.ruc)
        if kept is not None:
            return kept
        self._uow.workspace().suppliers[supplier.id] = supplier
        return supplier

    def invoice(self, invoice_id: str) -> SupplierInvoice | None:
        return self._invoice(id=invoice_id)

    def invoice_for_update(self, invoice_id: str) -> SupplierInvoice | None:
        return self._invoice(id=invoice_id)

    def earlier_invoices(
        self, intake_id: str, cufe: str | None
    ) -> tuple[SupplierInvoice | None, SupplierInvoice | None]:
        return self._invoice(intake_id=intake_id), self._invoice(cufe=cufe) if cufe else None

    def add_invoice(self, invoice: SupplierInvoice) -> None:
        self._uow.workspace().supplier_invoices[invoice.id] = invoice

    def save_invoice(self, invoice: SupplierInvoice) -> None:
        if self.invoice(invoice.id) is not None:
            self._uow.workspace().supplier_invoices[invoice.id] = invoice


class FakePurchasesReader(_Bound):
    def invoice(self, invoice_id: str) -> SupplierInvoiceView | None:
        found = self._invoice(id=invoice_id)
        return None if found is None else invoice_view(found)

    def invoices(self, *, status: InvoiceStatus | None, first: int, after: Cursor | None) -> list[SupplierInvoiceView]:
        rows = sorted(
            (i for i in self._rows("supplier_invoices").values()
             if (status is None or i.status == status)
             and (after is None or (i.created_at, i.id) < (datetime.fromisoformat(after.key), after.id))),
            key=lambda i: (i.created_at, i.id), reverse=True,
        )
        return [invoice_view(i) for i in rows[:first]]

    def suppliers(self, *, first: int, after: Cursor | None) -> list[SupplierView]:
        rows = sorted(
            (s for s in self._rows("suppliers").values()
             if after is None or (s.created_at, s.id) < (datetime.fromisoformat(after.key), after.id)),
            key=lambda s: (s.created_at, s.id), reverse=True,
        )
        return [supplier_view(s) for s in rows[:first]]


FAKE_DOMAIN = FakeDomain(
    name="purchases",
    state=PurchasesState,
    repositories={
        "purchases": FakeRepository(lambda uow: FakePurchasesRepository(uow, uow.tenant)),
        "purchase_views": FakeRepository(lambda uow: FakePurchasesReader(uow, uow.tenant)),
    },
)
