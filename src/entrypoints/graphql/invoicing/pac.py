"""GraphQL of the PAC (Alanube): owners and admins set and read their tenant's PAC settings."""

from __future__ import annotations

from typing import Any

from ariadne import MutationType, ObjectType, QueryType
from graphql import GraphQLResolveInfo

from application.invoicing.pac_settings import ConfigurePac, GetPacSettings
from entrypoints.graphql.common import actor, bus, business_result

query = QueryType()
mutation = MutationType()
pac_settings_type = ObjectType("PacSettings")

bindables = [query, mutation, pac_settings_type]

@query.field("pacSettings")
@business_result(settings=None)
def resolve_pac_settings(_: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
    return {"settings": bus(info).handle(GetPacSettings(actor=actor(info)))}


@mutation.field("configurePac")
@business_result(settings=None)
def resolve_configure_pac(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:
    command = ConfigurePac(
        actor=actor(info),
        company_id=input["company_id"],
        webhook_secret=input.get("webhook_secret"),
        api_key=input.get("api_key"),
        signature_mode=input.get("signature_mode") or "SECRET",
        send_authorized_invoice=bool(input.get("send_authorized_invoice")),
    )
    return {"settings": bus(info).handle(command)}


@pac_settings_type.field("signatureMode")
def resolve_signature_mode(settings: Any, _info: GraphQLResolveInfo) -> str:
    return str(settings.signature_mode)
