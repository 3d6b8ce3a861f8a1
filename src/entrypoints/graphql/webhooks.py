"""GraphQL of the webhook inbox: owners and admins list and replay their tenant's events."""

from __future__ import annotations

import json
from typing import Any

from ariadne import MutationType, ObjectType, QueryType
from graphql import GraphQLResolveInfo

from application.webhooks.commands import FindWebhookEvents, ReplayWebhookEvent
from application.webhooks.views import WebhookEventCursor, WebhookEventView
from entrypoints.graphql.common import actor, bus, business_result
from entrypoints.graphql.api import ApiDomain

query = QueryType()
mutation = MutationType()
event_type = ObjectType("WebhookEvent")

bindables = [query, mutation, event_type]
API = ApiDomain(bindables, sdl=("webhooks.graphql",))

EMPTY_PAGE = {"edges": [], "page_info": {"end_cursor": None, "has_next_page": False}}


@event_type.field("status")
def resolve_status(event: WebhookEventView, _info: GraphQLResolveInfo) -> str:
    return str(event.status)


@event_type.field("headers")
def resolve_headers(event: WebhookEventView, _info: GraphQLResolveInfo) -> str:
    return json.dumps(event.headers, sort_keys=True)


@event_type.field("body")
def resolve_body(event: WebhookEventView, _info: GraphQLResolveInfo) -> str:
    return event.body.decode("utf-8", errors="replace")


@event_type.field("bodySize")
def resolve_body_size(event: WebhookEventView, _info: GraphQLResolveInfo) -> int:
    return len(event.body)


@query.field("webhookEvents")
@business_result(**EMPTY_PAGE)
def resolve_webhook_events(
    _: Any,
    info: GraphQLResolveInfo,
    provider: str | None = None,
    status: str | None = None,
    to: Any = None,
    cursor: str | None = None,
    first: int | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    page = bus(info).handle(
        FindWebhookEvents(
            actor=actor(info),
            provider=provider,
            status=status,
            received_from=kwargs.get("from"),
            received_to=to,
            first=first,
            after=cursor,
        )
    )
    return {
        "edges": [{"cursor": _cursor(item), "node": item} for item in page.items],
        "page_info": {"end_cursor": page.end_cursor, "has_next_page": page.has_next_page},
    }


def _cursor(view: WebhookEventView) -> str:
    return WebhookEventCursor.of(view).encode()


@mutation.field("replayWebhookEvent")
@business_result(event=None)
def resolve_replay_webhook_event(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
    return {"event": bus(info).handle(ReplayWebhookEvent(actor=actor(info), event_id=id))}
