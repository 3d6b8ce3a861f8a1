"""GraphQL of the Aurinko connector and the synced inbox."""

from __future__ import annotations

import asyncio
from typing import Any

from ariadne import MutationType, ObjectType, QueryType
from graphql import GraphQLResolveInfo

from application.integrations.aurinko.commands import (
    ConnectAurinko,
    DisconnectAurinko,
    FindInboxMessages,
    GetAurinkoAuthorizationUrl,
    GetAurinkoConnection,
    SyncInbox,
)
from application.integrations.aurinko.views import InboxCursor, InboxMessageView
from entrypoints.graphql.common import actor, bus, business_result
from entrypoints.graphql.api import SEND, ApiDomain

query = QueryType()
mutation = MutationType()
inbox_message = ObjectType("InboxMessage")

bindables = [query, mutation, inbox_message]
API = ApiDomain(bindables, sdl=("aurinko.graphql",), costs={"Mutation": dict.fromkeys(("connectAurinko", "syncInbox"), SEND)})

EMPTY_PAGE = {"edges": [], "page_info": {"end_cursor": None, "has_next_page": False}}


@query.field("getAurinkoAuthorizationUrl")
@business_result(authorization=None)
def resolve_get_aurinko_authorization_url(
    _: Any, info: GraphQLResolveInfo, service_type: str, scopes: list[str] | None = None
) -> dict[str, Any]:
    view = bus(info).handle(
        GetAurinkoAuthorizationUrl(
            actor=actor(info), service_type=service_type, scopes=tuple(scopes) if scopes is not None else None
        )
    )
    return {"authorization": view}


@query.field("getAurinkoConnection")
@business_result(connection=None)
def resolve_get_aurinko_connection(_: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
    return {"connection": bus(info).handle(GetAurinkoConnection(actor=actor(info)))}


@mutation.field("connectAurinko")
@business_result(connection=None)
def resolve_connect_aurinko(_: Any, info: GraphQLResolveInfo, code: str, state: str) -> dict[str, Any]:
    return {"connection": bus(info).handle(ConnectAurinko(actor=actor(info), code=code, state=state))}


@mutation.field("disconnectAurinko")
@business_result(connection=None)
def resolve_disconnect_aurinko(_: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
    return {"connection": bus(info).handle(DisconnectAurinko(actor=actor(info)))}


@mutation.field("syncInbox")
@business_result(job_id=None)
def resolve_sync_inbox(_: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
    return {"job_id": bus(info).handle(SyncInbox(actor=actor(info)))}


@query.field("inboxMessages")
@business_result(**EMPTY_PAGE)
def resolve_inbox_messages(
    _: Any,
    info: GraphQLResolveInfo,
    client_id: str | None = None,
    thread_id: str | None = None,
    search: str | None = None,
    include_deleted: bool | None = None,
    first: int | None = None,
    after: str | None = None,
) -> dict[str, Any]:
    page = bus(info).handle(
        FindInboxMessages(
            actor=actor(info), client_id=client_id, thread_id=thread_id, search=search,
            include_deleted=bool(include_deleted), first=first, after=after,
        )
    )
    return {
        "edges": [{"cursor": InboxCursor.of(item).encode(), "node": item} for item in page.items],
        "page_info": {"end_cursor": page.end_cursor, "has_next_page": page.has_next_page},
    }


@inbox_message.field("from")
def resolve_from(message: InboxMessageView, _info: GraphQLResolveInfo) -> Any:
    return message.sender


@inbox_message.field("clients")
async def resolve_clients(message: InboxMessageView, info: GraphQLResolveInfo) -> list[Any]:
    loader = info.context["loaders"].clients_by_id
    found = await asyncio.gather(*(loader.load(client_id) for client_id in message.client_ids))
    return [client for client in found if client is not None]
