"""GraphQL of PDF templates: the PdfTemplate type, its queries and its mutations."""

from __future__ import annotations

from typing import Any

from ariadne import MutationType, QueryType
from graphql import GraphQLResolveInfo

from application.pdf_templates.commands import (
    CreatePdfTemplate,
    DeletePdfTemplate,
    FindPdfTemplates,
    GetPdfTemplate,
    UpdatePdfTemplate,
)
from domain.pdf_templates.model import PdfTemplateInput
from entrypoints.graphql.common import actor, bus, business_result
from entrypoints.graphql.api import ApiDomain

query = QueryType()
mutation = MutationType()

bindables = [query, mutation]
API = ApiDomain(bindables, sdl=("pdf_templates.graphql",))


def template_input(input: dict[str, Any]) -> PdfTemplateInput:
    return PdfTemplateInput(
        name=input.get("name"),
        is_default=bool(input.get("is_default")),
        logo_file_id=input.get("logo_file_id"),
        primary_color=input.get("primary_color"),
        secondary_color=input.get("secondary_color"),
        header_text=input.get("header_text"),
        footer_disclaimer=input.get("footer_disclaimer"),
        paper_size=input.get("paper_size"),
        locale=input.get("locale"),
        custom_css=input.get("custom_css"),
        custom_body_template=input.get("custom_body_template"),
    )


@query.field("pdfTemplates")
@business_result(pdf_templates=[])
def resolve_pdf_templates(
    _: Any, info: GraphQLResolveInfo, document_type: str | None = None
) -> dict[str, Any]:
    find = FindPdfTemplates(actor=actor(info), document_type=document_type)
    return {"pdf_templates": bus(info).handle(find)}


@query.field("getPdfTemplateById")
@business_result(pdf_template=None)
def resolve_get_pdf_template_by_id(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
    return {"pdf_template": bus(info).handle(GetPdfTemplate(actor=actor(info), template_id=id))}


@mutation.field("createPdfTemplate")
@business_result(pdf_template=None)
def resolve_create_pdf_template(
    _: Any, info: GraphQLResolveInfo, document_type: str, input: dict[str, Any]
) -> dict[str, Any]:
    command = CreatePdfTemplate(
        actor=actor(info), document_type=document_type, template=template_input(input)
    )
    return {"pdf_template": bus(info).handle(command)}


@mutation.field("updatePdfTemplate")
@business_result(pdf_template=None)
def resolve_update_pdf_template(
    _: Any, info: GraphQLResolveInfo, id: str, version: int, input: dict[str, Any]
) -> dict[str, Any]:
    command = UpdatePdfTemplate(
        actor=actor(info), template_id=id, version=version, template=template_input(input)
    )
    return {"pdf_template": bus(info).handle(command)}


@mutation.field("deletePdfTemplate")
@business_result(deleted_id=None)
def resolve_delete_pdf_template(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
    return {"deleted_id": bus(info).handle(DeletePdfTemplate(actor=actor(info), template_id=id))}
