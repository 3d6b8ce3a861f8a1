"""Use cases of purchases: record a parsed supplier invoice once per CUFE, confirm it, list them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from application.invoicing.profiles import TenantProfileView
from application.purchases.commands import (
    ConfirmSupplierInvoice,
    FindSupplierInvoices,
    FindSuppliers,
    GetSupplierInvoice,
    RecordSupplierInvoice,
)
from application.purchases.company import CompanyProfiles
from application.purchases.ports import PurchasesUnitOfWork
from application.purchases.views import (
    RecordedInvoice,
    SupplierInvoiceView,
    SupplierView,
    invoice_view,
)
from application.shared.actors import tenant_actor
from application.shared.cursors import Cursor
from application.shared.messages import Page, page_size
from application.shared.ports import Clock
from domain.purchases.invoices import (
    InvoiceLine,
    InvoiceSource,
    InvoiceStatus,
    ParsedInvoice,
    Supplier,
    SupplierInvoice,
    SupplierInvoiceAlreadyConfirmed,
    SupplierInvoiceNotFound,
    itbms_by_rate,
    parse_invoice_ruc,
    storable_amount,
    validate,
)
from domain.shared.errors import InvalidInput
from domain.shared.model import new_id, parse_id

DEFAULT_PAGE = 50
MAX_PAGE = 200
CORRECTABLE = frozenset(
    {"supplierName", "supplierRuc", "supplierDv", "number", "issueDate", "subtotal", "itbmsTotal", "total", "lines"}
)


def _fit(text: str | None, limit: int) -> str | None:
    """What a column of ``limit`` characters keeps of a value read from a file (the check has listed it)."""
    return None if text is None else text[:limit]


def _receiver_problem(invoice: ParsedInvoice, company: TenantProfileView | None) -> str | None:
    if company is None:
        return (
            "the tenant's fiscal profile (updateTenantProfile) is not saved, "
            "so the receiver's RUC could not be checked"
        )
    if invoice.receiver_ruc is None:
        return "the invoice names no receiver RUC"
    if invoice.receiver_ruc.lstrip("0") != company.ruc.lstrip("0"):
        return f"the invoice is addressed to RUC {invoice.receiver_ruc}, not to the company's {company.ruc}"
    return None


class RecordSupplierInvoiceHandler:
    def __init__(self, clock: Clock, company: CompanyProfiles) -> None:
        self._clock = clock
        self._company = company

    def __call__(self, cmd: RecordSupplierInvoice, uow: PurchasesUnitOfWork) -> RecordedInvoice:
        parsed = cmd.invoice
        receiver = self._receiver_problem(parsed, uow)
        now = self._clock.now()
        with uow:
            earlier, same = uow.purchases.earlier_invoices(cmd.intake_id, parsed.cufe)
            if earlier is not None:  # this intake's run was recorded before
                return RecordedInvoice(
                    invoice_id=earlier.id, duplicate=False, status=earlier.status, problems=earlier.problems,
                    checked=earlier.checked,
                )
            if same is not None:
                return RecordedInvoice(
                    invoice_id=same.id, duplicate=True, status=same.status, problems=(), checked=same.checked
                )
            validation = validate(parsed)
            problems = list(cmd.notes) + list(validation.problems)
            checked = list(validation.checked)
            if receiver:
                problems.append(receiver)
            elif parsed.source is not InvoiceSource.AI:
                checked.append("receiverRuc")
            supplier = self._supplier(uow, parsed, now) if "supplierRuc" in validation.checked else None
            trusted = parsed.source is not InvoiceSource.AI and not problems
            invoice = SupplierInvoice(
                id=new_id(), tenant_id=uow.purchases.tenant_id, supplier_id=supplier.id if supplier else None,
                intake_id=cmd.intake_id, file_id=cmd.file_id, source=parsed.source,
                document_type=parsed.document_type, number=_fit(parsed.number, 40), cufe=_fit(parsed.cufe, 80),
                issue_date=parsed.issue_date, currency=parsed.currency, lines=parsed.lines,
                subtotal=storable_amount(parsed.subtotal), itbms_total=storable_amount(parsed.itbms_total),
                total=storable_amount(parsed.total),
                itbms_by_rate=itbms_by_rate(parsed.lines),
                status=InvoiceStatus.CONFIRMED if trusted else InvoiceStatus.DRAFT,
                checked=tuple(checked), problems=tuple(problems), supplier_name=_fit(parsed.supplier_name, 200),
                supplier_ruc=_fit(parsed.supplier_ruc, 40), supplier_dv=_fit(parsed.supplier_dv, 4), created_at=now,
                updated_at=now,
                confirmed_at=now if trusted else None,
            )
            uow.purchases.add_invoice(invoice)
            uow.commit()
        return RecordedInvoice(
            invoice_id=invoice.id, duplicate=False, status=invoice.status, problems=invoice.problems,
            checked=invoice.checked,
        )

    def _receiver_problem(self, parsed: ParsedInvoice, uow: PurchasesUnitOfWork) -> str | None:
        """What is wrong with the invoice's receiver, checked against the tenant's fiscal profile
        (invoicing's, read through the bus before this unit of work opens; a problem is never
        reported from a kept copy of it)."""
        if parsed.source is InvoiceSource.AI:
            return None  # an extraction does not read the receiver reliably; the accountant confirms it
        with uow:
            tenant_id = uow.purchases.tenant_id
        company, kept = self._company.get(tenant_id)
        problem = _receiver_problem(parsed, company)
        if problem is not None and kept:
            problem = _receiver_problem(parsed, self._company.get(tenant_id, fresh=True)[0])
        return problem

    @staticmethod
    def _supplier(uow: PurchasesUnitOfWork, parsed: ParsedInvoice, now: Any) -> Supplier | None:
        ruc = parse_invoice_ruc(parsed.supplier_ruc, field="supplierRuc")
        found = uow.purchases.supplier_by_ruc(ruc)
        if found is not None or not parsed.supplier_name:
            return found
        supplier = Supplier(
            id=new_id(), tenant_id=uow.purchases.tenant_id, name=parsed.supplier_name[:200], ruc=ruc,
            dv=parsed.supplier_dv, created_at=now,
        )
        return uow.purchases.add_supplier(supplier)


def _decimal(value: Any, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise InvalidInput(f"{field} must be a decimal number", field=field)
    text = str(value).strip()
    if not text.isascii():
        raise InvalidInput(f"{field} must be written with the digits 0-9", field=field)
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise InvalidInput(f"{field} must be a decimal number", field=field) from None
    if not number.is_finite() or number != number.quantize(Decimal("0.0001")) or abs(number) >= Decimal("1e15"):
        raise InvalidInput(f"{field} must be a finite amount with at most 4 decimals", field=field)
    return number


def _corrected(invoice: SupplierInvoice, corrections: dict[str, Any]) -> ParsedInvoice:
    unknown = sorted(set(corrections) - CORRECTABLE)
    if unknown:
        raise InvalidInput(f"{unknown[0]} cannot be corrected (only {', '.join(sorted(CORRECTABLE))})", field=unknown[0])
    get = corrections.get
    lines = invoice.lines
    if "lines" in corrections:
        raw = get("lines")
        if not isinstance(raw, list) or not raw or len(raw) > 1000:
            raise InvalidInput("lines must be 1-1000 lines", field="lines")
        lines = tuple(
            InvoiceLine(
                description=" ".join(str(line.get("description") or "").split())[:500],
                quantity=_decimal(line.get("quantity", "1"), f"lines[{i}].quantity"),
                unit_price=_decimal(line.get("unitPrice", line.get("amount")), f"lines[{i}].unitPrice"),
                amount=_decimal(line.get("amount"), f"lines[{i}].amount"),
                itbms_rate=_decimal(line.get("itbmsRate"), f"lines[{i}].itbmsRate"),
                itbms=_decimal(line.get("itbms"), f"lines[{i}].itbms"),
            )
            for i, line in enumerate(raw)
            if isinstance(line, dict)
        )
    issue = invoice.issue_date
    if "issueDate" in corrections:
        value = get("issueDate")
        if not isinstance(value, date):
            raise InvalidInput("issueDate must be a date", field="issueDate")
        issue = value
    return ParsedInvoice(
        source=invoice.source,
        supplier_name=" ".join(str(get("supplierName", invoice.supplier_name) or "").split())[:200] or None,
        supplier_ruc=(str(get("supplierRuc", invoice.supplier_ruc) or "").strip().upper() or None),
        supplier_dv=(str(get("supplierDv", invoice.supplier_dv) or "").strip() or None),
        receiver_ruc=None,
        number=(str(get("number", invoice.number) or "").strip()[:40] or None),
        cufe=invoice.cufe,
        document_type=invoice.document_type,
        issue_date=issue,
        lines=lines,
        subtotal=_decimal(get("subtotal"), "subtotal") if "subtotal" in corrections else invoice.subtotal,
        itbms_total=_decimal(get("itbmsTotal"), "itbmsTotal") if "itbmsTotal" in corrections else invoice.itbms_total,
        total=_decimal(get("total"), "total") if "total" in corrections else invoice.total,
        currency=invoice.currency,
    )


class ConfirmSupplierInvoiceHandler:
    """Confirm a draft, with the accountant's corrections; it must then pass every check."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: ConfirmSupplierInvoice, uow: PurchasesUnitOfWork) -> SupplierInvoiceView:
        actor = tenant_actor(cmd.actor)
        invoice_id = parse_id(cmd.invoice_id, field="id")
        now = self._clock.now()
        with uow:
            invoice = uow.purchases.invoice_for_update(invoice_id)
            if invoice is None:
                raise SupplierInvoiceNotFound(f"supplier invoice {invoice_id} not found", field="id")
            if invoice.status is InvoiceStatus.CONFIRMED:
                raise SupplierInvoiceAlreadyConfirmed(f"supplier invoice {invoice_id} is already confirmed", field="id")
            parsed = _corrected(invoice, dict(cmd.corrections))
            validation = validate(parsed)
            # A CUFE problem cannot be corrected: it stays listed, and the accountant confirms the rest knowingly.
            problems = [p for p in validation.problems if p not in validation.about_cufe]
            if problems:
                raise InvalidInput("the invoice cannot be confirmed: " + "; ".join(problems), field="corrections")
            supplier = RecordSupplierInvoiceHandler._supplier(uow, parsed, now)
            confirmed = replace(
                invoice, supplier_id=supplier.id if supplier else invoice.supplier_id,
                supplier_name=parsed.supplier_name, supplier_ruc=parsed.supplier_ruc, supplier_dv=parsed.supplier_dv,
                number=parsed.number, issue_date=parsed.issue_date, lines=parsed.lines, subtotal=parsed.subtotal,
                itbms_total=parsed.itbms_total, total=parsed.total, itbms_by_rate=itbms_by_rate(parsed.lines),
                status=InvoiceStatus.CONFIRMED, checked=validation.checked,
                problems=validation.about_cufe, updated_at=now, confirmed_at=now,
                confirmed_by=actor.user_id,
            )
            uow.purchases.save_invoice(confirmed)
            uow.commit()
        return invoice_view(confirmed)


