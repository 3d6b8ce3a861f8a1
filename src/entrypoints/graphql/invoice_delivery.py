"""GraphQL of invoice delivery: ``sendInvoice`` by e-mail, WhatsApp or both."""

from __future__ import annotations

from typing import Any

from ariadne import MutationType
from graphql import GraphQLResolveInfo

from application.invoice_delivery.sending import SendInvoice
from entrypoints.graphql.api import RENDER, ApiDomain
from entrypoints.graphql.common import actor, bus, business_result

mutation = MutationType()


@mutation.field("sendInvoice")
@business_result(channel=None, whatsapp_messages=[])
def resolve_send_invoice(_: Any, info: GraphQLResolveInfo, invoice_id: str, channel: str | None = None) -> dict[str, Any]:
    sent = bus(info).handle(SendInvoice(actor=actor(info), invoice_id=invoice_id, channel=channel))
    return {"channel": sent.channel, "whatsapp_messages": list(sent.whatsapp), "email_message": sent.email}


API = ApiDomain([mutation], sdl=("invoice_delivery.graphql",), costs={"Mutation": {"sendInvoice": RENDER}})
