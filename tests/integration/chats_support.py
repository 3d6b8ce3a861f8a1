"""What the assistant's integration tests share: a service whose provider base URLs point at a
local ``FakeLlm``, a tenant's books (clients, invoices, payments) made through the bus, GraphQL
helpers, and the worker run by hand."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from dependency_injector import providers

from application.invoicing.commands import CreateClient, CreateInvoice, RegisterInvoicePayment
from domain.invoicing.lines import LineInput
from domain.tenancy.model import Actor, Role
from entrypoints.config import Variables
from tests.fakes.clock import FakeClock
from tests.integration.api import gql
from tests.providers.llm import FakeLlm, Script, Step
from tests.providers.server import ProviderServer

START = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
KEY = "sk-tenant-key-4f9a1c"

SEND = """
mutation($chat: ID, $m: String!, $a: [ID!]) {
  sendChatMessage(chatId: $chat, message: $m, attachmentIds: $a) {
    chat { id title status }
    message { id status role text attachments }
    error { code message field }
  }
}
"""
CHAT = """
query($id: ID!) {
  getChatById(id: $id) {
    chat { id title status provider model
      messages(first: 100) { edges { node { id role text status provider model tokensIn tokensOut latencyMs errorCode errorMessage
        toolCalls { id name arguments } toolResults { toolCallId name content isError } attachments } } pageInfo { hasNextPage } } }
    error { code message field }
  }
}
"""
CONFIGURE = """
mutation($p: String!, $m: String!, $k: String) {
  configureChatProvider(provider: $p, model: $m, apiKey: $k) {
    settings { provider model ownKey keyHint status lastError }
    error { code message field }
  }
}
"""

MODELS = {"OPENAI": "gpt-test", "ANTHROPIC": "claude-test", "DEEPSEEK": "deepseek-v4-flash"}


@dataclass
class Books:
    sol: str
    norte: str
    invoices: dict[str, str]


class Chats:
    def __init__(self, service: Any, llm: FakeLlm, clock: FakeClock) -> None:
        self.service = service
        self.llm = llm
        self.clock = clock
        self.headers = service.headers("acme")
        self.tenant_id = service.tenant("acme")

    def run(self, query: str, field: str, *, headers: dict[str, str] | None = None, **variables: Any) -> dict[str, Any]:
        payload = gql(self.service, query, variables, headers=headers or self.headers)
        assert "errors" not in payload, payload
        return payload["data"][field]

    def ok(self, query: str, field: str, **kw: Any) -> dict[str, Any]:
        result = self.run(query, field, **kw)
        assert result["error"] is None, result
        return result

    def configure(self, provider: str, *, key: str | None = KEY, headers: dict[str, str] | None = None) -> dict[str, Any]:
        return self.ok(CONFIGURE, "configureChatProvider", p=provider, m=MODELS[provider], k=key, headers=headers)["settings"]

    def send(self, message: str, *, chat: str | None = None, attachments: list[str] | None = None,
             headers: dict[str, str] | None = None) -> dict[str, Any]:
        return self.run(SEND, "sendChatMessage", chat=chat, m=message, a=attachments, headers=headers)

    def jobs(self) -> int:
        return int(self.service.container.worker(schedules=()).run_once())

    def ask(self, message: str, **kw: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Send, let the worker answer, and return the chat and its messages."""
        sent = self.send(message, **kw)
        assert sent["error"] is None, sent
        assert self.jobs() == 1
        chat = self.ok(CHAT, "getChatById", id=sent["chat"]["id"])["chat"]
        return chat, [edge["node"] for edge in chat["messages"]["edges"]]

    def actor(self, slug: str = "acme") -> Actor:
        return Actor(tenant_id=self.service.tenant(slug), user_id="user-1", role=Role.OWNER)

    def books(self, slug: str = "acme") -> Books:
        bus, actor = self.service.container.bus(), self.actor(slug)

        def client(name: str) -> str:
            return bus.handle(CreateClient(actor=actor, name=name, taxpayer_type="JURIDICO", ruc="155-1-2026", dv="12")).id

        def invoice(client_id: str, issued: date, due: date, amount: str, rate: int, paid: str | None = None) -> str:
            view = bus.handle(CreateInvoice(
                actor=actor, client_id=client_id, issue_date=issued, due_date=due,
                lines=(LineInput(description="Servicios", quantity=Decimal(1), unit_price=Decimal(amount), tax_rate=rate),),
            ))
            if paid:
                bus.handle(RegisterInvoicePayment(actor=actor, invoice_id=view.id, amount=Decimal(paid), method="ACH", date=issued))
            return view.id

        sol, norte = client("Ferretería El Sol"), client("Distribuidora Norte")
        invoices = {
            "A": invoice(sol, date(2026, 10, 5), date(2026, 10, 20), "1000.00", 7),
            "B": invoice(sol, date(2026, 9, 1), date(2026, 9, 15), "500.00", 7, paid="200.00"),
            "C": invoice(sol, date(2026, 10, 20), date(2026, 11, 30), "2000.00", 10, paid="2200.00"),
            "D": invoice(norte, date(2026, 10, 10), date(2026, 10, 25), "3000.00", 7),
            "E": invoice(norte, date(2026, 8, 1), date(2026, 8, 15), "100.00", 0),
        }
        return Books(sol=sol, norte=norte, invoices=invoices)


def results_after_last_user(conversation: list[Any]) -> list[dict[str, Any]]:
    last = max(i for i, said in enumerate(conversation) if said.role == "user")
    return [json.loads(said.text) for said in conversation[last + 1:] if said.role == "tool"]


def last_user(conversation: list[Any]) -> str:
    return [said.text for said in conversation if said.role == "user"][-1]


def make_chats(make_service: Any, server: ProviderServer, script: Script, **variables: str) -> Chats:
    base = {
        "ISTMO_OPENAI_BASE_URL": f"{server.url}/v1", "ISTMO_ANTHROPIC_BASE_URL": server.url,
        "ISTMO_DEEPSEEK_BASE_URL": f"{server.url}/deepseek", **variables,
    }
    service = make_service(variables=Variables(base))
    clock = FakeClock(START)
    service.container.clock.override(providers.Object(clock))
    llm = FakeLlm(server, script)
    llm.install()
    return Chats(service, llm, clock)


def answer_only(text: str) -> Script:
    return lambda conversation: Step(text=text)


@pytest.fixture
def chats_factory(make_service: Any, provider_server: ProviderServer) -> Any:
    def build(script: Script, **variables: str) -> Chats:
        return make_chats(make_service, provider_server, script, **variables)

    return build


__all__ = ["replace"]