class GetSupplierInvoiceHandler:
    def __call__(self, query: GetSupplierInvoice, uow: PurchasesUnitOfWork) -> SupplierInvoiceView:
        tenant_actor(query.actor)
        invoice_id = parse_id(query.invoice_id, field="id")
        with uow:
            view = uow.purchase_views.invoice(invoice_id)
        if view is None:
            raise SupplierInvoiceNotFound(f"supplier invoice {invoice_id} not found", field="id")
        return view


class FindSupplierInvoicesHandler:
    def __call__(self, query: FindSupplierInvoices, uow: PurchasesUnitOfWork) -> Page[SupplierInvoiceView]:
        tenant_actor(query.actor)
        first = page_size(query.first, default=DEFAULT_PAGE, maximum=MAX_PAGE)
        status = None
        if query.status:
            try:
                status = InvoiceStatus(query.status.strip().upper())
            except ValueError:
                raise InvalidInput("status must be DRAFT or CONFIRMED", field="status") from None
        with uow:
            rows = uow.purchase_views.invoices(status=status, first=first + 1, after=Cursor.decode(query.after))
        return Page.of(rows, first, lambda v: Cursor(v.created_at.isoformat(), v.id).encode())


class FindSuppliersHandler:
    def __call__(self, query: FindSuppliers, uow: PurchasesUnitOfWork) -> Page[SupplierView]:
        tenant_actor(query.actor)
        first = page_size(query.first, default=DEFAULT_PAGE, maximum=MAX_PAGE)
        with uow:
            rows = uow.purchase_views.suppliers(first=first + 1, after=Cursor.decode(query.after))
        return Page.of(rows, first, lambda v: Cursor(v.created_at.isoformat(), v.id).encode())
