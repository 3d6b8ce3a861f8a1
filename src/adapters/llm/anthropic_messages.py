"""Anthropic's Messages API through the official ``anthropic`` SDK: tool_use / tool_result turns,
streaming events (``ping`` ignored, an ``error`` event after HTTP 200 handled), structured output
as a forced tool, errors (529 overloaded included) normalised to ``ModelError``."""

from __future__ import annotations

import base64
import json
from typing import Any

import anthropic

from adapters.llm.retrying import Retrying, redacted, retry_after_seconds
from application.chats.ports import ModelError, ModelReply, ModelRequest, OnText, ToolCall, Turn

_STOPS = {"end_turn": "end", "stop_sequence": "end", "tool_use": "tool_calls", "max_tokens": "max_tokens"}
_KINDS = {
    "authentication_error": "auth", "permission_error": "auth", "rate_limit_error": "rate_limited",
    "overloaded_error": "unavailable", "api_error": "unavailable", "billing_error": "balance",
}


def _error(error: Exception) -> ModelError:
    if isinstance(error, anthropic.APITimeoutError):
        return ModelError("timeout", "ANTHROPIC did not answer in time")
    if isinstance(error, anthropic.APIConnectionError):
        return ModelError("unavailable", "ANTHROPIC could not be reached")
    if isinstance(error, anthropic.APIStatusError):
        status = error.status_code
        kind_name, message = "", f"HTTP {status}"
        body = error.body
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            kind_name = str(body["error"].get("type", ""))
            message = f"HTTP {status} {kind_name}: {str(body['error'].get('message', ''))[:300]}"
        retry_after = retry_after_seconds(error.response.headers)
        kind = _KINDS.get(kind_name)
        if kind is None:
            if status in (401, 403):
                kind = "auth"
            elif status == 429:
                kind = "rate_limited"
            elif status >= 500:
                kind = "unavailable"
            else:
                kind = "bad_request"
        return ModelError(kind, message, status=status, retry_after=retry_after)  # type: ignore[arg-type]
    return ModelError("bad_request", "ANTHROPIC answered something unreadable")


def _messages(turns: tuple[Turn, ...]) -> list[dict[str, Any]]:
    """Alternating user/assistant messages; tool results go in the next user turn, together."""
    out: list[dict[str, Any]] = []

    def add(role: str, blocks: list[dict[str, Any]]) -> None:
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})

    for turn in turns:
        if turn.role == "tool":
            add("user", [{"type": "tool_result", "tool_use_id": turn.tool_call_id, "content": turn.text, "is_error": turn.tool_error}])
        elif turn.role == "assistant":
            blocks: list[dict[str, Any]] = [{"type": "text", "text": turn.text}] if turn.text else []
            for call in turn.tool_calls:
                try:
                    arguments = json.loads(call.arguments or "{}")
                except ValueError:
                    arguments = {}
                blocks.append({"type": "tool_use", "id": call.id, "name": call.name, "input": arguments if isinstance(arguments, dict) else {}})
            add("assistant", blocks or [{"type": "text", "text": "…"}])
        else:
            blocks = [
                {"type": "document" if image.mime == "application/pdf" else "image",
                 "source": {"type": "base64", "media_type": image.mime, "data": base64.b64encode(image.data).decode()}}
                for image in turn.images
            ]
            blocks.append({"type": "text", "text": turn.text})
            add("user", blocks)
    return out


class AnthropicChatModel:
    name = "ANTHROPIC"
    takes_images = True

    def __init__(self, *, api_key: str, base_url: str | None, retrying: Retrying | None = None) -> None:
        self._key = api_key
        self._client = anthropic.Anthropic(api_key=api_key, base_url=base_url, max_retries=0)
        self._retrying = retrying or Retrying()

    def __repr__(self) -> str:
        return "AnthropicChatModel()"

    def _arguments(self, request: ModelRequest) -> dict[str, Any]:
        arguments: dict[str, Any] = {
            "model": request.model, "system": request.system, "messages": _messages(request.turns), "max_tokens": request.max_tokens,
        }
        tools = [{"name": t.name, "description": t.description, "input_schema": t.parameters} for t in request.tools]
        if request.json_schema is not None:
            tools = [{"name": request.schema_name, "description": "Record the fields read from the document.", "input_schema": request.json_schema}]
            arguments["tool_choice"] = {"type": "tool", "name": request.schema_name}
        if tools:
            arguments["tools"] = tools
        return arguments

    def complete(self, request: ModelRequest, on_text: OnText | None = None) -> ModelReply:
        emitted = [False]

        def relay(delta: str) -> None:
            emitted[0] = True
            if on_text is not None:
                on_text(delta)

        def once(left: float) -> ModelReply:
            try:
                if on_text is None or request.json_schema is not None:
                    return self._plain(request, left)
                return self._streamed(request, left, relay)
            except anthropic.APIError as error:
                raise redacted(_error(error), self._key) from None

        return self._retrying.run(once, timeout=request.timeout, emitted=lambda: emitted[0])

    def _plain(self, request: ModelRequest, left: float) -> ModelReply:
        response = self._client.messages.create(**self._arguments(request), timeout=left)
        text = "".join(block.text for block in response.content if block.type == "text")
        calls = tuple(
            ToolCall(block.id, block.name, json.dumps(block.input, ensure_ascii=False))
            for block in response.content if block.type == "tool_use"
        )
        data = None
        if request.json_schema is not None:
            forced = [block.input for block in response.content if block.type == "tool_use" and block.name == request.schema_name]
            data = forced[0] if forced and isinstance(forced[0], dict) else None
            calls = ()
        return ModelReply(
            text=text, tool_calls=calls, stop=_STOPS.get(response.stop_reason or "", "other"),  # type: ignore[arg-type]
            tokens_in=response.usage.input_tokens, tokens_out=response.usage.output_tokens, data=data,
        )

    def _streamed(self, request: ModelRequest, left: float, relay: OnText) -> ModelReply:
        stream = self._client.messages.create(**self._arguments(request), stream=True, timeout=left)
        text: list[str] = []
        blocks: dict[int, dict[str, str]] = {}
        stop, tokens_in, tokens_out = None, 0, 0
        with stream:
            for event in stream:
                kind = event.type
                if kind == "message_start":
                    tokens_in = event.message.usage.input_tokens
                    tokens_out = event.message.usage.output_tokens
                elif kind == "content_block_start" and event.content_block.type == "tool_use":
                    blocks[event.index] = {"id": event.content_block.id, "name": event.content_block.name, "json": ""}
                elif kind == "content_block_delta":
                    delta = event.delta
                    if delta.type == "text_delta":
                        text.append(delta.text)
                        relay(delta.text)
                    elif delta.type == "input_json_delta" and event.index in blocks:
                        blocks[event.index]["json"] += delta.partial_json
                elif kind == "message_delta":
                    stop = event.delta.stop_reason
                    if event.usage is not None:
                        tokens_out = event.usage.output_tokens
        calls = tuple(ToolCall(b["id"], b["name"], b["json"] or "{}") for _, b in sorted(blocks.items()))
        return ModelReply(
            text="".join(text), tool_calls=calls, stop=_STOPS.get(stop or "", "other"),  # type: ignore[arg-type]
            tokens_in=tokens_in, tokens_out=tokens_out,
        )
