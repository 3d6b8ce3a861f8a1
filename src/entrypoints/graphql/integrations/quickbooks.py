"""GraphQL of the QuickBooks Online connector."""

from __future__ import annotations

from typing import Any

from ariadne import MutationType, ObjectType, QueryType
from graphql import GraphQLResolveInfo

from application.integrations.quickbooks.commands import (
    DisconnectQuickbooks,
    ExchangeQboAuthorizationCode,
    FindQuickbooksSyncItems,
    GetQboAuthorizationUrl,
    GetQuickbooksConnection,
    RetryQuickbooksSync,
    SetQuickbooksMappings,
    SyncQuickbooks,
)
from application.integrations.quickbooks.views import ConnectionView, SyncItemCursor
from entrypoints.graphql.api import SEND, ApiDomain
from entrypoints.graphql.common import actor, bus, business_result

query = QueryType()
mutation = MutationType()
connection_type = ObjectType("QuickbooksConnection")

bindables = [query, mutation, connection_type]
API = ApiDomain(
    bindables,
    sdl=("quickbooks.graphql",),
    costs={"Mutation": {"exchangeQboAuthorizationCode": SEND, "syncQuickbooks": SEND * 4, "disconnectQuickbooks": SEND}},
)

EMPTY_PAGE = {"edges": [], "page_info": {"end_cursor": None, "has_next_page": False}}


@query.field("getQboAuthorizationUrl")
@business_result(authorization=None)
def resolve_get_qbo_authorization_url(_: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
    return {"authorization": bus(info).handle(GetQboAuthorizationUrl(actor=actor(info)))}


@query.field("getQuickbooksConnection")
@business_result(connection=None)
def resolve_get_quickbooks_connection(_: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
    return {"connection": bus(info).handle(GetQuickbooksConnection(actor=actor(info)))}


@mutation.field("exchangeQboAuthorizationCode")
@business_result(connection=None)
def resolve_exchange(_: Any, info: GraphQLResolveInfo, code: str, state: str, realm_id: str) -> dict[str, Any]:
    command = ExchangeQboAuthorizationCode(actor=actor(info), code=code, state=state, realm_id=realm_id)
    return {"connection": bus(info).handle(command)}


@mutation.field("disconnectQuickbooks")
@business_result(connection=None)
def resolve_disconnect(_: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
    return {"connection": bus(info).handle(DisconnectQuickbooks(actor=actor(info)))}


@mutation.field("setQuickbooksMappings")
@business_result(connection=None)
def resolve_set_mappings(
    _: Any, info: GraphQLResolveInfo, item_id: str, tax_codes: list[dict[str, Any]], income_account_id: str | None = None
) -> dict[str, Any]:
    codes: dict[object, object] = {}
    for entry in tax_codes:
        if entry["rate"] in codes:
            codes[f"{entry['rate']} (again)"] = entry["tax_code_id"]  # refused by the domain, naming the rate
        else:
            codes[entry["rate"]] = entry["tax_code_id"]
    command = SetQuickbooksMappings(
        actor=actor(info), item_id=item_id, income_account_id=income_account_id, tax_codes=codes
    )
    return {"connection": bus(info).handle(command)}


@mutation.field("syncQuickbooks")
@business_result(customers_queued=None, invoices_queued=None, job_id=None)
def resolve_sync(_: Any, info: GraphQLResolveInfo, full: bool | None = None) -> dict[str, Any]:
    queued = bus(info).handle(SyncQuickbooks(actor=actor(info), full=bool(full)))
    return {"customers_queued": queued.customers, "invoices_queued": queued.invoices, "job_id": queued.job_id}


@mutation.field("retryQuickbooksSync")
@business_result(item=None)
def resolve_retry(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
    return {"item": bus(info).handle(RetryQuickbooksSync(actor=actor(info), item_id=id))}


@query.field("quickbooksSyncItems")
@business_result(**EMPTY_PAGE)
def resolve_sync_items(
    _: Any, info: GraphQLResolveInfo, status: str | None = None, first: int | None = None, after: str | None = None
) -> dict[str, Any]:
    page = bus(info).handle(FindQuickbooksSyncItems(actor=actor(info), status=status, first=first, after=after))
    return {
        "edges": [{"cursor": SyncItemCursor.of(item).encode(), "node": item} for item in page.items],
        "page_info": {"end_cursor": page.end_cursor, "has_next_page": page.has_next_page},
    }


@connection_type.field("pendingCount")
def resolve_pending(view: ConnectionView, _info: GraphQLResolveInfo) -> int:
    return view.pending


@connection_type.field("failedCount")
def resolve_failed(view: ConnectionView, _info: GraphQLResolveInfo) -> int:
    return view.failed


@connection_type.field("syncedCount")
def resolve_synced(view: ConnectionView, _info: GraphQLResolveInfo) -> int:
    return view.synced
