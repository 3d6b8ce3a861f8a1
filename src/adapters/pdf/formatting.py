"""Labels and formats of rendered documents: es-PA and en, amounts ``B/. 1,234.50`` / ``$1,234.50``.

Panama writes amounts with a decimal point and comma thousands (``1,234.50``); the balboa
(PAB) prints as ``B/.``, the US dollar as ``$``. Dates are ``dd/mm/yyyy`` in es-PA.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")
_SYMBOLS = {"PAB": "B/. ", "USD": "$"}

_ES_MONTHS = ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic")
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        return None
    try:
        return Decimal(str(value)) if isinstance(value, (int, float, str)) else None
    except InvalidOperation:
        return None


def money(value: Any, currency: str = "USD") -> str:
    """``B/. 1,234.50`` for PAB, ``$1,234.50`` for USD, ``EUR 1,234.50`` otherwise; minus in front."""
    amount = _decimal(value)
    if amount is None or not amount.is_finite():
        return ""
    amount = amount.quantize(CENT, ROUND_HALF_UP)
    symbol = _SYMBOLS.get(currency, f"{currency} ")
    sign = "-" if amount < 0 else ""
    return f"{sign}{symbol}{abs(amount):,.2f}"


def number(value: Any, places: int = 2) -> str:
    """``1,234.50``: the amount without currency symbol."""
    amount = _decimal(value)
    if amount is None or not amount.is_finite():
        return ""
    places = max(0, min(int(places), 6))
    return f"{amount.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP):,.{places}f}"


def quantity(value: Any) -> str:
    """A quantity without useless zeros: ``2``, ``2.5``, ``1,250.125``."""
    amount = _decimal(value)
    if amount is None or not amount.is_finite():
        return ""
    amount = amount.quantize(Decimal("0.0001"), ROUND_HALF_UP).normalize()
    text = f"{amount:,f}"
    return text


def percent(value: Any) -> str:
    """``7%``, ``12.5%``."""
    amount = _decimal(value)
    if amount is None or not amount.is_finite():
        return ""
    return f"{amount.quantize(Decimal('0.01'), ROUND_HALF_UP).normalize():f}%"


def format_date(value: Any, locale: str = "es-PA") -> str:
    """``24/11/2024`` in es-PA, ``Nov 24, 2024`` in en."""
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        return "" if value is None else str(value)
    if locale == "en":
        return f"{_EN_MONTHS[value.month - 1]} {value.day}, {value.year}"
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def format_datetime(value: Any, locale: str = "es-PA") -> str:
    """``24/11/2024 10:15`` in es-PA, ``Nov 24, 2024 10:15`` in en."""
    if not isinstance(value, datetime):
        return format_date(value, locale)
    return f"{format_date(value, locale)} {value.hour:02d}:{value.minute:02d}"


def long_date(value: Any, locale: str = "es-PA") -> str:
    """``24 nov 2024`` / ``Nov 24, 2024``: for headings."""
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        return ""
    if locale == "en":
        return format_date(value, locale)
    return f"{value.day} {_ES_MONTHS[value.month - 1]} {value.year}"


LABELS: dict[str, dict[str, str]] = {
    "es-PA": {
        "INVOICE": "FACTURA",
        "CREDIT_NOTE": "NOTA DE CRÉDITO",
        "QUOTE": "COTIZACIÓN",
        "STATEMENT": "ESTADO DE CUENTA",
        "REPORT": "REPORTE",
        "number": "No.",
        "issue_date": "Fecha de emisión",
        "due_date": "Vencimiento",
        "valid_until": "Válida hasta",
        "status": "Estado",
        "currency": "Moneda",
        "bill_to": "Cliente",
        "issuer_missing": "Perfil fiscal del emisor incompleto, falta:",
        "missing_legalName": "razón social",
        "missing_ruc": "RUC",
        "missing_dv": "DV",
        "missing_address": "dirección",
        "ruc": "RUC",
        "dv": "DV",
        "email": "Correo",
        "phone": "Tel.",
        "description": "Descripción",
        "quantity": "Cant.",
        "unit_price": "Precio unit.",
        "discount": "Desc.",
        "tax_rate": "ITBMS %",
        "subtotal": "Subtotal",
        "tax": "ITBMS",
        "total": "Total",
        "discount_total": "Descuentos",
        "tax_total": "Total ITBMS",
        "tax_base": "base",
        "tax_summary": "Resumen de ITBMS",
        "legal_status": "Estado DGI",
        "paid": "Pagado",
        "balance": "Saldo",
        "notes": "Notas",
        "no_fiscal": "DOCUMENTO NO FISCAL",
        "no_fiscal_note": "Este documento no ha sido autorizado por la DGI y no tiene validez fiscal.",
        "fiscal": "Factura electrónica autorizada por la DGI",
        "cufe": "CUFE",
        "protocol": "Protocolo de autorización",
        "authorized_at": "Fecha de autorización",
        "qr_hint": "Consulte la validez de este documento en el sitio de la DGI escaneando el código QR.",
        "page": "Página",
        "of": "de",
        "period": "Período",
        "opening_balance": "Saldo inicial",
        "closing_balance": "Saldo final",
        "charges": "Cargos",
        "payments": "Abonos",
        "date": "Fecha",
        "kind": "Tipo",
        "reference": "Referencia",
        "debit": "Débito",
        "credit": "Crédito",
        "ageing": "Antigüedad de saldos",
        "current": "Corriente",
        "d1_30": "1 a 30 días",
        "d31_60": "31 a 60 días",
        "d61_90": "61 a 90 días",
        "over_90": "Más de 90 días",
        "to": "al",
        "from": "del",
        "generated_on": "Generado el",
        "kind_INVOICE": "Factura",
        "kind_PAYMENT": "Pago",
        "kind_CREDIT_NOTE": "Nota de crédito",
        "credited_invoice": "Factura de referencia",
        "reason": "Motivo",
        "status_ISSUED": "Emitida",
        "ageing_as_of": "al",
        "status_UNPAID": "Pendiente",
        "status_PARTIALLY_PAID": "Pago parcial",
        "status_PAID": "Pagada",
        "status_PAST_DUE": "Vencida",
        "status_VOID": "Anulada",
        "status_DRAFT": "Borrador",
        "status_SENT": "Enviada",
        "status_ACCEPTED": "Aceptada",
        "status_REJECTED": "Rechazada",
        "status_EXPIRED": "Vencida",
        "legal_NONE": "Sin autorizar",
        "legal_PAC_AUTHORIZED": "Autorizada por el PAC, pendiente de la DGI",
        "legal_DGI_AUTHORIZED": "Autorizada por la DGI",
        "legal_PAC_REJECTED": "Rechazada por el PAC",
        "legal_DGI_REJECTED": "Rechazada por la DGI",
    },
    "en": {
        "INVOICE": "INVOICE",
        "CREDIT_NOTE": "CREDIT NOTE",
        "QUOTE": "QUOTE",
        "STATEMENT": "STATEMENT OF ACCOUNT",
        "REPORT": "REPORT",
        "number": "No.",
        "issue_date": "Issue date",
        "due_date": "Due date",
        "valid_until": "Valid until",
        "status": "Status",
        "currency": "Currency",
        "bill_to": "Bill to",
        "issuer_missing": "Issuer's fiscal profile incomplete, missing:",
        "missing_legalName": "legal name",
        "missing_ruc": "RUC",
        "missing_dv": "DV",
        "missing_address": "address",
        "ruc": "RUC",
        "dv": "DV",
        "email": "Email",
        "phone": "Phone",
        "description": "Description",
        "quantity": "Qty",
        "unit_price": "Unit price",
        "discount": "Disc.",
        "tax_rate": "ITBMS %",
        "subtotal": "Subtotal",
        "tax": "ITBMS",
        "total": "Total",
        "discount_total": "Discounts",
        "tax_total": "Total ITBMS",
        "tax_base": "base",
        "tax_summary": "ITBMS summary",
        "legal_status": "DGI status",
        "paid": "Paid",
        "balance": "Balance due",
        "notes": "Notes",
        "no_fiscal": "NON-FISCAL DOCUMENT",
        "no_fiscal_note": "This document has not been authorised by the DGI and has no fiscal validity.",
        "fiscal": "Electronic invoice authorised by the DGI",
        "cufe": "CUFE",
        "protocol": "Authorisation protocol",
        "authorized_at": "Authorised on",
        "qr_hint": "Check this document on the DGI website by scanning the QR code.",
        "page": "Page",
        "of": "of",
        "period": "Period",
        "opening_balance": "Opening balance",
        "closing_balance": "Closing balance",
        "charges": "Charges",
        "payments": "Payments",
        "date": "Date",
        "kind": "Type",
        "reference": "Reference",
        "debit": "Debit",
        "credit": "Credit",
        "ageing": "Ageing",
        "current": "Current",
        "d1_30": "1-30 days",
        "d31_60": "31-60 days",
        "d61_90": "61-90 days",
        "over_90": "Over 90 days",
        "to": "to",
        "from": "from",
        "generated_on": "Generated on",
        "kind_INVOICE": "Invoice",
        "kind_PAYMENT": "Payment",
        "kind_CREDIT_NOTE": "Credit note",
        "credited_invoice": "Invoice credited",
        "reason": "Reason",
        "status_ISSUED": "Issued",
        "ageing_as_of": "as of",
        "status_UNPAID": "Unpaid",
        "status_PARTIALLY_PAID": "Partially paid",
        "status_PAID": "Paid",
        "status_PAST_DUE": "Past due",
        "status_VOID": "Void",
        "status_DRAFT": "Draft",
        "status_SENT": "Sent",
        "status_ACCEPTED": "Accepted",
        "status_REJECTED": "Rejected",
        "status_EXPIRED": "Expired",
        "legal_NONE": "Not authorised",
        "legal_PAC_AUTHORIZED": "Authorised by the PAC, pending with the DGI",
        "legal_DGI_AUTHORIZED": "Authorised by the DGI",
        "legal_PAC_REJECTED": "Rejected by the PAC",
        "legal_DGI_REJECTED": "Rejected by the DGI",
    },
}


def labels(locale: str) -> dict[str, str]:
    return LABELS.get(locale, LABELS["es-PA"])
