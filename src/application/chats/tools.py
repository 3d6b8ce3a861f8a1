"""The assistant's tools: read-only questions over the tenant's own records.

Each tool has a strict JSON Schema; the model's arguments are validated against it before any
query runs, and a bad argument (or a refused query) goes back to the model as a tool error. Every
tool runs the application's queries through the bus with the actor of the chat (its tenant and
user), so no tool takes a tenant id and none can write. Results are compact JSON with row caps and
a ``truncated`` flag; money is a decimal string beside its currency.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from application.chats.ports import ToolSpec
from application.emails.commands import FindEmailMessages
from application.files.commands import FindFilesByEntities, FindFilesByName
from application.invoicing.statements import GetClientBalance
from application.invoicing.commands import (
    FindClients,
    FindInvoiceSummaries,
    FindQuotes,
    GetClient,
    GetClientStatement,
    GetInvoice,
    GetInvoiceTotals,
)
from application.whatsapp.commands import FindWhatsappMessages
from application.whatsapp.views import WhatsappMessageFilter
from application.files.views import EntityRef
from domain.files.model import EntityType
from application.invoicing.views import (
    InvoiceFilter,
    InvoiceSort,
    InvoiceSortField,
    InvoiceSummaryView,
    InvoiceView,
    QuoteFilter,
    SortDirection,
)
from application.shared.modules import Messages
from domain.invoicing.invoices import InvoiceStatus
from domain.invoicing.values import Currency
from domain.shared.errors import DomainError
from domain.tenancy.model import Actor

MAX_ROWS = 50
_UUID = {"type": "string", "pattern": "^[0-9a-fA-F-]{36}$"}
_DATE = {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
_MONEY = {"type": "string", "pattern": "^[0-9]{1,13}(\\.[0-9]{1,2})?$"}
_OPEN = frozenset({InvoiceStatus.UNPAID, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.PAST_DUE})


def _schema(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


class ToolArgumentError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class ToolContext:
    actor: Actor
    messages: Messages
    today: date


@dataclass(frozen=True, slots=True)
class Tool:
    spec: ToolSpec
    run: Callable[[ToolContext, dict[str, Any]], dict[str, Any]]


def _money(value: Decimal) -> str:
    return format(value, "f")


def _invoice_row(view: InvoiceView | InvoiceSummaryView, today: date) -> dict[str, Any]:
    return {
        "id": view.id, "number": view.number, "client": view.client_name, "client_id": view.client_id,
        "issue_date": view.issue_date.isoformat(), "due_date": view.due_date.isoformat(),
        "days_overdue": max(0, (today - view.due_date).days) if view.status in _OPEN else 0,
        "currency": str(view.currency), "total": _money(view.total), "paid": _money(view.paid),
        "balance": _money(view.balance), "itbms": _money(view.tax_total), "status": str(view.status),
    }


def _d(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


# --- the tools ------------------------------------------------------------------------------


def search_clients(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    limit = args.get("limit", 10)
    page = ctx.messages.handle(FindClients(actor=ctx.actor, search=args["query"], first=limit))
    rows = [{"id": c.id, "name": c.name, "ruc": c.ruc, "dv": c.dv} for c in page.items]
    return {"clients": rows, "truncated": page.has_next_page}


_STATUS = {
    "unpaid": _OPEN, "paid": frozenset({InvoiceStatus.PAID}), "partially_paid": frozenset({InvoiceStatus.PARTIALLY_PAID}),
    "past_due": frozenset({InvoiceStatus.PAST_DUE}), "void": frozenset({InvoiceStatus.VOID}), "any": frozenset(),
}


def _invoice_filter(ctx: ToolContext, args: dict[str, Any]) -> InvoiceFilter:
    """Every argument of ``list_invoices`` as the invoicing query's filter: all of it runs in SQL."""
    statuses = _STATUS[args.get("status", "any")]
    overdue = args.get("overdue_more_than_days")
    due_before = ctx.today - timedelta(days=overdue) if overdue is not None else None
    if overdue is not None and not statuses:
        statuses = _OPEN
    low, high = args.get("min_amount"), args.get("max_amount")
    return InvoiceFilter(
        client_id=args.get("client_id"), statuses=statuses, due_before=due_before,
        issued_from=_d(args.get("issued_from")), issued_to=_d(args.get("issued_to")),
        min_total=None if low is None else Decimal(low), max_total=None if high is None else Decimal(high),
        currency=Currency(args["currency"]) if "currency" in args else None,
    )


