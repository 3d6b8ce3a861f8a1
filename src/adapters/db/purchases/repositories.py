"""Purchases on SQLAlchemy Core, bound to one tenant. Amounts in JSON (lines, ITBMS by rate) are
kept as decimal strings, never floats."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, and_, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from adapters.db.purchases.tables import supplier_invoices, suppliers
from application.purchases.views import SupplierInvoiceView, SupplierView, invoice_view, supplier_view
from application.shared.cursors import Cursor
from domain.purchases.invoices import InvoiceLine, InvoiceStatus, Supplier, SupplierInvoice

_LINE_FIELDS = ("quantity", "unit_price", "amount", "itbms_rate", "itbms")


def _line_out(line: InvoiceLine) -> dict[str, str]:
    return {"description": line.description, **{name: str(getattr(line, name)) for name in _LINE_FIELDS}}


def _line_in(value: dict[str, str]) -> InvoiceLine:
    return InvoiceLine(description=value["description"], **{name: Decimal(value[name]) for name in _LINE_FIELDS})


def _invoice(row: Row[Any]) -> SupplierInvoice:
    m = dict(row._mapping)
    m["lines"] = tuple(_line_in(v) for v in m["lines"] or ())
    m["itbms_by_rate"] = {k: Decimal(v) for k, v in (m["itbms_by_rate"] or {}).items()}
    m["checked"] = tuple(m["checked"] or ())
    m["problems"] = tuple(m["problems"] or ())
    return SupplierInvoice(**m)


def _values(invoice: SupplierInvoice) -> dict[str, Any]:
    values = {f.name: getattr(invoice, f.name) for f in fields(SupplierInvoice)}
    values["lines"] = [_line_out(line) for line in invoice.lines]
    values["itbms_by_rate"] = {k: str(v) for k, v in invoice.itbms_by_rate.items()}
    values["checked"] = list(invoice.checked)
    values["problems"] = list(invoice.problems)
    return values


def _supplier(row: Row[Any]) -> Supplier:
    return Supplier(**{f.name: row._mapping[f.name] for f in fields(Supplier)})


class _Scoped:
    def __init__(self, session: Session, tenant_id: str) -> None:
        self._session = session
        self.tenant_id = tenant_id

    def _invoice_where(self, *conditions: Any, lock: bool = False) -> SupplierInvoice | None:
        statement = select(supplier_invoices).where(supplier_invoices.c.tenant_id == self.tenant_id, *conditions)
        if lock and self._session.get_bind().dialect.name == "postgresql":
            statement = statement.with_for_update()
        elif lock:
            self._session.execute(
                update(supplier_invoices).where(supplier_invoices.c.tenant_id == self.tenant_id, *conditions)
                .values(status=supplier_invoices.c.status)
            )
        row = self._session.execute(statement).one_or_none()
        return None if row is None else _invoice(row)


class SqlAlchemyPurchasesRepository(_Scoped):
    def supplier_by_ruc(self, ruc: str) -> Supplier | None:
        row = self._session.execute(
            select(suppliers).where(suppliers.c.tenant_id == self.tenant_id, suppliers.c.ruc == ruc)
        ).one_or_none()
        return None if row is None else _supplier(row)

    def add_supplier(self, supplier: Supplier) -> Supplier:
        dialect = postgresql if self._session.get_bind().dialect.name == "postgresql" else sqlite
        added = self._session.execute(
            dialect.insert(suppliers)
            .values({f.name: getattr(supplier, f.name) for f in fields(Supplier)} | {"tenant_id": self.tenant_id})
            .on_conflict_do_nothing(index_elements=["tenant_id", "ruc"])
            .returning(suppliers.c.id)
        ).first()
        if added is not None:
            return supplier
        kept = self.supplier_by_ruc(supplier.ruc)  # another job's, committed meanwhile (it waited for it)
        if kept is None:
            raise RuntimeError(f"supplier {supplier.ruc} was neither added nor found")
        return kept

    def invoice(self, invoice_id: str) -> SupplierInvoice | None:
        return self._invoice_where(supplier_invoices.c.id == invoice_id)

    def invoice_for_update(self, invoice_id: str) -> SupplierInvoice | None:
        return self._invoice_where(supplier_invoices.c.id == invoice_id, lock=True)

    def earlier_invoices(
        self, intake_id: str, cufe: str | None
    ) -> tuple[SupplierInvoice | None, SupplierInvoice | None]:
        c = supplier_invoices.c
        wanted = c.intake_id == intake_id if not cufe else or_(c.intake_id == intake_id, c.cufe == cufe)
        rows = self._session.execute(select(supplier_invoices).where(c.tenant_id == self.tenant_id, wanted))
        found = [_invoice(row) for row in rows]  # at most two: both keys are unique in the tenant
        of_intake = next((i for i in found if i.intake_id == intake_id), None)
        of_cufe = next((i for i in found if cufe and i.cufe == cufe), None)
        return of_intake, of_cufe

    def add_invoice(self, invoice: SupplierInvoice) -> None:
        self._session.execute(insert(supplier_invoices).values(_values(invoice) | {"tenant_id": self.tenant_id}))

    def save_invoice(self, invoice: SupplierInvoice) -> None:
        values = _values(invoice)
        for key in ("id", "tenant_id", "intake_id", "file_id", "created_at"):
            values.pop(key)
        self._session.execute(
            update(supplier_invoices)
            .where(supplier_invoices.c.tenant_id == self.tenant_id, supplier_invoices.c.id == invoice.id)
            .values(**values)
        )


class SqlAlchemyPurchasesReader(_Scoped):
    def invoice(self, invoice_id: str) -> SupplierInvoiceView | None:
        found = self._invoice_where(supplier_invoices.c.id == invoice_id)
        return None if found is None else invoice_view(found)

    def invoices(self, *, status: InvoiceStatus | None, first: int, after: Cursor | None) -> list[SupplierInvoiceView]:
        c = supplier_invoices.c
        conditions: list[Any] = [c.tenant_id == self.tenant_id]
        if status is not None:
            conditions.append(c.status == status)
        if after is not None:
            at = datetime.fromisoformat(after.key)
            conditions.append(or_(c.created_at < at, and_(c.created_at == at, c.id < after.id)))
        rows = self._session.execute(
            select(supplier_invoices).where(*conditions).order_by(c.created_at.desc(), c.id.desc()).limit(first)
        )
        return [invoice_view(_invoice(row)) for row in rows]

    def suppliers(self, *, first: int, after: Cursor | None) -> list[SupplierView]:
        c = suppliers.c
        conditions: list[Any] = [c.tenant_id == self.tenant_id]
        if after is not None:
            at = datetime.fromisoformat(after.key)
            conditions.append(or_(c.created_at < at, and_(c.created_at == at, c.id < after.id)))
        rows = self._session.execute(
            select(suppliers).where(*conditions).order_by(c.created_at.desc(), c.id.desc()).limit(first)
        )
        return [supplier_view(_supplier(row)) for row in rows]
