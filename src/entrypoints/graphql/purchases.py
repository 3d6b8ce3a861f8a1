"""GraphQL of purchases: supplier invoices recorded by document intake, confirmed by the accountant."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ariadne import MutationType, ObjectType, QueryType
from graphql import GraphQLResolveInfo

from application.purchases.commands import (
    ConfirmSupplierInvoice,
    FindSupplierInvoices,
    FindSuppliers,
    GetSupplierInvoice,
)
from application.purchases.views import SupplierInvoiceView
from application.shared.cursors import Cursor
from entrypoints.graphql.api import ApiDomain
from entrypoints.graphql.common import actor, bus, business_result

query = QueryType()
mutation = MutationType()
invoice_type = ObjectType("SupplierInvoice")

bindables = [query, mutation, invoice_type]
API = ApiDomain(bindables, sdl=("purchases.graphql",))

EMPTY_PAGE = {"edges": [], "page_info": {"end_cursor": None, "has_next_page": False}}


def _connection(page: Any) -> dict[str, Any]:
    return {
        "edges": [{"cursor": Cursor(item.created_at.isoformat(), item.id).encode(), "node": item} for item in page.items],
        "page_info": {"end_cursor": page.end_cursor, "has_next_page": page.has_next_page},
    }


@invoice_type.field("status")
def resolve_status(invoice: SupplierInvoiceView, _info: GraphQLResolveInfo) -> str:
    return str(invoice.status)


@invoice_type.field("source")
def resolve_source(invoice: SupplierInvoiceView, _info: GraphQLResolveInfo) -> str:
    return str(invoice.source)


@invoice_type.field("itbmsByRate")
def resolve_itbms_by_rate(invoice: SupplierInvoiceView, _info: GraphQLResolveInfo) -> list[dict[str, Any]]:
    return [{"rate": Decimal(rate), "amount": amount} for rate, amount in sorted(invoice.itbms_by_rate.items())]


@query.field("supplierInvoices")
@business_result(**EMPTY_PAGE)
def resolve_supplier_invoices(
    _: Any, info: GraphQLResolveInfo, status: str | None = None, first: int | None = None, after: str | None = None
) -> dict[str, Any]:
    return _connection(bus(info).handle(FindSupplierInvoices(actor=actor(info), status=status, first=first, after=after)))


@query.field("getSupplierInvoiceById")
@business_result(invoice=None)
def resolve_get_supplier_invoice(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
    return {"invoice": bus(info).handle(GetSupplierInvoice(actor=actor(info), invoice_id=id))}


@query.field("suppliers")
@business_result(**EMPTY_PAGE)
def resolve_suppliers(_: Any, info: GraphQLResolveInfo, first: int | None = None, after: str | None = None) -> dict[str, Any]:
    return _connection(bus(info).handle(FindSuppliers(actor=actor(info), first=first, after=after)))


@mutation.field("confirmSupplierInvoice")
@business_result(invoice=None)
def resolve_confirm_supplier_invoice(
    _: Any, info: GraphQLResolveInfo, id: str, corrections: dict[str, Any] | None = None
) -> dict[str, Any]:
    # Inputs arrive snake_cased (convert_names_case); the command speaks the API's names.
    names = {"supplier_name": "supplierName", "supplier_ruc": "supplierRuc", "supplier_dv": "supplierDv",
             "issue_date": "issueDate", "itbms_total": "itbmsTotal"}
    given = {names.get(key, key): value for key, value in (corrections or {}).items() if value is not None}
    if "lines" in given:
        given["lines"] = [
            {"unitPrice" if k == "unit_price" else "itbmsRate" if k == "itbms_rate" else k: v for k, v in line.items()}
            for line in given["lines"]
        ]
    return {"invoice": bus(info).handle(ConfirmSupplierInvoice(actor=actor(info), invoice_id=id, corrections=given))}
