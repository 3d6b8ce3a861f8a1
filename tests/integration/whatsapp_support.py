"""What the WhatsApp integration tests share: the API client, the Graph API server, a moved clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from dependency_injector import providers
from sqlalchemy import text

from adapters.webhooks.whatsapp import sign
from tests.fakes.clock import FakeClock
from tests.integration.api import data
from tests.providers.graph import (
    APP_SECRET,
    PHONE_NUMBER_ID,
    TOKEN,
    VERIFY_TOKEN,
    WABA_ID,
    GraphApi,
    inbound_payload,
)
from tests.providers.server import ProviderServer

START = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
ERROR = "error { code message field }"
MESSAGE = """id direction phone kind text templateName templateLanguage templateParameters fileId filename caption
  entityType entityId status wamid errorCode errorTitle attempts createdAt sentAt deliveredAt readAt failedAt
  client { id name } attemptLog { number startedAt finishedAt outcome response }"""
CONNECT = f"""mutation($p: String!, $w: String!, $t: String!, $s: String!, $v: String!) {{
  connectWhatsapp(phoneNumberId: $p, wabaId: $w, accessToken: $t, appSecret: $s, verifyToken: $v) {{
    connection {{ id phoneNumberId wabaId status lastError connectedAt }} {ERROR} }} }}"""
GET_CONNECTION = f"{{ getWhatsappConnection {{ connection {{ id phoneNumberId wabaId status lastError }} {ERROR} }} }}"
DISCONNECT = f"mutation {{ disconnectWhatsapp {{ disconnected {ERROR} }} }}"
CREATE_CLIENT = "mutation($input: ClientInput!) { createClient(input: $input) { client { id name } error { code } } }"
CREATE_NUMBER = f"""mutation($c: ID!, $p: String!) {{
  createClientWhatsapp(clientId: $c, phone: $p) {{ clientWhatsapp {{ id clientId phone }} {ERROR} }} }}"""
DELETE_NUMBER = f"mutation($id: ID!) {{ deleteClientWhatsapp(id: $id) {{ deletedId {ERROR} }} }}"
GET_CLIENT = "query($id: ID!) { getClientById(id: $id) { client { id defaultChannel whatsappNumbers { id phone } } } }"
SET_CHANNEL = f"""mutation($c: ID!, $ch: String!) {{
  setClientDefaultChannel(clientId: $c, channel: $ch) {{ client {{ id defaultChannel }} {ERROR} }} }}"""
REGISTER = f"""mutation($n: String!, $l: String!, $b: Int!, $d: Boolean) {{
  registerWhatsappTemplate(name: $n, language: $l, bodyParameters: $b, documentHeader: $d) {{
    template {{ id name language bodyParameters documentHeader }} {ERROR} }} }}"""
SEND = f"""mutation($to: String, $c: ID, $text: String, $template: WhatsappTemplateMessageInput) {{
  sendWhatsapp(to: $to, clientId: $c, text: $text, template: $template) {{ messages {{ {MESSAGE} }} {ERROR} }} }}"""
RETRY = f"mutation($id: ID!) {{ retryWhatsapp(id: $id) {{ message {{ {MESSAGE} }} {ERROR} }} }}"
GET_MESSAGE = f"query($id: ID!) {{ getWhatsappMessageById(id: $id) {{ message {{ {MESSAGE} }} {ERROR} }} }}"
MESSAGES = f"""query($filter: WhatsappMessageFilter, $first: Int, $after: String) {{
  whatsappMessages(filter: $filter, first: $first, after: $after) {{
    edges {{ cursor node {{ {MESSAGE} }} }} pageInfo {{ endCursor hasNextPage }} {ERROR} }} }}"""
TEMPLATE = {"name": "factura_lista", "language": "es", "parameters": ["Ana", "F-000001"]}


class Api:
    def __init__(self, service: Any, clock: FakeClock, graph: GraphApi) -> None:
        self.service = service
        self.clock = clock
        self.graph = graph
        self.headers = service.headers("acme")
        self.tenant_id = service.tenant("acme")

    def run(self, query: str, name: str, headers: dict[str, str] | None = None, **variables: Any) -> dict[str, Any]:
        return data(self.service, query, variables, headers=headers or self.headers)[name]

    def ok(self, query: str, name: str, **variables: Any) -> dict[str, Any]:
        result = self.run(query, name, **variables)
        assert result.get("error") is None, result
        return result

    def connect(self, **overrides: str) -> dict[str, Any]:
        values = {"p": PHONE_NUMBER_ID, "w": WABA_ID, "t": TOKEN, "s": APP_SECRET, "v": VERIFY_TOKEN, **overrides}
        return self.ok(CONNECT, "connectWhatsapp", **values)["connection"]

    def client(self, name: str = "Ferretería Ana", phone: str | None = "6123-4567") -> str:
        client = self.ok(CREATE_CLIENT, "createClient", input={"name": name, "taxpayerType": "CONSUMIDOR_FINAL"})["client"]
        if phone:
            self.ok(CREATE_NUMBER, "createClientWhatsapp", c=client["id"], p=phone)
        return client["id"]

    def send(self, **variables: Any) -> dict[str, Any]:
        return self.run(SEND, "sendWhatsapp", **variables)

    def jobs(self) -> int:
        return self.service.container.worker(schedules=()).run_once()

    def message(self, message_id: str) -> dict[str, Any]:
        return self.ok(GET_MESSAGE, "getWhatsappMessageById", id=message_id)["message"]

    def webhook(self, payload: Any, *, secret: str = APP_SECRET, signature: str | None = "sign", raw: bytes | None = None) -> Any:
        body = raw if raw is not None else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        if signature == "sign":
            headers["X-Hub-Signature-256"] = sign(secret, body)
        elif signature is not None:
            headers["X-Hub-Signature-256"] = signature
        response = self.service.client.post("/webhooks/whatsapp", data=body, headers=headers)
        self.jobs()  # the inbox processes notifications through the job runner
        return response

    def inbound(self, sender: str = "50761234567", *, wamid: str | None = None, at: datetime | None = None) -> Any:
        moment = at or self.clock.now()
        return self.webhook(inbound_payload(
            PHONE_NUMBER_ID, sender=sender, wamid=wamid or f"wamid.IN{int(moment.timestamp())}", text="Hola",
            timestamp=int(moment.timestamp()),
        ))

    def count(self, table: str) -> int:
        with self.service.container.engine().connect() as connection:
            return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


@pytest.fixture
def api(make_service: Any, provider_server: ProviderServer) -> Api:
    clock = FakeClock(START)
    service = make_service(whatsapp_graph_url=provider_server.url + "/v23.0")
    service.container.clock.override(providers.Object(clock))
    graph = GraphApi(provider_server, phone_number_id=f"v23.0/{PHONE_NUMBER_ID}")
    return Api(service, clock, graph)


@pytest.fixture
def connected(api: Api) -> Api:
    api.connect()
    return api
