"""OpenAI, DeepSeek and Anthropic played on a ``ProviderServer``, driven by a scripted "model".

The script sees the conversation the adapter sent, normalised (``Said``: role, text, tool calls,
tool results) and answers a ``Step``: text, or tool calls. Each provider's side speaks its own wire
format (PROVIDERS.md): OpenAI chat completions (plain and streamed, tool-call fragments keyed by
index, a last ``include_usage`` chunk), DeepSeek (the same plus ``: keep-alive`` comments, blank
lines before a plain body, ``reasoning_content`` that must come back on assistant turns with tool
calls: a 400 otherwise, as the real API answers), Anthropic messages (tool_use / tool_result,
streamed events with ``ping``). ``faults`` are replies served first, one per request.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.providers.server import ProviderServer, Recorded, Reply


@dataclass(frozen=True)
class Call:
    name: str
    arguments: dict[str, Any] | str
    "a dict, or raw text (to play a model writing malformed JSON)"


@dataclass(frozen=True)
class Step:
    text: str = ""
    calls: tuple[Call, ...] = ()
    reasoning: str = "Pensando en qué herramienta usar."


@dataclass
class Said:
    role: str
    text: str = ""
    calls: list[dict[str, Any]] = field(default_factory=list)
    call_id: str | None = None
    images: int = 0


Script = Callable[[list[Said]], Step]


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _pieces(text: str, size: int = 7) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)] or []


def _arguments(call: Call) -> str:
    return call.arguments if isinstance(call.arguments, str) else json.dumps(call.arguments)


class FakeLlm:
    def __init__(self, server: ProviderServer, script: Script) -> None:
        self.server = server
        self.script = script
        self.faults: list[Reply | str] = []
        "served before the script, one per request; a str is an Anthropic SSE body sent with 200"
        self.seen: list[list[Said]] = []
        self._counter = 0
        self._lock = threading.Lock()

    def _id(self, prefix: str) -> str:
        with self._lock:
            self._counter += 1
            return f"{prefix}{self._counter:04d}"

    def _fault(self) -> Reply | str | None:
        with self._lock:
            return self.faults.pop(0) if self.faults else None

    # --- OpenAI and DeepSeek ---

    def install(self) -> None:
        """OpenAI at ``{url}/v1``, DeepSeek at ``{url}/deepseek``, Anthropic at ``{url}``."""
        self.server.route("POST", r"/v1/chat/completions", lambda req: self._openai(req, False))
        self.server.route("POST", r"/deepseek/chat/completions", lambda req: self._openai(req, True))
        self.server.route("POST", r"/v1/messages", self._anthropic)

    def _openai(self, request: Recorded, deepseek: bool) -> Reply:
        fault = self._fault()
        if isinstance(fault, Reply):
            return fault
        body = request.json()
        conversation: list[Said] = []
        for message in body["messages"]:
            role = message["role"]
            if role == "system":
                continue
            if role == "assistant" and message.get("tool_calls") and deepseek and "reasoning_content" not in message:
                return Reply.json({"error": {"message": "Missing `reasoning_content` field in the assistant message", "type": "invalid_request_error"}}, status=400)
            content = message.get("content")
            images = 0
            if isinstance(content, list):
                images = sum(1 for part in content if part["type"] == "image_url")
                content = "".join(part.get("text", "") for part in content if part["type"] == "text")
            conversation.append(Said(
                role=role, text=content or "", images=images, call_id=message.get("tool_call_id"),
                calls=[{"id": c["id"], "name": c["function"]["name"], "arguments": c["function"]["arguments"]} for c in message.get("tool_calls") or ()],
            ))
        self.seen.append(conversation)
        if body.get("response_format"):
            step = self.script(conversation)
            return self._openai_plain(body, step, deepseek)
        step = self.script(conversation)
        if body.get("stream"):
            return self._openai_stream(body, step, deepseek)
        return self._openai_plain(body, step, deepseek)

    def _openai_calls(self, step: Step) -> list[dict[str, Any]]:
        return [{"id": self._id("call_"), "type": "function", "function": {"name": c.name, "arguments": _arguments(c)}} for c in step.calls]

    def _openai_plain(self, body: dict[str, Any], step: Step, deepseek: bool) -> Reply:
        calls = self._openai_calls(step)
        message: dict[str, Any] = {"role": "assistant", "content": step.text or None}
        if calls:
            message["tool_calls"] = calls
        if deepseek:
            message["reasoning_content"] = step.reasoning
        prompt = _tokens(json.dumps(body["messages"]))
        payload = {
            "id": self._id("chatcmpl-"), "object": "chat.completion", "created": 1765000000, "model": body["model"],
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop", "logprobs": None}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": _tokens(step.text) + len(calls), "total_tokens": prompt + _tokens(step.text)},
        }
        text = json.dumps(payload)
        if deepseek:
            text = "\n\n" + text  # DeepSeek under load: blank lines before the body
        return Reply(200, text.encode(), {"Content-Type": "application/json"})

    def _openai_stream(self, body: dict[str, Any], step: Step, deepseek: bool) -> Reply:
        ident, model = self._id("chatcmpl-"), body["model"]

        def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
            payload = {"id": ident, "object": "chat.completion.chunk", "created": 1765000000, "model": model,
                       "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]}
            return f"data: {json.dumps(payload)}\n\n"

        out = [chunk({"role": "assistant", "content": ""})]
        if deepseek:
            out.append(": keep-alive\n\n")
            out.extend(chunk({"reasoning_content": piece}) for piece in _pieces(step.reasoning))
        out.extend(chunk({"content": piece}) for piece in _pieces(step.text))
        for index, call in enumerate(self._openai_calls(step)):
            out.append(chunk({"tool_calls": [{"index": index, "id": call["id"], "type": "function",
                                              "function": {"name": call["function"]["name"], "arguments": ""}}]}))
            arguments = call["function"]["arguments"]
            half = len(arguments) // 2
            for part in (arguments[:half], arguments[half:]):
                out.append(chunk({"tool_calls": [{"index": index, "function": {"arguments": part}}]}))
            if deepseek:
                out.append(": keep-alive\n\n")
        out.append(chunk({}, "tool_calls" if step.calls else "stop"))
        if (body.get("stream_options") or {}).get("include_usage"):
            prompt = _tokens(json.dumps(body["messages"]))
            usage = {"prompt_tokens": prompt, "completion_tokens": _tokens(step.text) + len(step.calls), "total_tokens": prompt}
            out.append(f"data: {json.dumps({'id': ident, 'object': 'chat.completion.chunk', 'created': 1765000000, 'model': model, 'choices': [], 'usage': usage})}\n\n")
        out.append("data: [DONE]\n\n")
        return Reply(200, "".join(out).encode(), {"Content-Type": "text/event-stream"})

    # --- Anthropic ---

    def _anthropic(self, request: Recorded) -> Reply:
        fault = self._fault()
        if isinstance(fault, Reply):
            return fault
        if isinstance(fault, str):
            return Reply(200, fault.encode(), {"Content-Type": "text/event-stream"})
        body = request.json()
        conversation: list[Said] = []
        expect_results: set[str] = set()
        for message in body["messages"]:
            blocks = message["content"] if isinstance(message["content"], list) else [{"type": "text", "text": message["content"]}]
            if message["role"] == "user":
                results = [b for b in blocks if b["type"] == "tool_result"]
                if {b["tool_use_id"] for b in results} != expect_results:
                    return Reply.json({"type": "error", "error": {"type": "invalid_request_error",
                                       "message": "tool_use ids were found without tool_result blocks immediately after"}}, status=400)
                conversation.extend(Said(role="tool", text=b["content"], call_id=b["tool_use_id"]) for b in results)
                text = "".join(b.get("text", "") for b in blocks if b["type"] == "text")
                if text:
                    conversation.append(Said(role="user", text=text, images=sum(1 for b in blocks if b["type"] == "image")))
                expect_results = set()
            else:
                calls = [{"id": b["id"], "name": b["name"], "arguments": json.dumps(b["input"])} for b in blocks if b["type"] == "tool_use"]
                expect_results = {c["id"] for c in calls}
                conversation.append(Said(role="assistant", text="".join(b.get("text", "") for b in blocks if b["type"] == "text"), calls=calls))
        self.seen.append(conversation)
        step = self.script(conversation)
        content: list[dict[str, Any]] = [{"type": "text", "text": step.text}] if step.text else []
        for call in step.calls:
            content.append({"type": "tool_use", "id": self._id("toolu_"), "name": call.name,
                            "input": call.arguments if isinstance(call.arguments, dict) else {"raw": call.arguments}})
        stop = "tool_use" if step.calls else "end_turn"
        usage_in, usage_out = _tokens(json.dumps(body["messages"])), _tokens(step.text) + len(step.calls)
        if not body.get("stream"):
            return Reply.json({"id": self._id("msg_"), "type": "message", "role": "assistant", "model": body["model"], "content": content,
                               "stop_reason": stop, "stop_sequence": None, "usage": {"input_tokens": usage_in, "output_tokens": usage_out}})
        return Reply(200, anthropic_events(body["model"], content, stop, usage_in, usage_out).encode(), {"Content-Type": "text/event-stream"})


def sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


def anthropic_events(model: str, content: list[dict[str, Any]], stop: str, usage_in: int, usage_out: int, *, error_after: int | None = None) -> str:
    out = [sse("message_start", {"type": "message_start", "message": {
        "id": "msg_stream", "type": "message", "role": "assistant", "model": model, "content": [], "stop_reason": None,
        "stop_sequence": None, "usage": {"input_tokens": usage_in, "output_tokens": 1}}}), sse("ping", {"type": "ping"})]
    for index, block in enumerate(content):
        if block["type"] == "text":
            out.append(sse("content_block_start", {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}))
            for n, piece in enumerate(_pieces(block["text"])):
                if error_after is not None and n == error_after:
                    out.append(sse("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}))
                    return "".join(out)
                out.append(sse("content_block_delta", {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": piece}}))
        else:
            out.append(sse("content_block_start", {"type": "content_block_start", "index": index, "content_block": {
                "type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}}))
            raw = json.dumps(block["input"])
            for part in (raw[: len(raw) // 2], raw[len(raw) // 2:]):
                out.append(sse("content_block_delta", {"type": "content_block_delta", "index": index, "delta": {"type": "input_json_delta", "partial_json": part}}))
        out.append(sse("content_block_stop", {"type": "content_block_stop", "index": index}))
        out.append(sse("ping", {"type": "ping"}))
    out.append(sse("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None}, "usage": {"output_tokens": usage_out}}))
    out.append(sse("message_stop", {"type": "message_stop"}))
    return "".join(out)
