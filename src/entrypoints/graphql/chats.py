"""GraphQL of the AI assistant: chats and their messages, sending, the tenant's provider settings."""

from __future__ import annotations

from typing import Any

from ariadne import MutationType, ObjectType, QueryType
from graphql import GraphQLResolveInfo

from application.chats.commands import (
    ArchiveSessionChats,
    ConfigureChatProvider,
    DeleteChat,
    FindChats,
    GetChat,
    GetChatMessages,
    GetChatProviderSettings,
    GetCurrentSessionActiveChat,
    RenameChat,
    SendChatMessage,
)
from entrypoints.graphql.api import RENDER, ApiDomain
from entrypoints.graphql.common import actor, bus, business_result

query = QueryType()
mutation = MutationType()
chat_type = ObjectType("Chat")
message_type = ObjectType("ChatMessage")
tool_call_type = ObjectType("ChatToolCall")
tool_result_type = ObjectType("ChatToolResult")

CHAT_TURN = RENDER
"""What sending a message costs: a model turn (seconds of a provider and tokens of the tenant's budget)."""

bindables = [query, mutation, chat_type, message_type, tool_call_type, tool_result_type]
API = ApiDomain(bindables, sdl=("chats.graphql",), costs={"Mutation": {"sendChatMessage": CHAT_TURN}})

EMPTY_PAGE = {"edges": [], "page_info": {"end_cursor": None, "has_next_page": False}}


def _edges(page: Any, cursor: Any) -> dict[str, Any]:
    return {
        "edges": [{"cursor": cursor(item), "node": item} for item in page.items],
        "page_info": {"end_cursor": page.end_cursor, "has_next_page": page.has_next_page},
    }


@chat_type.field("messages")
def resolve_chat_messages(chat: Any, info: GraphQLResolveInfo, first: int | None = None, after: str | None = None) -> Any:
    from application.chats.views import encode_position

    page = bus(info).handle(GetChatMessages(actor=actor(info), chat_id=chat.id, first=first, after=after))
    return _edges(page, lambda view: encode_position(view.position))


@tool_call_type.field("id")
def resolve_tool_call_id(call: dict[str, Any], _: GraphQLResolveInfo) -> str:
    return str(call["id"])


@tool_call_type.field("name")
def resolve_tool_call_name(call: dict[str, Any], _: GraphQLResolveInfo) -> str:
    return str(call["name"])


@tool_call_type.field("arguments")
def resolve_tool_call_arguments(call: dict[str, Any], _: GraphQLResolveInfo) -> str:
    return str(call["arguments"])


@tool_result_type.field("toolCallId")
def resolve_result_call(result: dict[str, Any], _: GraphQLResolveInfo) -> str:
    return str(result["tool_call_id"])


@tool_result_type.field("name")
def resolve_result_name(result: dict[str, Any], _: GraphQLResolveInfo) -> str:
    return str(result["name"])


@tool_result_type.field("content")
def resolve_result_content(result: dict[str, Any], _: GraphQLResolveInfo) -> str:
    return str(result["content"])


@tool_result_type.field("isError")
def resolve_result_error(result: dict[str, Any], _: GraphQLResolveInfo) -> bool:
    return bool(result.get("is_error"))


@query.field("chats")
@business_result(**EMPTY_PAGE)
def resolve_chats(_: Any, info: GraphQLResolveInfo, first: int | None = None, after: str | None = None,
                  include_archived: bool | None = None) -> dict[str, Any]:
    from application.chats.views import ChatCursor

    page = bus(info).handle(FindChats(actor=actor(info), first=first, after=after, include_archived=bool(include_archived)))
    return _edges(page, lambda view: ChatCursor.of(view).encode())


@query.field("getChatById")
@business_result(chat=None)
def resolve_get_chat(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
    return {"chat": bus(info).handle(GetChat(actor=actor(info), chat_id=id))}


@query.field("getCurrentSessionActiveChat")
@business_result(chat=None)
def resolve_session_chat(_: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
    return {"chat": bus(info).handle(GetCurrentSessionActiveChat(actor=actor(info)))}


@query.field("chatProviderSettings")
@business_result(settings=None)
def resolve_chat_settings(_: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
    return {"settings": bus(info).handle(GetChatProviderSettings(actor=actor(info)))}


@mutation.field("sendChatMessage")
@business_result(chat=None, message=None)
def resolve_send(_: Any, info: GraphQLResolveInfo, message: str, chat_id: str | None = None,
                 attachment_ids: list[str] | None = None) -> dict[str, Any]:
    command = SendChatMessage(actor=actor(info), chat_id=chat_id, message=message, attachment_ids=tuple(attachment_ids or ()))
    sent = bus(info).handle(command)
    return {"chat": sent.chat, "message": sent.message}


@mutation.field("archiveSessionChats")
@business_result(archived=0)
def resolve_archive(_: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
    return {"archived": bus(info).handle(ArchiveSessionChats(actor=actor(info)))}


@mutation.field("renameChat")
@business_result(chat=None)
def resolve_rename(_: Any, info: GraphQLResolveInfo, id: str, title: str) -> dict[str, Any]:
    return {"chat": bus(info).handle(RenameChat(actor=actor(info), chat_id=id, title=title))}


@mutation.field("deleteChat")
@business_result(deleted_id=None)
def resolve_delete(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
    return {"deleted_id": bus(info).handle(DeleteChat(actor=actor(info), chat_id=id))}


@mutation.field("configureChatProvider")
@business_result(settings=None)
def resolve_configure(_: Any, info: GraphQLResolveInfo, provider: str, model: str, api_key: str | None = None) -> dict[str, Any]:
    command = ConfigureChatProvider(actor=actor(info), provider=provider, model=model, api_key=api_key)
    return {"settings": bus(info).handle(command)}
