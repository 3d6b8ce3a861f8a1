"""The ChatModel adapters, production code on the providers' own SDKs, against a local server
speaking each wire format: streaming deltas, tool-call fragments, usage, DeepSeek's
reasoning_content and keep-alives, Anthropic's ping and error events, retries and their limits."""

from __future__ import annotations

import json
from typing import Any

import pytest

from adapters.llm.models import InstanceProvider, SdkChatModels
from adapters.llm.retrying import Retrying
from application.chats.ports import ImagePart, ModelError, ModelRequest, ToolCall, ToolSpec, Turn
from tests.providers.llm import Call, FakeLlm, Said, Step, anthropic_events
from tests.providers.server import ProviderServer, Reply, provider_server  # noqa: F401 - fixture

TOOL = ToolSpec(name="list_invoices", description="List invoices.", parameters={
    "type": "object", "properties": {"status": {"type": "string"}}, "required": [], "additionalProperties": False,
})


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def _model(server: ProviderServer, provider: str, sleeps: Sleeps | None = None) -> Any:
    bases = {"OPENAI": f"{server.url}/v1", "DEEPSEEK": f"{server.url}/deepseek", "ANTHROPIC": server.url}
    models = SdkChatModels({provider: InstanceProvider("sk-test", bases[provider])}, retrying=Retrying(sleep=sleeps or Sleeps()))
    return models.connect(models.instance_access(provider))


def _request(*turns: Turn, tools: tuple[ToolSpec, ...] = (TOOL,)) -> ModelRequest:
    return ModelRequest(model="m", system="Eres útil.", turns=turns or (Turn(role="user", text="Hola"),), tools=tools, timeout=30)


@pytest.mark.parametrize("provider", ["OPENAI", "DEEPSEEK", "ANTHROPIC"])
def test_streamed_text_arrives_in_order_with_usage(provider_server: ProviderServer, provider: str) -> None:
    llm = FakeLlm(provider_server, lambda c: Step(text="La factura F-000004 debe 3210.00 USD."))
    llm.install()
    deltas: list[str] = []
    reply = _model(provider_server, provider).complete(_request(), on_text=deltas.append)
    assert "".join(deltas) == reply.text == "La factura F-000004 debe 3210.00 USD." and len(deltas) > 3
    assert reply.stop == "end" and reply.tokens_in > 0 and reply.tokens_out > 0
    body = provider_server.requests[-1].json()
    assert body["stream"] is True
    if provider != "ANTHROPIC":
        assert body["stream_options"] == {"include_usage": True}
        assert ("max_tokens" in body) is (provider == "DEEPSEEK")


@pytest.mark.parametrize("provider", ["OPENAI", "DEEPSEEK", "ANTHROPIC"])
def test_streamed_tool_calls_are_assembled_from_fragments(provider_server: ProviderServer, provider: str) -> None:
    llm = FakeLlm(provider_server, lambda c: Step(calls=(Call("list_invoices", {"status": "unpaid"}), Call("list_invoices", {"status": "paid"}))))
    llm.install()
    reply = _model(provider_server, provider).complete(_request(), on_text=lambda _: None)
    assert reply.stop == "tool_calls"
    assert [(c.name, json.loads(c.arguments)) for c in reply.tool_calls] == [("list_invoices", {"status": "unpaid"}), ("list_invoices", {"status": "paid"})]
    assert all(c.id for c in reply.tool_calls) and reply.tool_calls[0].id != reply.tool_calls[1].id
    if provider == "DEEPSEEK":
        assert reply.reasoning == "Pensando en qué herramienta usar."


def test_deepseek_gets_its_reasoning_back_with_the_tool_results(provider_server: ProviderServer) -> None:
    llm = FakeLlm(provider_server, lambda c: Step(text="ok"))
    llm.install()
    call = ToolCall("call_1", "list_invoices", "{}")
    turns = (Turn(role="user", text="Hola"), Turn(role="assistant", tool_calls=(call,), reasoning="pensé"),
             Turn(role="tool", text='{"invoices":[]}', tool_call_id="call_1"))
    _model(provider_server, "DEEPSEEK").complete(_request(*turns))
    sent = provider_server.requests[-1].json()["messages"]
    assert sent[2]["reasoning_content"] == "pensé" and sent[3] == {"role": "tool", "tool_call_id": "call_1", "content": '{"invoices":[]}'}


