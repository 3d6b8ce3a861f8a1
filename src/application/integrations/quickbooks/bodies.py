"""What QuickBooks is sent: a client as a Customer, an invoice as an Invoice (its lines as the
tenant's item, each ITBMS rate as the tax code the tenant mapped it to), a payment as a Payment
applied to its invoice. Amounts go as JSON numbers with their exact decimal digits."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

from application.invoicing.views import ClientView, InvoiceView, PaymentView
from domain.integrations.quickbooks.connection import Mappings

MAX_DISPLAY_NAME = 100
MAX_DOC_NUMBER = 21
MAX_DESCRIPTION = 4000
MAX_REF_NUMBER = 21


def money(value: Decimal) -> float:
    """QuickBooks takes amounts as JSON numbers; cents survive the float (at most 15 digits)."""
    return float(value)


def escape(value: str) -> str:
    """A value inside a quoted literal of QuickBooks' query language."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


def select_where(entity: str, field: str, value: str, *, limit: int) -> str:
    """A statement of QuickBooks' query language (not SQL: it is sent to QuickBooks, which reads
    it); the value is a quoted literal with its quotes and backslashes escaped."""
    literal = escape(value)
    return f"select * from {entity} where {field} = '{literal}' STARTPOSITION 1 MAXRESULTS {limit}"  # noqa: S608 - QuickBooks' query language, escaped literal


def display_name(name: str) -> str:
    # QuickBooks forbids ':' in DisplayName (it separates sub-customers); tabs/newlines never get here.
    return name.replace(":", "-").strip()[:MAX_DISPLAY_NAME]


def customer_body(client: ClientView) -> dict[str, Any]:
    body: dict[str, Any] = {"DisplayName": display_name(client.name), "CompanyName": client.name[:100]}
    contact = next(iter(client.contacts), None)
    email = next((c.email for c in client.contacts if c.email), None)
    phone = next((c.phone for c in client.contacts if c.phone), None)
    if email:
        body["PrimaryEmailAddr"] = {"Address": email}
    if phone:
        body["PrimaryPhone"] = {"FreeFormNumber": phone}
    if contact is not None and contact.name:
        given, _, family = contact.name.partition(" ")
        body["GivenName"], body["FamilyName"] = given[:100], family[:100] or None
        if body["FamilyName"] is None:
            del body["FamilyName"]
    if client.address:
        body["BillAddr"] = {"Line1": client.address[:500]}
    if client.ruc:
        body["ResaleNum"] = (client.ruc + (f"-{client.dv}" if client.dv else ""))[:16]
    return body


def ad_hoc_customer_body(invoice: InvoiceView) -> dict[str, Any]:
    body: dict[str, Any] = {"DisplayName": display_name(invoice.client_name), "CompanyName": invoice.client_name[:100]}
    if invoice.ad_hoc_emails:
        body["PrimaryEmailAddr"] = {"Address": invoice.ad_hoc_emails[0]}
    return body


def fingerprint(body: dict[str, Any]) -> str:
    """What was last pushed, to skip a push of the same record again."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def invoice_body(invoice: InvoiceView, *, customer_id: str, mappings: Mappings) -> dict[str, Any]:
    lines: list[dict[str, Any]] = []
    for line in invoice.lines:
        detail: dict[str, Any] = {
            "ItemRef": {"value": mappings.item_id},
            "Qty": float(line.quantity),
            "UnitPrice": float(line.unit_price),
            "TaxCodeRef": {"value": mappings.tax_codes[line.tax_rate]},
        }
        if mappings.income_account_id:
            detail["ItemAccountRef"] = {"value": mappings.income_account_id}
        lines.append(
            {
                "LineNum": line.position + 1,
                "Description": line.description[:MAX_DESCRIPTION],
                "DetailType": "SalesItemLineDetail",
                "Amount": money(line.amount),
                "SalesItemLineDetail": detail,
            }
        )
    if invoice.discount_total > 0:
        lines.append(
            {
                "DetailType": "DiscountLineDetail",
                "Amount": money(invoice.discount_total),
                "DiscountLineDetail": {"PercentBased": False},
            }
        )
    return {
        "CustomerRef": {"value": customer_id},
        "DocNumber": invoice.number[:MAX_DOC_NUMBER],
        "TxnDate": invoice.issue_date.isoformat(),
        "DueDate": invoice.due_date.isoformat(),
        "Line": lines,
        "TxnTaxDetail": {"TotalTax": money(invoice.tax_total)},
        "PrivateNote": f"Istmo invoice {invoice.id}",
    }


def payment_body(payment: PaymentView, *, customer_id: str, invoice_qbo_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "CustomerRef": {"value": customer_id},
        "TotalAmt": money(payment.amount),
        "TxnDate": payment.date.isoformat(),
        "Line": [{"Amount": money(payment.amount), "LinkedTxn": [{"TxnId": invoice_qbo_id, "TxnType": "Invoice"}]}],
        "PrivateNote": f"Istmo payment {payment.id} ({payment.method})",
    }
    if payment.reference:
        body["PaymentRefNum"] = payment.reference[:MAX_REF_NUMBER]
    return body
