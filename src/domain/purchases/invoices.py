"""Supplier invoices: the DGI CUFE, what a parsed invoice carries, and the checks that make it trusted.

An invoice read from the DGI's XML is exact; one read from a QR plus the DGI lookup, or from the
AI extraction, is checked the same way: the CUFE's length, structure and check digit, the RUC's
shape, each ITBMS rate one of 0/7/10/15 %, each line's tax at its rate, the lines adding up to
the totals. What passed is listed as checked; what failed is a reason for review. Nothing is
marked checked that was not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from domain.shared.errors import Conflict, InvalidInput, NotFound

CUFE_LENGTH = 66
CENT = Decimal("0.01")
TOLERANCE = Decimal("0.01")
ITBMS_RATES = {"00": Decimal(0), "01": Decimal(7), "02": Decimal(10), "03": Decimal(15)}
ALLOWED_RATES = frozenset(ITBMS_RATES.values())
DOCUMENT_TYPES = {"01": "INVOICE", "02": "IMPORT_INVOICE", "03": "EXPORT_INVOICE", "04": "CREDIT_NOTE",
                  "05": "DEBIT_NOTE", "06": "CREDIT_NOTE", "07": "DEBIT_NOTE", "08": "ZONE_INVOICE",
                  "09": "REIMBURSEMENT", "10": "FOREIGN_INVOICE"}
_RUC = re.compile(r"^[0-9A-Z]+(-[0-9A-Z]+){0,4}$")
_DV = re.compile(r"^[0-9]{1,2}$")
_CUFE = re.compile(r"^FE(?P<idoc>\d{2})(?P<tiporuc>\d)(?P<ruc>[0-9A-Z-]{20})-(?P<dv>\d{2})(?P<suc>\d{4})"
                   r"(?P<date>\d{8})(?P<nro>\d{10})(?P<pto>\d{3})(?P<tpemis>\d{2})(?P<amb>\d)(?P<seg>\d{9})(?P<check>\d)$")


class SupplierInvoiceNotFound(NotFound):
    code = "SUPPLIER_INVOICE_NOT_FOUND"


class SupplierInvoiceAlreadyConfirmed(Conflict):
    code = "SUPPLIER_INVOICE_ALREADY_CONFIRMED"


class InvoiceStatus(StrEnum):
    DRAFT = "DRAFT"
    CONFIRMED = "CONFIRMED"


class InvoiceSource(StrEnum):
    XML = "XML"
    QR = "QR"
    AI = "AI"


def _luhn_digit(text: str) -> int:
    digits = [int(ch) if ch.isdigit() else ord(ch) % 10 for ch in text]
    total = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2 == 0:  # doubled: the rightmost of the payload is next to the check digit
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return (10 - total % 10) % 10


def cufe_check_digit(payload: str) -> int:
    """The check digit of a CUFE whose characters after ``FE`` and before the digit are ``payload``:
    Luhn, each non-digit replaced by the last digit of its ASCII code (``-`` counts as 5)."""
    return _luhn_digit(payload)


@dataclass(frozen=True, slots=True)
class CufeParts:
    document_type: str
    ruc: str
    dv: str
    branch: str
    issue_date: date
    number: str
    point_of_sale: str
    environment: str


def cufe_problems(cufe: str) -> list[str]:
    """Why ``cufe`` is not a valid CUFE (empty when it is)."""
    if not cufe.isascii():
        return ["the CUFE holds characters other than ASCII"]
    if len(cufe) != CUFE_LENGTH:
        return [f"the CUFE has {len(cufe)} characters, not {CUFE_LENGTH}"]
    match = _CUFE.match(cufe)
    if match is None:
        return ["the CUFE does not have the DGI's structure (FE, document type, RUC, DV, branch, date, number, ...)"]
    try:
        datetime.strptime(match["date"], "%Y%m%d")
    except ValueError:
        return [f"the CUFE's issue date {match['date']} is not a date"]
    if cufe_check_digit(cufe[2:-1]) != int(match["check"]):
        return ["the CUFE's check digit is wrong"]
    return []


def cufe_parts(cufe: str) -> CufeParts | None:
    """The fields a valid CUFE carries; ``None`` for an invalid one."""
    if cufe_problems(cufe):
        return None
    match = _CUFE.match(cufe)
    assert match is not None
    return CufeParts(
        document_type=match["idoc"],
        ruc=match["ruc"].lstrip("0") or "0",
        dv=match["dv"],
        branch=match["suc"],
        issue_date=datetime.strptime(match["date"], "%Y%m%d").date(),
        number=match["nro"],
        point_of_sale=match["pto"],
        environment=match["amb"],
    )


def make_cufe(
    *, document_type: str, taxpayer_type: str, ruc: str, dv: str, branch: str, issue_date: date, number: str,
    point_of_sale: str, emission_type: str = "01", environment: str = "1", security_code: str = "000000001",
) -> str:
    """A CUFE from its parts (used by tests and fixtures to build valid ones)."""
    payload = (
        f"{document_type:0>2}{taxpayer_type}{ruc:0>20}-{dv:0>2}{branch:0>4}{issue_date:%Y%m%d}"
        f"{number:0>10}{point_of_sale:0>3}{emission_type:0>2}{environment}{security_code:0>9}"
    )
    return f"FE{payload}{cufe_check_digit(payload)}"


def ruc_problem(ruc: str | None, dv: str | None, *, who: str) -> str | None:
    if not ruc or len(ruc) > 30 or not _RUC.match(ruc):
        return f"the {who}'s RUC {str(ruc)[:40]!r} does not have a RUC's shape"
    if dv is not None and not _DV.match(dv):
        return f"the {who}'s DV {str(dv)[:8]!r} is not one or two digits"
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceLine:
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    """The line before tax."""
    itbms_rate: Decimal
    """Percent: 0, 7, 10 or 15."""
    itbms: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedInvoice:
    source: InvoiceSource
    supplier_name: str | None
    supplier_ruc: str | None
    supplier_dv: str | None
    receiver_ruc: str | None
    number: str | None
    cufe: str | None
    document_type: str
    issue_date: date | None
    lines: tuple[InvoiceLine, ...]
    subtotal: Decimal | None
    itbms_total: Decimal | None
    total: Decimal | None
    currency: str = "USD"
    problems: tuple[str, ...] = ()
    """What the reader itself could not take (a field missing, a number unreadable)."""


def itbms_by_rate(lines: tuple[InvoiceLine, ...]) -> dict[str, Decimal]:
    found: dict[str, Decimal] = {}
    for line in lines:
        key = str(line.itbms_rate.normalize())
        found[key] = found.get(key, Decimal("0.00")) + line.itbms
    return found


@dataclass(frozen=True, slots=True)
class Validation:
    checked: tuple[str, ...]
    problems: tuple[str, ...]
    about_cufe: tuple[str, ...] = ()
    """The problems that concern the CUFE (a confirmation cannot correct those)."""


MAX_TOTAL = Decimal("999999999999999.99")


def storable_amount(value: Decimal | None) -> Decimal | None:
    """An amount as a money column keeps it: to the cent (half up); beyond the column, nothing."""
    if value is None or not value.is_finite() or abs(value) > MAX_TOTAL:
        return None
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def validate(invoice: ParsedInvoice) -> Validation:
    """Check what can be checked; each field name in ``checked`` passed its check."""
    checked: list[str] = []
    problems: list[str] = list(invoice.problems)
    about_cufe: list[str] = []
    if invoice.cufe is not None:
        about_cufe += cufe_problems(invoice.cufe)
        if not about_cufe:
            checked.append("cufe")
            parts = cufe_parts(invoice.cufe)
            if parts and invoice.supplier_ruc and parts.ruc != invoice.supplier_ruc.lstrip("0"):
                about_cufe.append("the CUFE names another supplier RUC than the invoice")
            elif parts and invoice.issue_date and parts.issue_date != invoice.issue_date:
                about_cufe.append("the CUFE's issue date differs from the invoice's")
    elif invoice.source is not InvoiceSource.AI:
        about_cufe.append("the invoice carries no CUFE")
    problems += about_cufe
    problem = ruc_problem(invoice.supplier_ruc, invoice.supplier_dv, who="supplier")
    if problem:
        problems.append(problem)
    else:
        checked.append("supplierRuc")
    if not invoice.supplier_name:
        problems.append("the supplier's name is missing")
    if not invoice.number:
        problems.append("the invoice number is missing")
    if invoice.issue_date is None:
        problems.append("the issue date is missing")
    if not invoice.lines:
        problems.append("the invoice has no lines")
    lines_ok = bool(invoice.lines)
    for index, line in enumerate(invoice.lines, start=1):
        if line.itbms_rate not in ALLOWED_RATES:
            problems.append(f"line {index}: ITBMS rate {line.itbms_rate}% is not 0, 7, 10 or 15 %")
            lines_ok = False
            continue
        expected = (line.amount * line.itbms_rate / 100).quantize(CENT)
        if abs(expected - line.itbms) > TOLERANCE:
            problems.append(f"line {index}: ITBMS {line.itbms} is not {line.itbms_rate}% of {line.amount} ({expected})")
            lines_ok = False
    if lines_ok:
        checked.append("itbmsRates")
    subtotal = sum((line.amount for line in invoice.lines), Decimal("0.00"))
    tax = sum((line.itbms for line in invoice.lines), Decimal("0.00"))
    for name, value in (("subtotal", invoice.subtotal), ("ITBMS total", invoice.itbms_total), ("total", invoice.total)):
        if value is not None and storable_amount(value) != value:
            problems.append(f"the {name} {value} is not an amount to the cent")
    if invoice.subtotal is None or invoice.itbms_total is None or invoice.total is None:
        problems.append("the totals are missing")
    else:
        totals_ok = True
        if invoice.lines and abs(subtotal - invoice.subtotal) > TOLERANCE:
            problems.append(f"the lines add up to {subtotal}, the invoice says {invoice.subtotal} before tax")
            totals_ok = False
        if invoice.lines and abs(tax - invoice.itbms_total) > TOLERANCE:
            problems.append(f"the lines' ITBMS adds up to {tax}, the invoice says {invoice.itbms_total}")
            totals_ok = False
        if abs(invoice.subtotal + invoice.itbms_total - invoice.total) > TOLERANCE:
            problems.append(
                f"the total {invoice.total} is not {invoice.subtotal} plus ITBMS {invoice.itbms_total}"
            )
            totals_ok = False
        if totals_ok and invoice.lines:
            checked.append("totals")
    return Validation(checked=tuple(checked), problems=tuple(problems), about_cufe=tuple(about_cufe))


@dataclass(frozen=True, slots=True, kw_only=True)
class Supplier:
    id: str
    tenant_id: str
    name: str
    ruc: str
    dv: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class SupplierInvoice:
    id: str
    tenant_id: str
    supplier_id: str | None
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
    supplier_name: str | None
    supplier_ruc: str | None
    supplier_dv: str | None
    created_at: datetime
    updated_at: datetime
    confirmed_at: datetime | None = None
    confirmed_by: str | None = None


def parse_invoice_ruc(value: object, *, field: str) -> str:
    text = str(value or "").strip().upper()
    if not text or len(text) > 30 or not _RUC.match(text):
        raise InvalidInput(f"{field} must look like a RUC (digits, letters and inner hyphens)", field=field)
    return text