def test_anthropic_gets_tool_results_in_the_next_user_turn(provider_server: ProviderServer) -> None:
    llm = FakeLlm(provider_server, lambda c: Step(text="ok"))
    llm.install()
    calls = (ToolCall("toolu_1", "list_invoices", '{"status": "unpaid"}'), ToolCall("toolu_2", "list_invoices", "{}"))
    turns = (Turn(role="user", text="Hola"), Turn(role="assistant", text="Busco.", tool_calls=calls),
             Turn(role="tool", text="[]", tool_call_id="toolu_1"), Turn(role="tool", text="bad", tool_call_id="toolu_2", tool_error=True))
    assert _model(provider_server, "ANTHROPIC").complete(_request(*turns)).text == "ok"
    body = provider_server.requests[-1].json()
    assert body["system"] == "Eres útil." and [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert body["messages"][1]["content"][1] == {"type": "tool_use", "id": "toolu_1", "name": "list_invoices", "input": {"status": "unpaid"}}
    assert [b["tool_use_id"] for b in body["messages"][2]["content"]] == ["toolu_1", "toolu_2"]
    assert body["messages"][2]["content"][1]["is_error"] is True
    assert body["tools"][0]["input_schema"] == TOOL.parameters
    sent = provider_server.requests[-1]
    assert "sk-test" in (sent.header("x-api-key") or sent.header("Authorization") or "")  # the SDK's choice of header


def test_images_go_as_each_provider_takes_them(provider_server: ProviderServer) -> None:
    llm = FakeLlm(provider_server, lambda c: Step(text=f"{c[-1].images} imagen"))
    llm.install()
    turn = Turn(role="user", text="¿Qué es?", images=(ImagePart(mime="image/png", data=b"\x89PNG..."),))
    assert _model(provider_server, "OPENAI").complete(_request(turn)).text == "1 imagen"
    part = provider_server.requests[-1].json()["messages"][1]["content"][1]
    assert part["image_url"]["url"].startswith("data:image/png;base64,")
    assert _model(provider_server, "ANTHROPIC").complete(_request(turn)).text == "1 imagen"
    block = provider_server.requests[-1].json()["messages"][0]["content"][0]
    assert block["type"] == "image" and block["source"]["media_type"] == "image/png"


@pytest.mark.parametrize(("provider", "status"), [("OPENAI", 429), ("OPENAI", 503), ("DEEPSEEK", 500), ("ANTHROPIC", 529), ("ANTHROPIC", 429)])
def test_retryable_failures_are_retried_honouring_retry_after(provider_server: ProviderServer, provider: str, status: int) -> None:
    llm = FakeLlm(provider_server, lambda c: Step(text="al fin"))
    llm.install()
    error = {"type": "error", "error": {"type": "overloaded_error" if status == 529 else "rate_limit_error", "message": "busy"}}
    llm.faults += [Reply.json(error, status=status, headers={"Retry-After": "3"}), Reply.json(error, status=status)]
    sleeps = Sleeps()
    assert _model(provider_server, provider, sleeps).complete(_request(), on_text=lambda _: None).text == "al fin"
    assert sleeps.waits == [3.0, 1.0] and len(provider_server.requests) == 3


def test_retries_stop_after_four_attempts(provider_server: ProviderServer) -> None:
    llm = FakeLlm(provider_server, lambda c: Step(text="nunca"))
    llm.install()
    llm.faults += [Reply.json({"error": {"message": "down"}}, status=503)] * 5
    with pytest.raises(ModelError) as raised:
        _model(provider_server, "OPENAI").complete(_request())
    assert raised.value.kind == "unavailable" and len(provider_server.requests) == 4


@pytest.mark.parametrize(("provider", "status", "kind"), [
    ("OPENAI", 401, "auth"), ("OPENAI", 403, "auth"), ("OPENAI", 400, "bad_request"), ("OPENAI", 404, "bad_request"),
    ("OPENAI", 422, "bad_request"), ("DEEPSEEK", 402, "balance"), ("DEEPSEEK", 422, "bad_request"),
    ("ANTHROPIC", 401, "auth"), ("ANTHROPIC", 413, "bad_request"),
])
def test_client_errors_are_not_retried(provider_server: ProviderServer, provider: str, status: int, kind: str) -> None:
    llm = FakeLlm(provider_server, lambda c: Step(text="x"))
    llm.install()
    llm.faults.append(Reply.json({"type": "error", "error": {"type": "x", "message": "no"}}, status=status))
    with pytest.raises(ModelError) as raised:
        _model(provider_server, provider).complete(_request(), on_text=lambda _: None)
    assert raised.value.kind == kind and raised.value.status == status and len(provider_server.requests) == 1


def test_an_anthropic_error_event_after_200_before_any_text_is_retried(provider_server: ProviderServer) -> None:
    llm = FakeLlm(provider_server, lambda c: Step(text="Listo, aquí está."))
    llm.install()
    llm.faults.append(anthropic_events("m", [{"type": "text", "text": "Hola"}], "end_turn", 5, 5, error_after=0))
    sleeps = Sleeps()
    deltas: list[str] = []
    reply = _model(provider_server, "ANTHROPIC", sleeps).complete(_request(), on_text=deltas.append)
    assert reply.text == "Listo, aquí está." == "".join(deltas) and len(sleeps.waits) == 1


def test_an_anthropic_error_event_after_text_fails_the_call(provider_server: ProviderServer) -> None:
    llm = FakeLlm(provider_server, lambda c: Step(text="nunca"))
    llm.install()
    llm.faults.append(anthropic_events("m", [{"type": "text", "text": "Hola, la factura más grande es"}], "end_turn", 5, 5, error_after=2))
    deltas: list[str] = []
    with pytest.raises(ModelError) as raised:
        _model(provider_server, "ANTHROPIC").complete(_request(), on_text=deltas.append)
    assert raised.value.kind == "unavailable" and deltas and len(provider_server.requests) == 1


def test_structured_output_per_provider(provider_server: ProviderServer) -> None:
    schema = {"type": "object", "properties": {"ruc": {"type": "string"}}, "required": ["ruc"], "additionalProperties": False}
    answer = {"ruc": "155-1-2026"}

    def script(conversation: list[Said]) -> Step:
        return Step(text=json.dumps(answer))

    llm = FakeLlm(provider_server, script)
    llm.install()
    request = ModelRequest(model="m", system="json", turns=(Turn(role="user", text="Lee. JSON."),), json_schema=schema, schema_name="invoice", timeout=30)
    assert _model(provider_server, "OPENAI").complete(request).data == answer
    assert provider_server.requests[-1].json()["response_format"]["json_schema"] == {"name": "invoice", "strict": True, "schema": schema}
    assert _model(provider_server, "DEEPSEEK").complete(request).data == answer
    assert provider_server.requests[-1].json()["response_format"] == {"type": "json_object"}
    provider_server.route("POST", r"/v1/messages", lambda req: Reply.json({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "m", "stop_reason": "tool_use", "stop_sequence": None,
        "content": [{"type": "tool_use", "id": "toolu_9", "name": "invoice", "input": answer}], "usage": {"input_tokens": 9, "output_tokens": 4}}))
    assert _model(provider_server, "ANTHROPIC").complete(request).data == answer
    sent = provider_server.requests[-1].json()
    assert sent["tool_choice"] == {"type": "tool", "name": "invoice"} and sent["tools"][0]["input_schema"] == schema


def test_deepseek_blank_json_answer_is_asked_again(provider_server: ProviderServer) -> None:
    answers = iter(["", json.dumps({"ruc": "1"})])
    llm = FakeLlm(provider_server, lambda c: Step(text=next(answers)))
    llm.install()
    request = ModelRequest(model="m", system="json", turns=(Turn(role="user", text="JSON"),), json_schema={"type": "object"}, timeout=30)
    assert _model(provider_server, "DEEPSEEK").complete(request).data == {"ruc": "1"}
    assert len(provider_server.requests) == 2


@pytest.mark.parametrize("provider", ["OPENAI", "ANTHROPIC"])
def test_a_key_echoed_by_the_provider_is_not_passed_on(provider_server: ProviderServer, provider: str) -> None:
    llm = FakeLlm(provider_server, lambda c: Step(text="x"))
    llm.install()
    llm.faults.append(Reply.json({"type": "error", "error": {"type": "authentication_error", "message": "Incorrect API key provided: sk-test"}}, status=401))
    with pytest.raises(ModelError) as raised:
        _model(provider_server, provider).complete(_request())
    assert "sk-test" not in str(raised.value) and "[key]" in raised.value.message


def test_a_client_is_built_once_per_provider_base_and_key_and_the_least_recently_used_goes() -> None:
    from application.chats.ports import ProviderAccess

    models = SdkChatModels({}, max_clients=2)

    def access(provider: str, key: str, base: str = "http://127.0.0.1:9/v1") -> ProviderAccess:
        return ProviderAccess(provider=provider, api_key=key, base_url=base)

    one = models.connect(access("OPENAI", "sk-one"))
    two = models.connect(access("OPENAI", "sk-two"))  # another tenant's key: another client
    assert two is not one
    assert models.connect(access("OPENAI", "sk-one")) is one and models.connect(access("OPENAI", "sk-two")) is two  # at the limit
    assert models.connect(access("OPENAI", "sk-one", "http://127.0.0.1:8/v1")) is not one  # one past it: sk-one goes
    assert models.connect(access("OPENAI", "sk-two")) is two
    assert models.connect(access("OPENAI", "sk-one")) is not one
    claude = models.connect(access("ANTHROPIC", "sk-one", "http://127.0.0.1:9"))
    assert claude.name == "ANTHROPIC" and models.connect(access("ANTHROPIC", "sk-one", "http://127.0.0.1:9")) is claude
    assert "sk-one" not in repr(models)
