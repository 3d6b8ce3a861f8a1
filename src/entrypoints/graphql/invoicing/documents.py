"""GraphQL of the invoicing domain: clients, invoices, payments, quotes and statements."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeVar

from ariadne import MutationType, ObjectType, QueryType
from graphql import GraphQLResolveInfo

from application.invoicing.commands import (
    CreateClient,
    CreateInvoice,
    CreateQuote,
    FindClients,
    FindInvoices,
    FindQuotes,
    GetClient,
    GetClientStatement,
    GetInvoice,
    GetQuote,
    RegisterInvoicePayment,
    UpdateClient,
    VoidInvoice,
)
from application.invoicing.views import (
    ClientCursor,
    ClientStatementView,
    InvoiceCursor,
    InvoiceFilter,
    InvoiceSort,
    InvoiceSortField,
    QuoteCursor,
    QuoteFilter,
    SortDirection,
)
from domain.invoicing.clients import ContactInput
from domain.invoicing.invoices import InvoiceStatus
from domain.invoicing.lines import ZERO, LineInput
from domain.shared.errors import InvalidInput
from entrypoints.graphql.common import actor, bus, business_result

query = QueryType()
mutation = MutationType()
invoice_type = ObjectType("Invoice")
quote_type = ObjectType("Quote")

bindables = [query, mutation, invoice_type, quote_type]

EMPTY_PAGE = {"edges": [], "page_info": {"end_cursor": None, "has_next_page": False}}


def _contacts(items: list[dict[str, Any]] | None) -> tuple[ContactInput, ...]:
    return tuple(
        ContactInput(name=item["name"], email=item.get("email"), phone=item.get("phone"), role=item.get("role"))
        for item in items or ()
    )


def _lines(items: list[dict[str, Any]]) -> tuple[LineInput, ...]:
    return tuple(
        LineInput(
            description=item["description"],
            quantity=item["quantity"],
            unit_price=item["unit_price"],
            discount=ZERO if item.get("discount") is None else item["discount"],
            tax_rate=item["tax_rate"],
        )
        for item in items
    )


def _client_fields(input: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": input["name"],
        "taxpayer_type": input["taxpayer_type"],
        "ruc": input.get("ruc"),
        "dv": input.get("dv"),
        "address": input.get("address"),
        "contacts": _contacts(input.get("contacts")),
    }


def _document_fields(input: dict[str, Any]) -> dict[str, Any]:
    """What invoices and quotes are created from alike."""
    return {
        "number": input.get("number"),
        "client_id": input.get("client_id"),
        "client_name": input.get("client_name"),
        "client_ruc": input.get("client_ruc"),
        "client_dv": input.get("client_dv"),
        "ad_hoc_emails": tuple(input.get("ad_hoc_emails") or ()),
        "issue_date": input.get("issue_date"),
        "currency": input.get("currency"),  # none: the tenant profile's (USD without one)
        "lines": _lines(input["lines"]),
    }


E = TypeVar("E", bound=StrEnum)


def _one_of(enum: type[E], value: str, *, field: str) -> E:
    try:
        return enum(value)
    except ValueError:
        raise InvalidInput(f"{field} must be one of {', '.join(enum)}, not {value[:32]!r}", field=field) from None


def _page(page: Any, cursor: Any) -> dict[str, Any]:
    return {
        "edges": [{"cursor": cursor(item).encode(), "node": item} for item in page.items],
        "page_info": {"end_cursor": page.end_cursor, "has_next_page": page.has_next_page},
    }


# --- types --------------------------------------------------------------------------------


@invoice_type.field("client")
@quote_type.field("client")
def resolve_document_client(document: Any, info: GraphQLResolveInfo) -> Any:
    """The registered client, batched: a list of documents loads its clients in one query."""
    if document.client_id is None:
        return None
    return info.context["loaders"].clients_by_id.load(document.client_id)


def _statement(view: ClientStatementView) -> dict[str, Any]:
    statement = view.statement
    ageing = statement.ageing
    return {
        "client": view.client,
        "from": statement.period_from,
        "to": statement.period_to,
        "currency": statement.currency,
        "opening_balance": statement.opening_balance,
        "entries": statement.entries,
        "total_debits": statement.total_debits,
        "total_credits": statement.total_credits,
        "closing_balance": statement.closing_balance,
        "as_of": statement.as_of,
        "ageing": {
            "current": ageing.current,
            "days1_to30": ageing.days_1_30,
            "days31_to60": ageing.days_31_60,
            "days61_to90": ageing.days_61_90,
            "over90": ageing.over_90,
            "total": ageing.total,
        },
    }


# --- clients ------------------------------------------------------------------------------


@mutation.field("createClient")
@business_result(client=None)
def resolve_create_client(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:
    return {"client": bus(info).handle(CreateClient(actor=actor(info), **_client_fields(input)))}


@mutation.field("updateClient")
@business_result(client=None)
def resolve_update_client(_: Any, info: GraphQLResolveInfo, id: str, input: dict[str, Any]) -> dict[str, Any]:
    command = UpdateClient(actor=actor(info), client_id=id, **_client_fields(input))
    return {"client": bus(info).handle(command)}


@query.field("getClientById")
@business_result(client=None)
def resolve_get_client_by_id(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
    return {"client": bus(info).handle(GetClient(actor=actor(info), client_id=id))}


@query.field("clients")
@business_result(**EMPTY_PAGE)
def resolve_clients(
    _: Any,
    info: GraphQLResolveInfo,
    search: str | None = None,
    first: int | None = None,
    after: str | None = None,
) -> dict[str, Any]:
    page = bus(info).handle(FindClients(actor=actor(info), search=search, first=first, after=after))
    return _page(page, ClientCursor.of)


# --- invoices -----------------------------------------------------------------------------


@mutation.field("createInvoice")
@business_result(invoice=None)
def resolve_create_invoice(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:
    command = CreateInvoice(
        actor=actor(info),
        due_date=input.get("due_date"),
        pac_document_id=input.get("pac_document_id"),
        **_document_fields(input),
    )
    return {"invoice": bus(info).handle(command)}


@mutation.field("registerInvoicePayment")
@business_result(invoice=None, payment=None)
def resolve_register_invoice_payment(
    _: Any, info: GraphQLResolveInfo, input: dict[str, Any]
) -> dict[str, Any]:
    registered = bus(info).handle(
        RegisterInvoicePayment(
            actor=actor(info),
            invoice_id=input["invoice_id"],
            amount=input["amount"],
            method=input["method"],
            date=input.get("date"),
            reference=input.get("reference"),
        )
    )
    return {"invoice": registered.invoice, "payment": registered.payment}


@mutation.field("voidInvoice")
@business_result(invoice=None)
def resolve_void_invoice(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
    return {"invoice": bus(info).handle(VoidInvoice(actor=actor(info), invoice_id=id))}


@query.field("getInvoiceById")
@business_result(invoice=None)
def resolve_get_invoice_by_id(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
    return {"invoice": bus(info).handle(GetInvoice(actor=actor(info), invoice_id=id))}


@query.field("invoices")
@business_result(**EMPTY_PAGE)
def resolve_invoices(
    _: Any,
    info: GraphQLResolveInfo,
    filter: dict[str, Any] | None = None,
    sort: dict[str, Any] | None = None,
    first: int | None = None,
    after: str | None = None,
) -> dict[str, Any]:
    filter, sort = filter or {}, sort or {}
    order = InvoiceSort(
        field=_one_of(InvoiceSortField, sort.get("field") or "DATE", field="sort.field"),
        direction=_one_of(SortDirection, sort.get("direction") or "DESC", field="sort.direction"),
    )
    page = bus(info).handle(
        FindInvoices(
            actor=actor(info),
            filter=InvoiceFilter(
                client_id=filter.get("client_id"),
                statuses=frozenset(
                    _one_of(InvoiceStatus, status, field="filter.status") for status in filter.get("status") or ()
                ),
                due_before=filter.get("due_before"),
                due_after=filter.get("due_after"),
            ),
            sort=order,
            first=first,
            after=after,
        )
    )
    return _page(page, lambda view: InvoiceCursor.of(view, order))


# --- quotes -------------------------------------------------------------------------------


@mutation.field("createQuote")
@business_result(quote=None)
def resolve_create_quote(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:
    command = CreateQuote(actor=actor(info), valid_until=input.get("valid_until"), **_document_fields(input))
    return {"quote": bus(info).handle(command)}


@query.field("getQuoteById")
@business_result(quote=None)
def resolve_get_quote_by_id(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
    return {"quote": bus(info).handle(GetQuote(actor=actor(info), quote_id=id))}


@query.field("quotes")
@business_result(**EMPTY_PAGE)
def resolve_quotes(
    _: Any,
    info: GraphQLResolveInfo,
    filter: dict[str, Any] | None = None,
    first: int | None = None,
    after: str | None = None,
) -> dict[str, Any]:
    page = bus(info).handle(
        FindQuotes(
            actor=actor(info),
            filter=QuoteFilter(client_id=(filter or {}).get("client_id")),
            first=first,
            after=after,
        )
    )
    return _page(page, QuoteCursor.of)


# --- statements ---------------------------------------------------------------------------


@query.field("clientStatement")
@business_result(statement=None)
def resolve_client_statement(
    _: Any, info: GraphQLResolveInfo, client_id: str, to: Any, currency: str | None = None, **kwargs: Any
) -> dict[str, Any]:
    view = bus(info).handle(
        GetClientStatement(
            actor=actor(info),
            client_id=client_id,
            period_from=kwargs["from"],
            period_to=to,
            currency=currency,
            as_of=kwargs.get("as_of"),
        )
    )
    return {"statement": _statement(view)}
