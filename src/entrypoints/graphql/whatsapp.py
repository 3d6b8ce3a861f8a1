"""GraphQL of the WhatsApp domain: connection, clients' numbers and channel, templates, sending, the log."""

from __future__ import annotations

from typing import Any

from ariadne import MutationType, ObjectType, QueryType
from graphql import GraphQLResolveInfo

from application.whatsapp.commands import (
    ConnectWhatsapp,
    CreateClientWhatsapp,
    DeleteClientWhatsapp,
    DeleteWhatsappTemplate,
    DisconnectWhatsapp,
    FindWhatsappMessages,
    FindWhatsappTemplates,
    GetWhatsappConnection,
    GetWhatsappMessage,
    RegisterWhatsappTemplate,
    RetryWhatsapp,
    SendPdfWhatsapp,
    SendStatementWhatsapp,
    SendWhatsapp,
    SetClientDefaultChannel,
    TemplateInput,
)
from application.whatsapp.views import WhatsappMessageCursor, WhatsappMessageFilter
from domain.shared.errors import InvalidInput
from domain.whatsapp.messages import Direction, MessageStatus
from entrypoints.graphql.common import actor, bus, business_result
from entrypoints.graphql.api import RENDER, SEND, ApiDomain
from entrypoints.graphql.loaders import keyed
from application.whatsapp.commands import GetClientWhatsapps

query = QueryType()
mutation = MutationType()
client_type = ObjectType("Client")
message_type = ObjectType("WhatsappMessage")

bindables = [query, mutation, client_type, message_type]
API = ApiDomain(
    bindables, sdl=("whatsapp.graphql",),
    loaders={"whatsapp_numbers_by_client": keyed(GetClientWhatsapps, "client_ids")},
    costs={"Mutation": {
        **dict.fromkeys(("sendPdfWhatsapp", "sendStatementWhatsapp"), RENDER),
        **dict.fromkeys(("sendWhatsapp", "retryWhatsapp"), SEND),
    }},
)

EMPTY_PAGE = {"edges": [], "page_info": {"end_cursor": None, "has_next_page": False}}


def _one_of(enum: Any, value: str, *, field: str) -> Any:
    try:
        return enum(str(value).strip().upper())
    except ValueError:
        raise InvalidInput(f"{field} must be one of {', '.join(enum)}, not {str(value)[:32]!r}", field=field) from None


@client_type.field("whatsappNumbers")
def resolve_client_whatsapp_numbers(client: Any, info: GraphQLResolveInfo) -> Any:
    return info.context["loaders"].whatsapp_numbers_by_client.load(client.id)


@message_type.field("client")
def resolve_message_client(message: Any, info: GraphQLResolveInfo) -> Any:
    if message.client_id is None:
        return None
    return info.context["loaders"].clients_by_id.load(message.client_id)


