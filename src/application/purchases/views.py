"""Read models of purchases: suppliers and their invoices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from domain.purchases.invoices import InvoiceLine, InvoiceSource, InvoiceStatus, Supplier, SupplierInvoice


@dataclass(frozen=True, slots=True, kw_only=True)
class SupplierView:
    id: str
    name: str
    ruc: str
    dv: str | None
    created_at: datetime


def supplier_view(supplier: Supplier) -> SupplierView:
    return SupplierView(id=supplier.id, name=supplier.name, ruc=supplier.ruc, dv=supplier.dv, created_at=supplier.created_at)


@dataclass(frozen=True, slots=True, kw_only=True)
class SupplierInvoiceView:
    id: str
    supplier_id: str | None
    supplier_name: str | None
    supplier_ruc: str | None
    supplier_dv: str | None
    intake_id: str | None
    file_id: str
    source: InvoiceSource
    document_type: str
    number: str | None
    cufe: str | None
    issue_date: date | None
    currency: str
    lines: tuple[InvoiceLine, ...]
    subtotal: Decimal | None
    itbms_total: Decimal | None
    total: Decimal | None
    itbms_by_rate: dict[str, Decimal]
    status: InvoiceStatus
    checked: tuple[str, ...]
    problems: tuple[str, ...]
    created_at: datetime
    confirmed_at: datetime | None


def invoice_view(invoice: SupplierInvoice) -> SupplierInvoiceView:
    return SupplierInvoiceView(
        id=invoice.id, supplier_id=invoice.supplier_id, supplier_name=invoice.supplier_name,
        supplier_ruc=invoice.supplier_ruc, supplier_dv=invoice.supplier_dv, intake_id=invoice.intake_id,
        file_id=invoice.file_id, source=invoice.source, document_type=invoice.document_type, number=invoice.number,
        cufe=invoice.cufe, issue_date=invoice.issue_date, currency=invoice.currency, lines=invoice.lines,
        subtotal=invoice.subtotal, itbms_total=invoice.itbms_total, total=invoice.total,
        itbms_by_rate=invoice.itbms_by_rate, status=invoice.status, checked=invoice.checked,
        problems=invoice.problems, created_at=invoice.created_at, confirmed_at=invoice.confirmed_at,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordedInvoice:
    """What recording a parsed invoice did: ``duplicate`` when its CUFE was recorded before."""

    invoice_id: str
    duplicate: bool
    status: InvoiceStatus
    problems: tuple[str, ...]
    checked: tuple[str, ...]
