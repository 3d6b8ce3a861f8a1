"""GraphQL of PDF rendering: documents rendered into the tenant's files (the File type of files)."""

from __future__ import annotations

from typing import Any

from ariadne import MutationType
from graphql import GraphQLResolveInfo

from application.pdf.commands import (
    PreviewPdfTemplate,
    RenderCreditNotePdf,
    RenderInvoicePdf,
    RenderQuotePdf,
    RenderStatementPdf,
)
from entrypoints.graphql.common import actor, bus, business_result
from entrypoints.graphql.pdf_templates import template_input
from entrypoints.graphql.api import RENDER, ApiDomain

mutation = MutationType()

bindables = [mutation]
API = ApiDomain(
    bindables,
    sdl=("pdf.graphql",),
    costs={"Mutation": dict.fromkeys(
        ("renderInvoicePdf", "renderCreditNotePdf", "renderQuotePdf", "renderStatementPdf", "previewPdfTemplate"),
        RENDER,
    )},
)


@mutation.field("renderInvoicePdf")
@business_result(file=None)
def resolve_render_invoice_pdf(
    _: Any, info: GraphQLResolveInfo, invoice_id: str, template_id: str | None = None
) -> dict[str, Any]:
    command = RenderInvoicePdf(actor=actor(info), invoice_id=invoice_id, template_id=template_id)
    return {"file": bus(info).handle(command)}


@mutation.field("renderCreditNotePdf")
@business_result(file=None)
def resolve_render_credit_note_pdf(
    _: Any, info: GraphQLResolveInfo, credit_note_id: str, template_id: str | None = None
) -> dict[str, Any]:
    command = RenderCreditNotePdf(actor=actor(info), credit_note_id=credit_note_id, template_id=template_id)
    return {"file": bus(info).handle(command)}


@mutation.field("renderQuotePdf")
@business_result(file=None)
def resolve_render_quote_pdf(
    _: Any, info: GraphQLResolveInfo, quote_id: str, template_id: str | None = None
) -> dict[str, Any]:
    command = RenderQuotePdf(actor=actor(info), quote_id=quote_id, template_id=template_id)
    return {"file": bus(info).handle(command)}


@mutation.field("renderStatementPdf")
@business_result(file=None)
def resolve_render_statement_pdf(
    _: Any,
    info: GraphQLResolveInfo,
    client_id: str,
    to: Any,
    currency: str | None = None,
    template_id: str | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    command = RenderStatementPdf(
        actor=actor(info),
        client_id=client_id,
        period_from=kwargs["from"],
        period_to=to,
        currency=currency,
        template_id=template_id,
        as_of=kwargs.get("as_of"),
    )
    return {"file": bus(info).handle(command)}


@mutation.field("previewPdfTemplate")
@business_result(file=None)
def resolve_preview_pdf_template(
    _: Any,
    info: GraphQLResolveInfo,
    document_type: str,
    template_id: str | None = None,
    template: dict[str, Any] | None = None,
) -> dict[str, Any]:
    command = PreviewPdfTemplate(
        actor=actor(info),
        document_type=document_type,
        template_id=template_id,
        template=None if template is None else template_input(template),
    )
    return {"file": bus(info).handle(command)}
