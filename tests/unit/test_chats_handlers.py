"""The assistant's handlers through the bus with in-memory fakes (the store, the SecretBox, a
scripted ChatModel): what a send writes, what a turn stores and relays, what is refused first."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from adapters.llm.relay import MemoryTurnEvents
from adapters.storage.mime import SniffingMimeDetector
from application.chats.commands import (
    ArchiveSessionChats,
    ConfigureChatProvider,
    FindChats,
    GetChatMessages,
    GetCurrentSessionActiveChat,
    RunChatTurn,
    SendChatMessage,
)
from application.chats.ports import ModelError, ModelReply, ModelRequest
from application.files.commands import FilePolicy
from application.invoicing.commands import CreateClient, CreateInvoice
from application.modules import build_message_bus
from application.tenancy.handlers import CreateTenant
from domain.chats.errors import ChatArchived, ProviderNotConfigured, TokenBudgetSpent
from domain.invoicing.lines import LineInput
from domain.shared.errors import Conflict, NotFound, PermissionDenied
from domain.tenancy.model import Actor, Role
from tests.fakes.chats import FakeChatModel, FakeChatModels, reply
from tests.fakes.clock import FakeClock
from tests.fakes.storage import FakeFileStorage
from tests.fakes.uow import FakeStore, fake_uow_factory
from tests.fakes.whatsapp import FakeSecretBox


class World:
    def __init__(self, script: Any) -> None:
        from application.chats.commands import ChatPolicy
        from adapters.llm.pdf_text import PypdfText

        self.clock = FakeClock()
        self.store = FakeStore()
        self.events = MemoryTurnEvents()
        self.model = FakeChatModel(script)
        self.models = FakeChatModels(self.model)
        self.secrets = FakeSecretBox()
        self.bus = build_message_bus(
            uow_factory=fake_uow_factory(self.store, self.clock), storage=FakeFileStorage(self.clock),
            mime=SniffingMimeDetector(), clock=self.clock, file_policy=FilePolicy(), secrets=self.secrets,
            chat_models=self.models, turn_events=self.events, pdf_text=PypdfText(), chat_policy=ChatPolicy(daily_tokens=100),
        )
        self.owner = self.actor("acme")

    def actor(self, slug: str, role: Role = Role.OWNER, user: str = "u1", session: str | None = "s1") -> Actor:
        tenant = self.bus.handle(CreateTenant(actor=None, slug=slug, name=slug.title(), exist_ok=True))
        return Actor(tenant_id=tenant.tenant_id, user_id=f"{user}@{slug}", role=role, session_id=session)

    def configure(self, actor: Actor | None = None, provider: str = "ANTHROPIC") -> Any:
        return self.bus.handle(ConfigureChatProvider(actor=actor or self.owner, provider=provider, model="m-1", api_key="sk-own-key-1234"))

    def turn(self, actor: Actor, message_id: str) -> Any:
        return self.bus.handle(RunChatTurn(actor=None, message_id=message_id), tenant_id=actor.tenant_id)

    def messages(self, actor: Actor, chat_id: str) -> list[Any]:
        return list(self.bus.handle(GetChatMessages(actor=actor, chat_id=chat_id)).items)


def test_a_send_stores_the_message_and_queues_the_turn_and_nothing_else() -> None:
    world = World(lambda request: reply("Hola."))
    world.configure()
    sent = world.bus.handle(SendChatMessage(actor=world.owner, message="¿Cuánto me deben?"))
    assert sent.message.status == "PENDING" and sent.chat.title == "¿Cuánto me deben?"
    jobs = [job for job in world.store.jobs.values() if job.kind == "chats.turn"]
    assert [job.payload for job in jobs] == [{"message_id": sent.message.id}]
    assert world.model.requests == []  # no model call in the request


def test_a_turn_runs_tools_relays_progress_and_stores_every_round() -> None:
    def script(request: ModelRequest) -> ModelReply:
        if request.turns[-1].role == "tool":
            figures = json.loads(request.turns[-1].text)
            return reply(f"La mayor es {figures['invoices'][0]['number']} por {figures['invoices'][0]['balance']} USD.")
        return reply("", ("list_invoices", '{"status": "unpaid", "sort": "balance_desc", "limit": 1}'))

    world = World(script)
    client = world.bus.handle(CreateClient(actor=world.owner, name="Ferretería El Sol", taxpayer_type="JURIDICO", ruc="155-1-2026", dv="12"))
    for amount in ("100.00", "250.50"):
        world.bus.handle(CreateInvoice(actor=world.owner, client_id=client.id, lines=(
            LineInput(description="x", quantity=Decimal(1), unit_price=Decimal(amount), tax_rate=0),)))
    world.configure()
    sent = world.bus.handle(SendChatMessage(actor=world.owner, message="¿La mayor?"))
    answer_id = world.turn(world.owner, sent.message.id)
    stored = world.messages(world.owner, sent.chat.id)
    assert [m.role for m in stored] == ["USER", "ASSISTANT", "TOOL", "ASSISTANT"]
    assert stored[-1].id == answer_id and stored[-1].text == "La mayor es F-000002 por 250.50 USD."
    assert stored[0].status == "COMPLETE" and stored[-1].tokens_in == 20 and stored[-1].provider == "ANTHROPIC"
    kinds = [event["type"] for _, event in world.events.listen(sent.message.id, after=0, wait=0)]
    assert kinds == ["tool_started", "tool_finished", "delta", "delta", "done"]
    assert world.turn(world.owner, sent.message.id) is None  # a job run twice answers once
    assert world.models.connected[-1].api_key == "sk-own-key-1234"


def test_refusals_come_before_anything_is_written() -> None:
    world = World(lambda request: reply("x"))
    with pytest.raises(ProviderNotConfigured):
        world.bus.handle(SendChatMessage(actor=world.owner, message="Hola"))
    member = world.actor("acme", Role.MEMBER, user="u2")
    with pytest.raises(PermissionDenied):
        world.configure(member)
    world.configure()
    other = world.actor("otro")
    sent = world.bus.handle(SendChatMessage(actor=world.owner, message="Hola"))
    with pytest.raises(NotFound):
        world.bus.handle(SendChatMessage(actor=other, message="Hola", chat_id=sent.chat.id))
    with pytest.raises(Conflict):
        world.bus.handle(SendChatMessage(actor=world.owner, message="Otra", chat_id=sent.chat.id))
    world.turn(world.owner, sent.message.id)
    assert world.bus.handle(ArchiveSessionChats(actor=world.owner)) == 1
    with pytest.raises(ChatArchived):
        world.bus.handle(SendChatMessage(actor=world.owner, message="Otra", chat_id=sent.chat.id))
    assert world.bus.handle(GetCurrentSessionActiveChat(actor=world.owner)) is None
    assert len(world.bus.handle(FindChats(actor=world.owner, include_archived=True)).items) == 1


def test_the_budget_is_per_tenant_and_per_day() -> None:
    world = World(lambda request: ModelReply(text="largo", tool_calls=(), stop="end", tokens_in=90, tokens_out=20))
    world.configure()
    sent = world.bus.handle(SendChatMessage(actor=world.owner, message="Hola"))
    world.turn(world.owner, sent.message.id)
    with pytest.raises(TokenBudgetSpent):
        world.bus.handle(SendChatMessage(actor=world.owner, message="Otra"))
    other = world.actor("otro")
    world.configure(other)
    assert world.bus.handle(SendChatMessage(actor=other, message="Hola")).message.status == "PENDING"
    from datetime import timedelta

    world.clock.advance(timedelta(days=1))
    assert world.bus.handle(SendChatMessage(actor=world.owner, message="Mañana")).message.status == "PENDING"


def test_a_provider_error_is_stored_on_the_turn() -> None:
    world = World(lambda request: ModelError("balance", "provider balance exhausted", status=402))
    world.configure(provider="DEEPSEEK")
    sent = world.bus.handle(SendChatMessage(actor=world.owner, message="Hola"))
    world.turn(world.owner, sent.message.id)
    stored = world.messages(world.owner, sent.chat.id)
    assert stored[0].status == "FAILED" and stored[-1].error_code == "PROVIDER_BALANCE_EXHAUSTED"
    events = [event for _, event in world.events.listen(sent.message.id, after=0, wait=0)]
    assert events[-1]["type"] == "error" and events[-1]["code"] == "PROVIDER_BALANCE_EXHAUSTED"
    assert "sk-own-key" not in json.dumps(events)


def test_a_turn_past_its_deadline_is_stopped_and_says_so() -> None:
    from application.chats.commands import ChatPolicy
    from application.chats.settings import InstanceDefault

    world = World(lambda request: reply("nunca"))
    world.bus = build_message_bus(
        uow_factory=fake_uow_factory(world.store, world.clock), storage=FakeFileStorage(world.clock),
        mime=SniffingMimeDetector(), clock=world.clock, file_policy=FilePolicy(), secrets=world.secrets,
        chat_models=world.models, turn_events=world.events, pdf_text=object(), chat_policy=ChatPolicy(turn_seconds=1e-9),
        chat_default=InstanceDefault(),
    )
    world.configure()
    sent = world.bus.handle(SendChatMessage(actor=world.owner, message="Hola"))
    world.turn(world.owner, sent.message.id)
    stored = world.messages(world.owner, sent.chat.id)
    assert stored[-1].error_code == "TURN_DEADLINE" and "was stopped" in stored[-1].error_message
    assert world.model.requests == []
