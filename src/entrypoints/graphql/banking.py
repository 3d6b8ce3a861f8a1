"""GraphQL of banking: accounts, statements and transactions imported by document intake, and the
column profiles that read other banks' exports."""

from __future__ import annotations

from typing import Any

from ariadne import MutationType, QueryType
from graphql import GraphQLResolveInfo

from application.banking.commands import (
    FindBankAccounts,
    FindBankImportProfiles,
    FindBankStatements,
    FindBankTransactions,
    SaveBankImportProfile,
)
from application.shared.cursors import Cursor
from entrypoints.graphql.api import ApiDomain
from entrypoints.graphql.common import actor, bus, business_result

query = QueryType()
mutation = MutationType()

bindables = [query, mutation]
API = ApiDomain(bindables, sdl=("banking.graphql",))

EMPTY_PAGE = {"edges": [], "page_info": {"end_cursor": None, "has_next_page": False}}


def _connection(page: Any, key: Any) -> dict[str, Any]:
    return {
        "edges": [{"cursor": key(item).encode(), "node": item} for item in page.items],
        "page_info": {"end_cursor": page.end_cursor, "has_next_page": page.has_next_page},
    }


@query.field("bankAccounts")
@business_result(items=[])
def resolve_bank_accounts(_: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
    return {"items": bus(info).handle(FindBankAccounts(actor=actor(info)))}


@query.field("bankImportProfiles")
@business_result(items=[])
def resolve_bank_import_profiles(_: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
    return {"items": bus(info).handle(FindBankImportProfiles(actor=actor(info)))}


@query.field("bankStatements")
@business_result(**EMPTY_PAGE)
def resolve_bank_statements(
    _: Any, info: GraphQLResolveInfo, account_id: str | None = None, first: int | None = None, after: str | None = None
) -> dict[str, Any]:
    page = bus(info).handle(FindBankStatements(actor=actor(info), account_id=account_id, first=first, after=after))
    return _connection(page, lambda s: Cursor(s.created_at.isoformat(), s.id))


@query.field("bankTransactions")
@business_result(**EMPTY_PAGE)
def resolve_bank_transactions(
    _: Any, info: GraphQLResolveInfo, account_id: str, to: Any = None, search: str | None = None,
    first: int | None = None, after: str | None = None, **kwargs: Any,
) -> dict[str, Any]:
    page = bus(info).handle(FindBankTransactions(
        actor=actor(info), account_id=account_id, booked_from=kwargs.get("from"), booked_to=to, search=search,
        first=first, after=after,
    ))
    return _connection(page, lambda t: Cursor(t.booked_on.isoformat(), t.id))


@mutation.field("saveBankImportProfile")
@business_result(profile=None)
def resolve_save_bank_import_profile(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:
    given = {key: value for key, value in input.items() if value is not None}
    return {"profile": bus(info).handle(SaveBankImportProfile(actor=actor(info), **given))}
