"""GraphQL of tenancy: who is asking."""

from __future__ import annotations

from typing import Any

from ariadne import QueryType
from graphql import GraphQLResolveInfo

from entrypoints.graphql.common import actor
from entrypoints.graphql.api import ApiDomain

query = QueryType()
bindables = [query]
API = ApiDomain(bindables)  # its types are in schema/base.graphql


@query.field("me")
def resolve_me(_: Any, info: GraphQLResolveInfo) -> dict[str, str]:
    who = actor(info)
    return {"tenant_id": who.tenant_id, "user_id": who.user_id, "role": who.role.value}
