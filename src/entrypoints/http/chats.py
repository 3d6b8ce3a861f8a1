"""``POST /chats/<id>/stream``: send a message (or follow one already sent) and receive the answer
as ``text/event-stream``: ``delta`` events with the assistant's text, ``tool_started`` and
``tool_finished`` per tool call, and a last ``done`` (the stored answer's id and usage) or ``error``.

The turn itself runs in the worker (a job): this route only relays its progress, and the answer is
stored whether the client stays or not. A stream holds one of the process's request threads while
it is open, so at most ``ISTMO_CHATS_MAX_STREAMS`` are open per process; beyond that the route
answers 503 and the client sends with ``sendChatMessage`` and reads the chat instead.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import structlog
from flask import Blueprint, Response, request

from application.chats.commands import GetChatMessage, GetChatMessages, SendChatMessage
from application.chats.ports import TurnEvents
from application.chats.views import encode_position
from application.shared.bus import MessageBus
from application.tenancy.auth import AuthenticationFailed
from domain.shared.errors import DomainError
from domain.tenancy.model import Actor
from entrypoints.http.errors import json_error
from entrypoints.http.services import services

log = structlog.get_logger(__name__)

blueprint = Blueprint("chats", __name__)

_STATUS = {
    "NOT_FOUND": 404, "INVALID_INPUT": 400, "ATTACHMENT_REFUSED": 400, "CHAT_ARCHIVED": 409, "CONFLICT": 409,
    "PROVIDER_NOT_CONFIGURED": 409, "PROVIDER_SETTINGS_INVALID": 409, "TOKEN_BUDGET_SPENT": 429, "PERMISSION_DENIED": 403,
}
_FINAL = ("done", "error")
def _sse(number: int | None, event: dict[str, Any]) -> str:
    head = f"id: {number}\n" if number is not None else ""
    return f"{head}event: {event['type']}\ndata: {json.dumps(event, ensure_ascii=False)}\n\n"


def _outcome(bus: MessageBus, who: Actor, turn_id: str) -> dict[str, Any] | None:
    """The final event, read from the database, once the turn is no longer PENDING."""
    message = bus.handle(GetChatMessage(actor=who, message_id=turn_id))
    if message.status == "PENDING":
        return None
    after = encode_position(message.position)
    page = bus.handle(GetChatMessages(actor=who, chat_id=message.chat_id, first=100, after=after))
    answers = [m for m in page.items if m.role == "ASSISTANT" and not m.tool_calls]
    answer = answers[0] if answers else None
    usage = {"input": answer.tokens_in if answer else 0, "output": answer.tokens_out if answer else 0}
    if message.status == "COMPLETE" and answer is not None:
        return {"type": "done", "message_id": answer.id, "usage": usage}
    return {"type": "error", "message_id": answer.id if answer else None, "code": message.error_code,
            "message": message.error_message, "usage": usage}


def relay(bus: MessageBus, events: TurnEvents, who: Actor, turn_id: str, *, after: int, limit_seconds: float,
          poll: float = 1.0) -> Iterator[str]:
    """The turn's events from number ``after`` on, until its final one (or the database says it ended)."""
    waited = 0.0
    while waited < limit_seconds:
        batch = events.listen(turn_id, after=after, wait=poll)
        for number, event in batch:
            after = number
            yield _sse(number, event)
            if event.get("type") in _FINAL:
                return
        if not batch:
            waited += poll
            final = _outcome(bus, who, turn_id)
            if final is not None:
                yield _sse(None, final)
                return
            yield ": keep-alive\n\n"
    yield _sse(None, {"type": "error", "code": "STREAM_TIMEOUT", "message": "the answer is still being computed: read the chat later"})


@blueprint.post("/chats/<chat_id>/stream")
def stream(chat_id: str) -> Any:
    """``chat_id`` ``current``: the session's active chat, or a new one (as ``sendChatMessage`` without ``chatId``)."""
    container = services()
    try:
        who = container.tenancy.authenticator().authenticate(request.headers.get("Authorization"))
    except AuthenticationFailed as failure:
        return json_error(401, failure.reason.upper(), failure.message, WWW_Authenticate='Bearer error="invalid_token"')
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return json_error(400, "BAD_REQUEST", 'send {"message": "...", "attachmentIds": [...]} or {"messageId": "..."} as JSON')
    slots = container.chats.stream_slots()
    if not slots.acquire(blocking=False):
        return json_error(503, "STREAMS_BUSY", "too many open streams: send with sendChatMessage and read the chat", Retry_After="2")
    try:
        bus = container.bus()
        try:
            if "messageId" in body:
                message = bus.handle(GetChatMessage(actor=who, message_id=str(body["messageId"])))
                if chat_id != "current" and message.chat_id != chat_id:
                    return _release(slots, json_error(404, "NOT_FOUND", "that message is not in this chat"))
                turn_id, chat_id = message.id, message.chat_id
            else:
                ids = body.get("attachmentIds") or []
                if not isinstance(ids, list) or not isinstance(body.get("message"), str):
                    return _release(slots, json_error(400, "INVALID_INPUT", "message must be a string and attachmentIds a list"))
                target = None if chat_id == "current" else chat_id
                sent = bus.handle(SendChatMessage(actor=who, chat_id=target, message=body["message"], attachment_ids=tuple(map(str, ids))))
                turn_id, chat_id = sent.message.id, sent.chat.id
        except DomainError as error:
            return _release(slots, json_error(_STATUS.get(error.code, 400), error.code, error.message))
        last = request.headers.get("Last-Event-ID", "0")
        after = int(last) if last.isascii() and last.isdigit() and len(last) < 9 else 0
        events = container.chats.turn_events()
        limit = container.chats.chat_policy().turn_seconds + 30

        def body_of() -> Iterator[str]:
            yield _sse(None, {"type": "message", "message_id": turn_id, "chat_id": chat_id})
            yield from relay(bus, events, who, turn_id, after=after, limit_seconds=limit)

        response = Response(body_of(), mimetype="text/event-stream")
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Accel-Buffering"] = "no"
        response.call_on_close(slots.release)
        return response
    except BaseException:
        slots.release()
        raise


def _release(slots: threading.BoundedSemaphore, response: Response) -> Response:
    slots.release()
    return response
