"""GraphQL of credit notes: issue one against an invoice, list and read them."""

from __future__ import annotations

from typing import Any

from ariadne import MutationType, ObjectType, QueryType
from graphql import GraphQLResolveInfo

from application.invoicing.commands import GetInvoice
from application.invoicing.credit_notes import CreateCreditNote, FindCreditNotes, GetCreditNote
from entrypoints.graphql.common import actor, bus, business_result
from entrypoints.graphql.invoicing.documents import _lines

query = QueryType()
mutation = MutationType()
credit_note_type = ObjectType("CreditNote")

bindables = [query, mutation, credit_note_type]


@mutation.field("createCreditNote")
@business_result(credit_note=None, invoice=None)
def resolve_create_credit_note(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:
    who = actor(info)
    note = bus(info).handle(
        CreateCreditNote(
            actor=who,
            invoice_id=input["invoice_id"],
            reason=input["reason"],
            lines=_lines(input.get("lines") or []),
            full=bool(input.get("full")),
            issue_date=input.get("issue_date"),
            number=input.get("number"),
            pac_document_id=input.get("pac_document_id"),
        )
    )
    invoice = bus(info).handle(GetInvoice(actor=who, invoice_id=note.invoice_id))
    return {"credit_note": note, "invoice": invoice}


@query.field("creditNotes")
@business_result(credit_notes=[])
def resolve_credit_notes(
    _: Any, info: GraphQLResolveInfo, invoice_id: str | None = None, first: int | None = None
) -> dict[str, Any]:
    return {"credit_notes": bus(info).handle(FindCreditNotes(actor=actor(info), invoice_id=invoice_id, first=first))}


@query.field("getCreditNoteById")
@business_result(credit_note=None, invoice=None)
def resolve_get_credit_note(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
    return {"credit_note": bus(info).handle(GetCreditNote(actor=actor(info), credit_note_id=id)), "invoice": None}