_SORTS = {
    f"{name}_{direction.value.lower()}": InvoiceSort(field=field, direction=direction)
    for name, field in (("date", InvoiceSortField.DATE), ("balance", InvoiceSortField.BALANCE), ("due_date", InvoiceSortField.DUE_DATE))
    for direction in SortDirection
}


def list_invoices(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    """One query: the filter, the sort and the limit all go to SQL (an index serves each sort)."""
    limit = args.get("limit", 10)
    default = "due_date_asc" if "overdue_more_than_days" in args else "date_desc"
    sort = _SORTS[args.get("sort", default)]
    page = ctx.messages.handle(FindInvoiceSummaries(actor=ctx.actor, filter=_invoice_filter(ctx, args), sort=sort, first=limit))
    return {"invoices": [_invoice_row(v, ctx.today) for v in page.items], "truncated": page.has_next_page}


def get_invoice(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    view = ctx.messages.handle(GetInvoice(actor=ctx.actor, invoice_id=args["invoice_id"]))
    row = _invoice_row(view, ctx.today)
    row["lines"] = [
        {"description": line.description, "quantity": _money(line.quantity), "unit_price": _money(line.unit_price),
         "discount": _money(line.discount), "itbms_rate": line.tax_rate, "amount": _money(line.amount)}
        for line in view.lines[:MAX_ROWS]
    ]
    row["payments"] = [
        {"date": p.date.isoformat(), "amount": _money(p.amount), "method": str(p.method), "reference": p.reference}
        for p in view.payments[:MAX_ROWS]
    ]
    row["truncated"] = len(view.lines) > MAX_ROWS or len(view.payments) > MAX_ROWS
    return row


def client_balance(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    """What the client owes today, by age (a statement's closing balance and ageing, summed by invoicing)."""
    result = ctx.messages.handle(GetClientBalance(
        actor=ctx.actor, client_id=args["client_id"], currency=args.get("currency"), as_of=ctx.today,
    ))
    ageing = result.ageing
    return {
        "client": result.client_name, "client_id": result.client_id, "currency": str(result.currency),
        "as_of": result.as_of.isoformat(), "balance": _money(result.balance),
        "ageing": {"current": _money(ageing.current), "1_30": _money(ageing.days_1_30), "31_60": _money(ageing.days_31_60),
                   "61_90": _money(ageing.days_61_90), "over_90": _money(ageing.over_90)},
    }


def client_statement(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    result = ctx.messages.handle(GetClientStatement(
        actor=ctx.actor, client_id=args["client_id"], period_from=date.fromisoformat(args["from"]),
        period_to=date.fromisoformat(args["to"]), currency=args.get("currency"),
    ))
    s = result.statement
    currency = str(s.currency)
    entries = [
        {"date": e.date.isoformat(), "kind": str(e.kind), "invoice": e.invoice_number, "debit": _money(e.debit),
         "credit": _money(e.credit), "balance": _money(e.balance)}
        for e in s.entries[:MAX_ROWS]
    ]
    return {
        "client": result.client.name, "currency": currency, "opening_balance": _money(s.opening_balance),
        "total_debits": _money(s.total_debits), "total_credits": _money(s.total_credits),
        "closing_balance": _money(s.closing_balance), "entries": entries, "truncated": len(s.entries) > MAX_ROWS,
    }


def period_totals(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    """Invoiced, collected and outstanding on the invoices issued in the period, and their ITBMS by
    rate: sums the database makes (one query for the figures, one over the lines), never capped."""
    start, end = date.fromisoformat(args["from"]), date.fromisoformat(args["to"])
    if end < start:
        raise ToolArgumentError("to must not be before from")
    totals = ctx.messages.handle(GetInvoiceTotals(actor=ctx.actor, period_from=start, period_to=end, currency=args.get("currency")))
    return {
        "from": start.isoformat(), "to": end.isoformat(), "currency": str(totals.currency), "invoices": totals.invoices,
        "invoiced": _money(totals.total), "collected": _money(totals.paid), "outstanding": _money(totals.balance),
        "itbms_total": _money(totals.tax_total),
        "itbms_by_rate": [{"rate": t.rate, "base": _money(t.base), "itbms": _money(t.tax)} for t in totals.taxes],
    }


def list_quotes(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    limit = args.get("limit", 10)
    page = ctx.messages.handle(FindQuotes(actor=ctx.actor, filter=QuoteFilter(client_id=args.get("client_id")), first=limit))
    rows = [
        {"id": q.id, "number": q.number, "client": q.client_name, "issue_date": q.issue_date.isoformat(),
         "valid_until": q.valid_until.isoformat(), "currency": str(q.currency), "total": _money(q.total), "status": str(q.status)}
        for q in page.items
    ]
    return {"quotes": rows, "truncated": page.has_next_page}


def find_files(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    if "name" in args:
        views = ctx.messages.handle(FindFilesByName(actor=ctx.actor, name=args["name"]))
    elif "entity_type" in args and "entity_id" in args:
        ref = EntityRef(entity_type=EntityType.parse(args["entity_type"]), entity_id=args["entity_id"])
        views = ctx.messages.handle(FindFilesByEntities(actor=ctx.actor, refs=(ref,))).get(ref, [])
    else:
        raise ToolArgumentError("give name, or entity_type and entity_id")
    rows = [{"id": f.id, "name": f.name, "mime": f.mime, "size": f.size, "created_at": f.created_at.isoformat()} for f in views[:MAX_ROWS]]
    return {"files": rows, "truncated": len(views) > MAX_ROWS}


def recent_messages(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    """The newest e-mails to the client's contacts and WhatsApp messages with the client."""
    limit = args.get("limit", 10)
    client = ctx.messages.handle(GetClient(actor=ctx.actor, client_id=args["client_id"]))
    addresses = {c.email.lower() for c in client.contacts if c.email}
    found: list[dict[str, Any]] = []
    notes: list[str] = []
    try:
        page = ctx.messages.handle(FindEmailMessages(actor=ctx.actor, first=200))
        for email in page.items:
            if addresses & {a.lower() for a in (*email.to, *email.cc)}:
                found.append({"channel": "email", "at": email.created_at.isoformat(), "direction": str(email.direction),
                              "status": str(email.status), "subject": email.subject[:200]})
    except LookupError:
        notes.append("e-mail is not enabled")
    try:
        flt = WhatsappMessageFilter(client_id=client.id)
        page = ctx.messages.handle(FindWhatsappMessages(actor=ctx.actor, filter=flt, first=limit))
        for message in page.items:
            found.append({"channel": "whatsapp", "at": message.created_at.isoformat(), "direction": str(message.direction),
                          "status": str(message.status), "text": (message.text or message.caption or message.template_name or "")[:200]})
    except LookupError:
        notes.append("WhatsApp is not enabled")
    found.sort(key=lambda row: row["at"], reverse=True)
    return {"client": client.name, "messages": found[:limit], "truncated": len(found) > limit, "notes": notes}


_LIMIT = {"type": "integer", "minimum": 1, "maximum": MAX_ROWS}
_CURRENCY = {"type": "string", "enum": ["USD", "PAB"]}

TOOLS: dict[str, Tool] = {
    tool.spec.name: tool
    for tool in (
        Tool(ToolSpec(name="search_clients", description="Find the tenant's clients by part of their name or RUC.",
                      parameters=_schema({"query": {"type": "string", "minLength": 1, "maxLength": 100}, "limit": _LIMIT}, ("query",))),
             search_clients),
        Tool(ToolSpec(
            name="list_invoices",
            description=(
                "List invoices with filters. status 'unpaid' means anything with a balance (unpaid, partially paid, past due). "
                "overdue_more_than_days: due more than N days ago and still open (sorted most overdue first unless sort is given). "
                "sort 'balance_desc' gives the biggest balances first; 'date' is the issue date, 'due_date' the due date."
            ),
            parameters=_schema({
                "status": {"type": "string", "enum": list(_STATUS)},
                "client_id": _UUID, "overdue_more_than_days": {"type": "integer", "minimum": 0, "maximum": 3650},
                "issued_from": _DATE, "issued_to": _DATE, "min_amount": _MONEY, "max_amount": _MONEY, "currency": _CURRENCY,
                "sort": {"type": "string", "enum": list(_SORTS)}, "limit": _LIMIT,
            })), list_invoices),
        Tool(ToolSpec(name="get_invoice", description="One invoice with its lines and payments.",
                      parameters=_schema({"invoice_id": _UUID}, ("invoice_id",))), get_invoice),
        Tool(ToolSpec(name="client_balance", description="What a client owes today, with ageing buckets (current, 1-30, 31-60, 61-90, over 90 days).",
                      parameters=_schema({"client_id": _UUID, "currency": _CURRENCY}, ("client_id",))), client_balance),
        Tool(ToolSpec(name="client_statement", description="A client's statement of account for a period.",
                      parameters=_schema({"client_id": _UUID, "from": _DATE, "to": _DATE, "currency": _CURRENCY}, ("client_id", "from", "to"))),
             client_statement),
        Tool(ToolSpec(name="period_totals",
                      description="Totals of the invoices issued in a period (not void): invoiced, collected, outstanding, ITBMS by rate.",
                      parameters=_schema({"from": _DATE, "to": _DATE, "currency": _CURRENCY}, ("from", "to"))), period_totals),
        Tool(ToolSpec(name="list_quotes", description="The tenant's quotes, newest first, optionally of one client.",
                      parameters=_schema({"client_id": _UUID, "limit": _LIMIT})), list_quotes),
        Tool(ToolSpec(name="find_files", description="Find stored files by name, or those linked to an entity (e.g. INVOICE and its id).",
                      parameters=_schema({"name": {"type": "string", "minLength": 1, "maxLength": 255},
                                          "entity_type": {"type": "string", "enum": [t.value for t in EntityType]},
                                          "entity_id": {"type": "string", "minLength": 1, "maxLength": 128}})), find_files),
        Tool(ToolSpec(name="recent_messages", description="The newest e-mails and WhatsApp messages exchanged with a client.",
                      parameters=_schema({"client_id": _UUID, "limit": _LIMIT}, ("client_id",))), recent_messages),
    )
}
_VALIDATORS = {name: Draft202012Validator(tool.spec.parameters, format_checker=FormatChecker()) for name, tool in TOOLS.items()}


def tool_specs() -> tuple[ToolSpec, ...]:
    return tuple(tool.spec for tool in TOOLS.values())


def run_tool(ctx: ToolContext, name: str, raw_arguments: str) -> tuple[str, bool]:
    """The tool's result as compact JSON, and whether it is an error (told to the model, never raised)."""
    tool = TOOLS.get(name)
    if tool is None:
        return _error(f"there is no tool named {name[:64]!r}"), True
    try:
        arguments = json.loads(raw_arguments or "{}")
    except ValueError:
        return _error("the arguments are not valid JSON"), True
    errors = sorted(_VALIDATORS[name].iter_errors(arguments), key=lambda e: list(e.absolute_path))
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "arguments"
        return _error(f"invalid argument {where}: {errors[0].message[:200]}"), True
    try:
        result = tool.run(ctx, arguments)
    except (DomainError, ToolArgumentError, ValueError) as error:
        text = error.message if isinstance(error, DomainError) else str(error)
        return _error(text[:300]), True
    return json.dumps(result, ensure_ascii=False, separators=(",", ":")), False


def _error(message: str) -> str:
    return json.dumps({"error": message}, ensure_ascii=False)
