"""The WhatsApp handlers through the bus, with in-memory fakes of every port (storage, Graph API,
phone numbers, SecretBox): what is written, what is refused before anything is, and what each
provider answer does to a message."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.storage.mime import SniffingMimeDetector
from adapters.webhooks.whatsapp import HubSignatures, sign
from application.modules import build_message_bus
from application.files.commands import FilePolicy
from application.invoicing.commands import CreateClient
from application.jobs.errors import PermanentJobError, TransientJobError
from application.tenancy.handlers import CreateTenant
from application.whatsapp.commands import (
    ApplyWhatsappWebhook,
    ConnectWhatsapp,
    CreateClientWhatsapp,
    DeliverWhatsapp,
    RetryWhatsapp,
    RouteWhatsappWebhook,
    SendWhatsapp,
    TemplateInput,
    VerifyWhatsappSubscription,
    WhatsappPolicy,
)
from adapters.whatsapp.graph import GraphApiError, GraphUnreachable
from application.whatsapp.webhooks import BadSignature
from domain.shared.delivery import DeliveryStatus
from domain.shared.errors import DomainError
from domain.tenancy.model import Actor, Role
from domain.whatsapp.connection import ConnectionStatus
from domain.whatsapp.messages import MessageStatus
from tests.fakes.clock import FakeClock
from tests.fakes.storage import FakeFileStorage
from tests.fakes.uow import FakeStore, fake_uow_factory
from tests.fakes.whatsapp import FakePhoneNumbers, FakeSecretBox, FakeWhatsAppSender

TOKEN, SECRET, VERIFY, PNID = "EAAG-token", "app-secret", "verify-me", "1065403"
TEMPLATE = TemplateInput(name="factura_lista", language="es", parameters=("Ana",))


class World:
    def __init__(self, attempts: int = 3) -> None:
        self.clock = FakeClock()
        self.store = FakeStore()
        self.sender = FakeWhatsAppSender()
        self.bus = build_message_bus(
            uow_factory=fake_uow_factory(self.store, self.clock), storage=FakeFileStorage(self.clock),
            mime=SniffingMimeDetector(), clock=self.clock, file_policy=FilePolicy(), secrets=FakeSecretBox(),
            whatsapp_sender=self.sender, phones=FakePhoneNumbers(), webhook_signatures=HubSignatures(),
            whatsapp_policy=WhatsappPolicy(delivery_attempts=attempts),
        )
        self.owner = self.actor("acme")

    def actor(self, slug: str, role: Role = Role.OWNER) -> Actor:
        tenant = self.bus.handle(CreateTenant(actor=None, slug=slug, name=slug.title(), exist_ok=True))
        return Actor(tenant_id=tenant.tenant_id, user_id=f"u@{slug}", role=role)

    def connect(self, actor: Actor | None = None, **kw: Any) -> Any:
        values = dict(phone_number_id=PNID, waba_id="42", access_token=TOKEN, app_secret=SECRET, verify_token=VERIFY)
        return self.bus.handle(ConnectWhatsapp(actor=actor or self.owner, **{**values, **kw}))

    def client(self, phone: str | None = "61234567") -> str:
        client = self.bus.handle(CreateClient(actor=self.owner, name="Ana", taxpayer_type="CONSUMIDOR_FINAL"))
        if phone:
            self.bus.handle(CreateClientWhatsapp(actor=self.owner, client_id=client.id, phone=phone))
        return client.id

    def send(self, **kw: Any) -> Any:
        return self.bus.handle(SendWhatsapp(actor=self.owner, **kw))

    def deliver(self, message_id: str, **kw: Any) -> Any:
        return self.bus.handle(DeliverWhatsapp(actor=None, message_id=message_id, **kw), tenant_id=self.owner.tenant_id)

    def message(self, message_id: str) -> Any:
        return self.store.whatsapp.messages[message_id]

    def webhook(self, payload: dict[str, Any]) -> Any:
        tenant_id = self.owner.tenant_id
        return self.bus.handle(ApplyWhatsappWebhook(actor=None, tenant_id=tenant_id, body=json.dumps(payload).encode()), tenant_id=tenant_id)


def statuses(*items: dict[str, Any], pnid: str = PNID) -> dict[str, Any]:
    return {"object": "whatsapp_business_account", "entry": [{"id": "42", "changes": [{"field": "messages", "value": {
        "metadata": {"phone_number_id": pnid}, "statuses": list(items)}}]}]}


def inbound(sender: str, wamid: str, at: int) -> dict[str, Any]:
    return {"object": "whatsapp_business_account", "entry": [{"id": "42", "changes": [{"field": "messages", "value": {
        "metadata": {"phone_number_id": PNID},
        "messages": [{"from": sender, "id": wamid, "timestamp": str(at), "type": "text", "text": {"body": "hola"}}]}}]}]}


@pytest.fixture
def world() -> World:
    w = World()
    w.connect()
    return w


def test_connecting_seals_the_secrets_and_only_admins_may(world: World) -> None:
    [connection] = world.store.whatsapp.connections.values()
    stored = json.dumps({k: str(v) for k, v in vars(connection).items()})
    assert TOKEN not in stored and SECRET not in stored and VERIFY not in stored
    member = world.actor("acme", Role.MEMBER)
    with pytest.raises(DomainError) as refused:
        world.connect(member, access_token="other")
    assert refused.value.code == "PERMISSION_DENIED"
    with pytest.raises(DomainError) as taken:
        world.connect(world.actor("other"), verify_token="theirs")
    assert taken.value.code == "PHONE_NUMBER_ID_TAKEN"


def test_a_template_is_queued_with_its_job_and_delivered_with_the_opened_token(world: World) -> None:
    [queued] = world.send(client_id=world.client(), template=TEMPLATE)
    [job] = world.store.jobs.values()
    assert (job.kind, job.payload, job.idempotency_key) == ("whatsapp.send", {"message_id": queued.id}, f"whatsapp:{queued.id}:0")
    assert TOKEN not in json.dumps(job.payload)
    assert world.deliver(queued.id) is DeliveryStatus.SENT
    credentials, outgoing = world.sender.sent[0]
    assert (credentials.access_token, outgoing.to, outgoing.callback_data) == (TOKEN, "+50761234567", queued.id)
    assert world.message(queued.id).wamid == "wamid.FAKE1"
    assert world.deliver(queued.id) is DeliveryStatus.SENT and len(world.sender.sent) == 1  # a re-run sends nothing


def test_bad_input_writes_nothing(world: World) -> None:
    client = world.client()
    for kw in (dict(client_id=client, text="x"), dict(client_id=client, text="x" * 5000), dict(to="12", text="x"),
               dict(client_id=client)):
        with pytest.raises(DomainError):
            world.send(**kw)
    assert world.store.whatsapp.messages == {} and world.store.jobs == {}


def test_an_inbound_message_opens_the_window_for_24_hours(world: World) -> None:
    world.webhook(inbound("50761234567", "wamid.IN", int(world.clock.now().timestamp())))
    [message] = world.send(to="+50761234567", text="hola")
    world.clock.advance(timedelta(hours=24))
    with pytest.raises(DomainError) as closed:
        world.send(to="+50761234567", text="hola")
    assert closed.value.code == "WINDOW_CLOSED"
    with pytest.raises(PermanentJobError):
        world.deliver(message.id)  # queued inside the window, delivered after it: refused before calling
    assert world.message(message.id).status is DeliveryStatus.FAILED and world.sender.sent == []


def test_transient_errors_queue_again_then_the_last_attempt_is_dead(world: World) -> None:
    [message] = world.send(client_id=world.client(), template=TEMPLATE)
    world.sender.script = [GraphApiError(code=130429, title="Rate limit hit", http_status=400, retry_after=timedelta(seconds=9))]
    with pytest.raises(TransientJobError) as retried:
        world.deliver(message.id)
    assert retried.value.retry_after == timedelta(seconds=9)
    assert (world.message(message.id).status, world.message(message.id).error_code) == (DeliveryStatus.QUEUED, 130429)
    world.sender.script = [GraphApiError(code=None, title="HTTP 503", http_status=503)]
    with pytest.raises(PermanentJobError):
        world.deliver(message.id, last_attempt=True)
    assert world.message(message.id).status is DeliveryStatus.DEAD


def test_190_needs_reauth(world: World) -> None:
    [message] = world.send(client_id=world.client(), template=TEMPLATE)
    world.sender.script = [GraphApiError(code=190, title="Session has expired", http_status=401)]
    with pytest.raises(PermanentJobError):
        world.deliver(message.id)
    [connection] = world.store.whatsapp.connections.values()
    assert connection.status is ConnectionStatus.NEEDS_REAUTH
    with pytest.raises(DomainError) as refused:
        world.bus.handle(RetryWhatsapp(actor=world.owner, message_id=message.id))
    assert refused.value.code == "WHATSAPP_NEEDS_REAUTH"


def test_no_answer_after_the_request_left_is_uncertain_and_a_refused_connection_is_retried(world: World) -> None:
    client = world.client()
    [maybe, never] = [world.send(client_id=client, template=TEMPLATE)[0] for _ in range(2)]
    world.sender.script = [GraphUnreachable("read timeout", maybe_delivered=True)]
    assert world.deliver(maybe.id) is DeliveryStatus.UNCERTAIN
    world.sender.script = [GraphUnreachable("connection refused", maybe_delivered=False)]
    with pytest.raises(TransientJobError):
        world.deliver(never.id)
    assert world.message(never.id).status is DeliveryStatus.QUEUED


def test_a_run_that_finds_sending_and_the_spare_run_make_it_uncertain_without_calling(world: World) -> None:
    client = world.client()
    [first, second] = [world.send(client_id=client, template=TEMPLATE)[0] for _ in range(2)]
    for message_id in (first.id, second.id):
        world.store.whatsapp.messages[message_id].status = DeliveryStatus.SENDING
    world.deliver(first.id)
    world.deliver(second.id, spare=True)
    assert {world.message(first.id).status, world.message(second.id).status} == {DeliveryStatus.UNCERTAIN}
    assert world.sender.sent == []
    again = world.bus.handle(RetryWhatsapp(actor=world.owner, message_id=first.id))
    assert again.status is MessageStatus.QUEUED  # the log's view
    assert any(job.idempotency_key == f"whatsapp:{first.id}:1" for job in world.store.jobs.values())


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.permutations(["sent", "delivered", "read", "delivered", "sent"]))
def test_webhook_statuses_in_any_order_end_read(order: list[str]) -> None:
    world = World()
    world.connect()
    [message] = world.send(client_id=world.client(), template=TEMPLATE)
    world.deliver(message.id)
    wamid = world.message(message.id).wamid
    for index, state in enumerate(order):
        world.webhook(statuses({"id": wamid, "status": state, "timestamp": str(1000 + index)}))
    assert world.message(message.id).status is DeliveryStatus.READ


def test_routing_a_webhook_checks_the_tenants_signature(world: World) -> None:
    body = json.dumps(statuses({"id": "w", "status": "read", "timestamp": "1"})).encode()
    routed = world.bus.handle(RouteWhatsappWebhook(actor=None, body=body, signature=sign(SECRET, body)))
    assert routed.tenant_id == world.owner.tenant_id
    for signature in (None, sign("wrong", body), "sha256=00"):
        with pytest.raises(BadSignature):
            world.bus.handle(RouteWhatsappWebhook(actor=None, body=body, signature=signature))
    other = json.dumps(statuses({"id": "w", "status": "read", "timestamp": "1"}, pnid="999")).encode()
    assert world.bus.handle(RouteWhatsappWebhook(actor=None, body=other, signature=None)).tenant_id is None


def test_the_handshake(world: World) -> None:
    ask = lambda **kw: world.bus.handle(VerifyWhatsappSubscription(actor=None, **kw))  # noqa: E731
    assert ask(mode="subscribe", verify_token=VERIFY, challenge="123") == "123"
    assert ask(mode="subscribe", verify_token="nope", challenge="123") is None
    assert ask(mode="other", verify_token=VERIFY, challenge="123") is None
