"""The AI extraction of a supplier invoice: the strict JSON schema asked for, and its answer read
back into a parsed invoice. Nothing in the answer is trusted: it is validated like the XML."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from domain.purchases.invoices import InvoiceLine, InvoiceSource, ParsedInvoice

_NUMBER = {"type": "string", "description": "a decimal number with a dot, like 1234.56"}
_LINE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["description", "quantity", "unitPrice", "amount", "itbmsRate", "itbms"],
    "properties": {
        "description": {"type": "string"},
        "quantity": _NUMBER,
        "unitPrice": _NUMBER,
        "amount": {**_NUMBER, "description": "the line before tax"},
        "itbmsRate": {"type": "string", "enum": ["0", "7", "10", "15"]},
        "itbms": _NUMBER,
    },
}
INVOICE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["supplierName", "supplierRuc", "supplierDv", "number", "issueDate", "cufe", "lines",
                 "subtotal", "itbmsTotal", "total"],
    "properties": {
        "supplierName": {"type": "string"},
        "supplierRuc": {"type": "string"},
        "supplierDv": {"type": ["string", "null"]},
        "number": {"type": "string"},
        "issueDate": {"type": "string", "description": "YYYY-MM-DD"},
        "cufe": {"type": ["string", "null"], "description": "the 66-character CUFE if printed, else null"},
        "lines": {"type": "array", "items": _LINE},
        "subtotal": _NUMBER,
        "itbmsTotal": _NUMBER,
        "total": _NUMBER,
    },
}
INSTRUCTIONS = (
    "Read this supplier invoice from Panama and return its fields as JSON matching the schema. "
    "Copy numbers exactly as printed (dot as decimal separator); ITBMS rates are 0, 7, 10 or 15. "
    "Use null where a field is not printed; never guess."
)
MAX_LINES = 500


def _decimal(value: Any, what: str, problems: list[str]) -> Decimal | None:
    text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not text or not text.isascii():
        problems.append(f"{what} {str(value)[:30]!r} is not a number")
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        problems.append(f"{what} {text[:30]!r} is not a number")
        return None
    if not number.is_finite():
        problems.append(f"{what} {text[:30]!r} is not a number")
        return None
    return number


def _text(value: Any, limit: int) -> str | None:
    if not isinstance(value, str):
        return None
    flat = " ".join("".join(ch if ch.isprintable() else " " for ch in value).split())
    return flat[:limit] or None


def invoice_from_extraction(data: dict[str, Any]) -> ParsedInvoice:
    problems: list[str] = []
    issue = None
    raw_date = data.get("issueDate")
    try:
        issue = date.fromisoformat(raw_date) if isinstance(raw_date, str) and raw_date.isascii() else None
    except ValueError:
        pass
    if issue is None:
        problems.append(f"the issue date {str(raw_date)[:20]!r} is not a date")
    raw_lines = data.get("lines") if isinstance(data.get("lines"), list) else []
    lines = []
    for index, raw in enumerate(raw_lines[:MAX_LINES], start=1):
        if not isinstance(raw, dict):
            problems.append(f"line {index} is not an object")
            continue
        before = len(problems)
        values = {
            key: _decimal(raw.get(key), f"line {index}: {key}", problems)
            for key in ("quantity", "unitPrice", "amount", "itbmsRate", "itbms")
        }
        if len(problems) == before:
            lines.append(InvoiceLine(
                description=_text(raw.get("description"), 500) or "", quantity=values["quantity"],  # type: ignore[arg-type]
                unit_price=values["unitPrice"], amount=values["amount"],  # type: ignore[arg-type]
                itbms_rate=values["itbmsRate"], itbms=values["itbms"],  # type: ignore[arg-type]
            ))
    cufe = _text(data.get("cufe"), 80)
    return ParsedInvoice(
        source=InvoiceSource.AI,
        supplier_name=_text(data.get("supplierName"), 200),
        supplier_ruc=(_text(data.get("supplierRuc"), 40) or "").upper() or None,
        supplier_dv=_text(data.get("supplierDv"), 4),
        receiver_ruc=None,
        number=_text(data.get("number"), 40),
        cufe=cufe,
        document_type="INVOICE",
        issue_date=issue,
        lines=tuple(lines),
        subtotal=_decimal(data.get("subtotal"), "subtotal", problems),
        itbms_total=_decimal(data.get("itbmsTotal"), "itbmsTotal", problems),
        total=_decimal(data.get("total"), "total", problems),
        problems=tuple(problems),
    )