@query.field("getWhatsappConnection")
@business_result(connection=None)
def resolve_get_whatsapp_connection(_: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
    return {"connection": bus(info).handle(GetWhatsappConnection(actor=actor(info)))}


@mutation.field("connectWhatsapp")
@business_result(connection=None)
def resolve_connect_whatsapp(
    _: Any, info: GraphQLResolveInfo, phone_number_id: str, waba_id: str, access_token: str, app_secret: str,
    verify_token: str,
) -> dict[str, Any]:
    command = ConnectWhatsapp(
        actor=actor(info), phone_number_id=phone_number_id, waba_id=waba_id, access_token=access_token,
        app_secret=app_secret, verify_token=verify_token,
    )
    return {"connection": bus(info).handle(command)}


@mutation.field("disconnectWhatsapp")
@business_result(disconnected=False)
def resolve_disconnect_whatsapp(_: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
    return {"disconnected": bus(info).handle(DisconnectWhatsapp(actor=actor(info)))}


@mutation.field("createClientWhatsapp")
@business_result(client_whatsapp=None)
def resolve_create_client_whatsapp(_: Any, info: GraphQLResolveInfo, client_id: str, phone: str) -> dict[str, Any]:
    command = CreateClientWhatsapp(actor=actor(info), client_id=client_id, phone=phone)
    return {"client_whatsapp": bus(info).handle(command)}


@mutation.field("deleteClientWhatsapp")
@business_result(deleted_id=None)
def resolve_delete_client_whatsapp(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
    bus(info).handle(DeleteClientWhatsapp(actor=actor(info), number_id=id))
    return {"deleted_id": id}


@mutation.field("setClientDefaultChannel")
@business_result(client=None)
def resolve_set_client_default_channel(_: Any, info: GraphQLResolveInfo, client_id: str, channel: str) -> dict[str, Any]:
    command = SetClientDefaultChannel(actor=actor(info), client_id=client_id, channel=channel)
    return {"client": bus(info).handle(command)}


@mutation.field("registerWhatsappTemplate")
@business_result(template=None)
def resolve_register_whatsapp_template(
    _: Any, info: GraphQLResolveInfo, name: str, language: str, body_parameters: int,
    document_header: bool | None = None,
) -> dict[str, Any]:
    command = RegisterWhatsappTemplate(
        actor=actor(info), name=name, language=language, body_parameters=body_parameters,
        document_header=bool(document_header),
    )
    return {"template": bus(info).handle(command)}


@mutation.field("deleteWhatsappTemplate")
@business_result(deleted_id=None)
def resolve_delete_whatsapp_template(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
    bus(info).handle(DeleteWhatsappTemplate(actor=actor(info), template_id=id))
    return {"deleted_id": id}


@query.field("whatsappTemplates")
@business_result(templates=[])
def resolve_whatsapp_templates(_: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
    return {"templates": bus(info).handle(FindWhatsappTemplates(actor=actor(info)))}


def _template(value: dict[str, Any] | None) -> TemplateInput | None:
    if value is None:
        return None
    return TemplateInput(
        name=value["name"], language=value.get("language") or "es", parameters=tuple(value.get("parameters") or ())
    )


@mutation.field("sendWhatsapp")
@business_result(messages=[])
def resolve_send_whatsapp(
    _: Any, info: GraphQLResolveInfo, to: str | None = None, client_id: str | None = None, text: str | None = None,
    template: dict[str, Any] | None = None,
) -> dict[str, Any]:
    command = SendWhatsapp(actor=actor(info), to=to, client_id=client_id, text=text, template=_template(template))
    return {"messages": bus(info).handle(command)}


@mutation.field("sendPdfWhatsapp")
@business_result(messages=[])
def resolve_send_pdf_whatsapp(
    _: Any, info: GraphQLResolveInfo, entity_type: str, entity_id: str, template_name: str | None = None,
    language: str | None = None, parameters: list[str] | None = None, caption: str | None = None,
    to: str | None = None, pdf_template_id: str | None = None,
) -> dict[str, Any]:
    command = SendPdfWhatsapp(
        actor=actor(info), entity_type=entity_type, entity_id=entity_id, template_name=template_name,
        language=language or "es", parameters=tuple(parameters or ()), caption=caption, to=to,
        pdf_template_id=pdf_template_id,
    )
    return {"messages": bus(info).handle(command)}


@mutation.field("sendStatementWhatsapp")
@business_result(messages=[])
def resolve_send_statement_whatsapp(
    _: Any, info: GraphQLResolveInfo, client_id: str, to: Any, currency: str | None = None,
    template_name: str | None = None, language: str | None = None, parameters: list[str] | None = None,
    caption: str | None = None, recipient: str | None = None, pdf_template_id: str | None = None, **kwargs: Any,
) -> dict[str, Any]:
    command = SendStatementWhatsapp(
        actor=actor(info), client_id=client_id, period_from=kwargs["from"], period_to=to, currency=currency,
        template_name=template_name, language=language or "es", parameters=tuple(parameters or ()), caption=caption,
        recipient=recipient, pdf_template_id=pdf_template_id,
    )
    return {"messages": bus(info).handle(command)}


@mutation.field("retryWhatsapp")
@business_result(message=None)
def resolve_retry_whatsapp(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
    return {"message": bus(info).handle(RetryWhatsapp(actor=actor(info), message_id=id))}


@query.field("getWhatsappMessageById")
@business_result(message=None)
def resolve_get_whatsapp_message(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
    return {"message": bus(info).handle(GetWhatsappMessage(actor=actor(info), message_id=id))}


@query.field("whatsappMessages")
@business_result(**EMPTY_PAGE)
def resolve_whatsapp_messages(
    _: Any, info: GraphQLResolveInfo, filter: dict[str, Any] | None = None, first: int | None = None,
    after: str | None = None,
) -> dict[str, Any]:
    given = filter or {}
    direction = given.get("direction")
    selection = WhatsappMessageFilter(
        statuses=frozenset(_one_of(MessageStatus, s, field="filter.status") for s in given.get("status") or ()),
        direction=None if direction in (None, "") else _one_of(Direction, direction, field="filter.direction"),
        client_id=given.get("client_id"),
        phone=given.get("phone"),
        entity_type=given.get("entity_type"),
        entity_id=given.get("entity_id"),
    )
    page = bus(info).handle(FindWhatsappMessages(actor=actor(info), filter=selection, first=first, after=after))
    return {
        "edges": [{"cursor": WhatsappMessageCursor.of(item).encode(), "node": item} for item in page.items],
        "page_info": {"end_cursor": page.end_cursor, "has_next_page": page.has_next_page},
    }
