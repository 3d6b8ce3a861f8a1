"""GraphQL of the tenant's fiscal profile: everyone reads it, owners and admins replace it."""

from __future__ import annotations

from typing import Any

from ariadne import MutationType, ObjectType, QueryType
from graphql import GraphQLResolveInfo

from application.invoicing.profiles import GetTenantProfile, UpdateTenantProfile
from entrypoints.graphql.common import actor, bus, business_result

query = QueryType()
mutation = MutationType()
profile_type = ObjectType("TenantProfile")

bindables = [query, mutation, profile_type]


@query.field("tenantProfile")
@business_result(profile=None)
def resolve_tenant_profile(_: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
    return {"profile": bus(info).handle(GetTenantProfile(actor=actor(info)))}


@mutation.field("updateTenantProfile")
@business_result(profile=None)
def resolve_update_tenant_profile(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:
    command = UpdateTenantProfile(
        actor=actor(info),
        legal_name=input["legal_name"],
        taxpayer_type=input["taxpayer_type"],
        ruc=input["ruc"],
        dv=input["dv"],
        address=input["address"],
        trade_name=input.get("trade_name"),
        province=input.get("province"),
        phone=input.get("phone"),
        email=input.get("email"),
        website=input.get("website"),
        payment_terms_days=input.get("payment_terms_days"),
        payment_instructions=input.get("payment_instructions"),
        currency=input.get("currency") or "USD",
    )
    return {"profile": bus(info).handle(command)}



@profile_type.field("taxpayerType")
def resolve_taxpayer_type(view: Any, _info: GraphQLResolveInfo) -> str:
    return str(view.taxpayer_type.value)
