"""GraphQL of document intake: ingest a stored file, follow its intake, run it again."""

from __future__ import annotations

from typing import Any

from ariadne import MutationType, ObjectType, QueryType
from graphql import GraphQLResolveInfo

from application.intake.commands import (
    FindDocumentIntakes,
    GetDocumentIntake,
    IngestFile,
    RetryDocumentIntake,
)
from application.intake.views import DocumentIntakeCursor, DocumentIntakeView
from entrypoints.graphql.api import SEND, ApiDomain
from entrypoints.graphql.common import actor, bus, business_result

query = QueryType()
mutation = MutationType()
intake_type = ObjectType("DocumentIntake")

bindables = [query, mutation, intake_type]
API = ApiDomain(bindables, sdl=("intake.graphql",), costs={"Mutation": {"ingestFile": SEND, "retryDocumentIntake": SEND}})

EMPTY_PAGE = {"edges": [], "page_info": {"end_cursor": None, "has_next_page": False}}


@intake_type.field("status")
def resolve_status(intake: DocumentIntakeView, _info: GraphQLResolveInfo) -> str:
    return str(intake.status)


@intake_type.field("kind")
def resolve_kind(intake: DocumentIntakeView, _info: GraphQLResolveInfo) -> str | None:
    return str(intake.kind) if intake.kind else None


@query.field("documentIntakes")
@business_result(**EMPTY_PAGE)
def resolve_document_intakes(
    _: Any, info: GraphQLResolveInfo, status: str | None = None, first: int | None = None, after: str | None = None
) -> dict[str, Any]:
    page = bus(info).handle(FindDocumentIntakes(actor=actor(info), status=status, first=first, after=after))
    return {
        "edges": [{"cursor": DocumentIntakeCursor.of(item).encode(), "node": item} for item in page.items],
        "page_info": {"end_cursor": page.end_cursor, "has_next_page": page.has_next_page},
    }


@query.field("getDocumentIntakeById")
@business_result(intake=None)
def resolve_get_document_intake(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
    return {"intake": bus(info).handle(GetDocumentIntake(actor=actor(info), intake_id=id))}


@mutation.field("ingestFile")
@business_result(intake=None)
def resolve_ingest_file(_: Any, info: GraphQLResolveInfo, file_id: str, kind: str | None = None) -> dict[str, Any]:
    return {"intake": bus(info).handle(IngestFile(actor=actor(info), file_id=file_id, kind=kind))}


@mutation.field("retryDocumentIntake")
@business_result(intake=None)
def resolve_retry_document_intake(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
    return {"intake": bus(info).handle(RetryDocumentIntake(actor=actor(info), intake_id=id))}
