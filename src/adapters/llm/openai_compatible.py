"""OpenAI and DeepSeek chat completions through the official ``openai`` SDK (DeepSeek is
OpenAI-compatible at its own base URL): tool calls, streaming (fragments keyed by index, usage
in a last chunk), structured output, errors normalised to ``ModelError``."""

from __future__ import annotations

import base64
import json
from typing import Any

import openai

from adapters.llm.retrying import Retrying, redacted, retry_after_seconds
from application.chats.ports import ModelError, ModelReply, ModelRequest, OnText, ToolCall, Turn

_STOPS = {"stop": "end", "tool_calls": "tool_calls", "length": "max_tokens"}


def _error(error: Exception, provider: str) -> ModelError:
    if isinstance(error, openai.APITimeoutError):
        return ModelError("timeout", f"{provider} did not answer in time")
    if isinstance(error, openai.APIConnectionError):
        return ModelError("unavailable", f"{provider} could not be reached ({type(error.__cause__).__name__})")
    if isinstance(error, openai.APIStatusError):
        status = error.status_code
        message = _message(error)
        retry_after = retry_after_seconds(error.response.headers)
        if status in (401, 403):
            return ModelError("auth", message, status=status)
        if status == 402:
            return ModelError("balance", "provider balance exhausted", status=status)
        if status == 429:
            return ModelError("rate_limited", message, status=status, retry_after=retry_after)
        if status >= 500:
            return ModelError("unavailable", message, status=status, retry_after=retry_after)
        return ModelError("bad_request", message, status=status)
    return ModelError("bad_request", f"{provider} answered something unreadable")


def _message(error: openai.APIStatusError) -> str:
    body = error.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return f"HTTP {error.status_code}: {inner['message'][:300]}"
    return f"HTTP {error.status_code}"


class OpenAiCompatibleChatModel:
    """``name``: OPENAI or DEEPSEEK. DeepSeek takes text only and wants each assistant turn with
    tool calls re-sent with its ``reasoning_content``."""

    def __init__(self, *, name: str, api_key: str, base_url: str | None, retrying: Retrying | None = None) -> None:
        self.name = name
        self.takes_images = name != "DEEPSEEK"
        self._deepseek = name == "DEEPSEEK"
        self._key = api_key
        self._client = openai.OpenAI(api_key=api_key, base_url=base_url, max_retries=0)
        self._retrying = retrying or Retrying()

    def __repr__(self) -> str:
        return f"OpenAiCompatibleChatModel({self.name})"

    # --- the wire format ---

    def _messages(self, request: ModelRequest) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = [{"role": "system", "content": request.system}]
        for turn in request.turns:
            out.append(self._message_of(turn))
        return out

    def _message_of(self, turn: Turn) -> dict[str, Any]:
        if turn.role == "tool":
            return {"role": "tool", "tool_call_id": turn.tool_call_id, "content": turn.text}
        if turn.role == "assistant":
            message: dict[str, Any] = {"role": "assistant", "content": turn.text or None}
            if turn.tool_calls:
                message["tool_calls"] = [
                    {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                    for c in turn.tool_calls
                ]
                if self._deepseek:
                    message["reasoning_content"] = turn.reasoning or ""
            return message
        if turn.images and self.takes_images:
            parts: list[dict[str, Any]] = [{"type": "text", "text": turn.text}]
            for image in turn.images:
                url = f"data:{image.mime};base64,{base64.b64encode(image.data).decode()}"
                if image.mime == "application/pdf":  # a scanned PDF: the file itself
                    parts.append({"type": "file", "file": {"filename": "document.pdf", "file_data": url}})
                else:
                    parts.append({"type": "image_url", "image_url": {"url": url}})
            return {"role": "user", "content": parts}
        return {"role": "user", "content": turn.text}

    def _arguments(self, request: ModelRequest) -> dict[str, Any]:
        arguments: dict[str, Any] = {"model": request.model, "messages": self._messages(request)}
        arguments["max_tokens" if self._deepseek else "max_completion_tokens"] = request.max_tokens
        if request.tools:
            arguments["tools"] = [
                {"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.parameters,
                                                  **({} if self._deepseek else {"strict": False})}}
                for t in request.tools
            ]
        if request.json_schema is not None:
            if self._deepseek:
                arguments["response_format"] = {"type": "json_object"}
            else:
                arguments["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {"name": request.schema_name, "strict": True, "schema": request.json_schema},
                }
        return arguments

    # --- calls ---

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
            except (openai.APIError, openai.APIConnectionError) as error:
                raise redacted(_error(error, self.name), self._key) from None

        attempts = 2 if (self._deepseek and request.json_schema is not None) else 1
        for _ in range(attempts):
            reply = self._retrying.run(once, timeout=request.timeout, emitted=lambda: emitted[0])
            if request.json_schema is None or reply.data is not None:
                return reply
        raise ModelError("bad_request", f"{self.name} answered no JSON object")

    def _plain(self, request: ModelRequest, left: float) -> ModelReply:
        response = self._client.chat.completions.create(**self._arguments(request), timeout=left)
        choice = response.choices[0]
        message = choice.message
        calls = tuple(ToolCall(c.id, c.function.name, c.function.arguments or "") for c in message.tool_calls or ())
        text = (message.content or "").strip() if request.json_schema is not None else message.content or ""
        data = None
        if request.json_schema is not None and text:
            try:
                parsed = json.loads(text)
                data = parsed if isinstance(parsed, dict) else None
            except ValueError:
                data = None
        usage = response.usage
        return ModelReply(
            text=text, tool_calls=calls, stop=_STOPS.get(choice.finish_reason or "", "other"),  # type: ignore[arg-type]
            tokens_in=usage.prompt_tokens if usage else 0, tokens_out=usage.completion_tokens if usage else 0,
            reasoning=getattr(message, "reasoning_content", None), data=data,
        )

    def _streamed(self, request: ModelRequest, left: float, relay: OnText) -> ModelReply:
        stream = self._client.chat.completions.create(
            **self._arguments(request), stream=True, stream_options={"include_usage": True}, timeout=left
        )
        text: list[str] = []
        reasoning: list[str] = []
        calls: dict[int, dict[str, str]] = {}
        finish, tokens_in, tokens_out = None, 0, 0
        with stream:
            for chunk in stream:
                if chunk.usage is not None:
                    tokens_in, tokens_out = chunk.usage.prompt_tokens, chunk.usage.completion_tokens
                for choice in chunk.choices:
                    delta = choice.delta
                    if delta.content:
                        text.append(delta.content)
                        relay(delta.content)
                    thought = getattr(delta, "reasoning_content", None)
                    if thought:
                        reasoning.append(thought)
                    for fragment in delta.tool_calls or ():
                        call = calls.setdefault(fragment.index, {"id": "", "name": "", "arguments": ""})
                        if fragment.id:
                            call["id"] = fragment.id
                        if fragment.function is not None:
                            call["name"] += fragment.function.name or ""
                            call["arguments"] += fragment.function.arguments or ""
                    if choice.finish_reason:
                        finish = choice.finish_reason
        tool_calls = tuple(ToolCall(c["id"], c["name"], c["arguments"]) for _, c in sorted(calls.items()))
        return ModelReply(
            text="".join(text), tool_calls=tool_calls, stop=_STOPS.get(finish or "", "other"),  # type: ignore[arg-type]
            tokens_in=tokens_in, tokens_out=tokens_out, reasoning="".join(reasoning) or None,
        )
