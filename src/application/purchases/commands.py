"""Commands and queries of purchases."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from application.shared.messages import Command, Query
from domain.purchases.invoices import ParsedInvoice


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordSupplierInvoice(Command):
    """Keep a parsed invoice (sent by document intake) as a supplier invoice, once per CUFE and intake."""

    intake_id: str
    file_id: str
    invoice: ParsedInvoice
    notes: tuple[str, ...] = ()
    """Reasons for review the sender already knows (the DGI lookup had nothing, ...)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfirmSupplierInvoice(Command):
    invoice_id: str
    corrections: dict[str, Any] = field(default_factory=dict)
    """Any of supplierName, supplierRuc, supplierDv, number, issueDate, subtotal, itbmsTotal, total, lines."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GetSupplierInvoice(Query):
    invoice_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FindSupplierInvoices(Query):
    status: str | None = None
    first: int | None = None
    after: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FindSuppliers(Query):
    first: int | None = None
    after: str | None = None
