"""WhatsApp through the HTTP API, against the Graph API played by ``tests/providers/server.py``.

Each test runs on SQLite and on PostgreSQL (``make_service``'s ``database_url``), with a clock the
test moves (the 24-hour window, retry backoff) and the job worker run by hand (``Api.jobs``). The
adapter is the production ``GraphWhatsAppSender`` pointed at the local server by
``ISTMO_WHATSAPP_GRAPH_URL``; what it spoke is read back from the server's recorded requests.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from dependency_injector import providers
from sqlalchemy import text

from tests.fakes.clock import FakeClock
from tests.integration.whatsapp_support import *  # noqa: F403 - queries, Api and its fixtures
from tests.integration.whatsapp_support import Api, START
from tests.providers.graph import APP_SECRET, PHONE_NUMBER_ID, TOKEN, VERIFY_TOKEN, WABA_ID, GraphApi, graph_error
from tests.providers.server import ProviderServer, Reply, provider_server  # noqa: F401 - fixture


# --- connection ---------------------------------------------------------------------------------


def test_connect_shows_no_secret_and_seals_them_at_rest(api: Api) -> None:
    connection = api.connect()
    assert connection["phoneNumberId"] == PHONE_NUMBER_ID and connection["status"] == "CONNECTED"
    shown = api.ok(GET_CONNECTION, "getWhatsappConnection")["connection"]
    assert shown == {k: connection[k] for k in shown}
    with api.service.container.engine().connect() as connection_:
        row = dict(connection_.execute(text("SELECT * FROM whatsapp_connections")).mappings().one())
    stored = json.dumps(row, default=str)
    for secret in (TOKEN, APP_SECRET, VERIFY_TOKEN):
        assert secret not in stored


def test_only_owners_and_admins_connect_and_disconnect(api: Api) -> None:
    member = api.service.headers("acme", role="member", subject="user-2")
    refused = api.run(CONNECT, "connectWhatsapp", headers=member, p=PHONE_NUMBER_ID, w=WABA_ID, t=TOKEN, s=APP_SECRET, v=VERIFY_TOKEN)
    assert refused["error"]["code"] == "PERMISSION_DENIED"
    assert api.count("whatsapp_connections") == 0
    api.connect()
    assert api.run(DISCONNECT, "disconnectWhatsapp", headers=member)["error"]["code"] == "PERMISSION_DENIED"
    assert api.ok(DISCONNECT, "disconnectWhatsapp")["disconnected"] is True
    assert api.ok(GET_CONNECTION, "getWhatsappConnection")["connection"] is None


def test_connect_refuses_bad_ids_and_a_number_of_another_tenant(api: Api) -> None:
    bad = api.run(CONNECT, "connectWhatsapp", p="12ab", w=WABA_ID, t=TOKEN, s=APP_SECRET, v=VERIFY_TOKEN)
    assert bad["error"]["field"] == "phoneNumberId"
    empty = api.run(CONNECT, "connectWhatsapp", p=PHONE_NUMBER_ID, w=WABA_ID, t=" ", s=APP_SECRET, v=VERIFY_TOKEN)
    assert empty["error"]["field"] == "accessToken"
    api.connect()
    other = api.service.headers("other")
    taken = api.run(CONNECT, "connectWhatsapp", headers=other, p=PHONE_NUMBER_ID, w=WABA_ID, t=TOKEN, s=APP_SECRET, v="another")
    assert taken["error"]["code"] == "PHONE_NUMBER_ID_TAKEN"
    assert api.count("whatsapp_connections") == 1


# --- numbers and channel --------------------------------------------------------------------------


def test_client_numbers_are_e164_with_panama_as_the_default_country(api: Api) -> None:
    client = api.client(phone=None)
    local = api.ok(CREATE_NUMBER, "createClientWhatsapp", c=client, p="6123-4567")["clientWhatsapp"]
    api.clock.advance(timedelta(seconds=1))  # numbers are listed oldest first
    foreign = api.ok(CREATE_NUMBER, "createClientWhatsapp", c=client, p="+1 (415) 555-2671")["clientWhatsapp"]
    assert (local["phone"], foreign["phone"]) == ("+50761234567", "+14155552671")
    again = api.run(CREATE_NUMBER, "createClientWhatsapp", c=client, p="+507 6123 4567")
    assert again["error"]["code"] == "CONFLICT"
    shown = api.ok(GET_CLIENT, "getClientById", id=client)["client"]
    assert [n["phone"] for n in shown["whatsappNumbers"]] == ["+50761234567", "+14155552671"]
    api.ok(DELETE_NUMBER, "deleteClientWhatsapp", id=local["id"])
    assert [n["phone"] for n in api.ok(GET_CLIENT, "getClientById", id=client)["client"]["whatsappNumbers"]] == ["+14155552671"]


@pytest.mark.parametrize("phone", ["12", "not a phone", "+507 123", "6" * 41])
def test_an_invalid_number_is_refused_naming_the_field(api: Api, phone: str) -> None:
    client = api.client(phone=None)
    result = api.run(CREATE_NUMBER, "createClientWhatsapp", c=client, p=phone)
    assert (result["error"]["code"], result["error"]["field"]) == ("INVALID_PHONE", "phone")
    assert api.count("client_whatsapps") == 0


def test_a_number_for_an_unknown_client_is_refused(api: Api) -> None:
    result = api.run(CREATE_NUMBER, "createClientWhatsapp", c="00000000-0000-4000-8000-000000000000", p="61234567")
    assert (result["error"]["code"], result["error"]["field"]) == ("NOT_FOUND", "clientId")


def test_default_channel(api: Api) -> None:
    client = api.client(phone=None)
    assert api.ok(GET_CLIENT, "getClientById", id=client)["client"]["defaultChannel"] == "EMAIL"
    assert api.ok(SET_CHANNEL, "setClientDefaultChannel", c=client, ch="WHATSAPP")["client"]["defaultChannel"] == "WHATSAPP"
    assert api.ok(GET_CLIENT, "getClientById", id=client)["client"]["defaultChannel"] == "WHATSAPP"
    bad = api.run(SET_CHANNEL, "setClientDefaultChannel", c=client, ch="SMS")
    assert (bad["error"]["code"], bad["error"]["field"]) == ("INVALID_INPUT", "channel")


# --- sending --------------------------------------------------------------------------------------


def test_a_template_to_a_client_is_queued_then_sent_with_its_wamid(connected: Api) -> None:
    client = connected.client()
    queued = connected.send(c=client, template=TEMPLATE)
    assert queued["error"] is None
    [message] = queued["messages"]
    assert (message["status"], message["phone"], message["client"]["id"]) == ("QUEUED", "+50761234567", client)
    assert connected.jobs() == 1
    sent = connected.message(message["id"])
    assert sent["status"] == "SENT" and sent["wamid"].startswith("wamid.") and sent["attempts"] == 1
    [request] = connected.graph.sent()
    assert request.header("Authorization") == f"Bearer {TOKEN}"
    assert request.json() == {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": "50761234567",
        "biz_opaque_callback_data": message["id"], "type": "template",
        "template": {"name": "factura_lista", "language": {"code": "es"}, "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "F-000001"}]},
        ]},
    }


def test_text_outside_the_window_is_refused_before_anything_and_an_inbound_message_opens_it(connected: Api) -> None:
    client = connected.client()
    closed = connected.send(c=client, text="Hola, su factura está lista")
    assert (closed["error"]["code"], closed["error"]["field"]) == ("WINDOW_CLOSED", "template")
    assert "template" in closed["error"]["message"]
    assert connected.count("whatsapp_messages") == 0 and connected.count("jobs") == 0

    assert connected.inbound("50761234567").status_code == 200
    [inbound] = connected.ok(MESSAGES, "whatsappMessages", filter={"direction": "INBOUND"})["edges"]
    assert (inbound["node"]["status"], inbound["node"]["client"]["id"], inbound["node"]["text"]) == ("RECEIVED", client, "Hola")

    connected.clock.advance(timedelta(hours=23, minutes=59))
    [message] = connected.send(c=client, text="Hola, su factura está lista")["messages"]
    connected.jobs()
    assert connected.message(message["id"])["status"] == "SENT"
    assert connected.graph.sent()[0].json()["text"] == {"body": "Hola, su factura está lista", "preview_url": False}

    connected.clock.advance(timedelta(minutes=1))  # 24 h after the inbound message: closed again
    assert connected.send(c=client, text="¿Sigue ahí?")["error"]["code"] == "WINDOW_CLOSED"


def test_a_window_that_closes_while_queued_fails_the_message_without_calling_the_provider(connected: Api) -> None:
    connected.inbound("50761234567")
    [message] = connected.send(to="61234567", text="hola")["messages"]
    connected.clock.advance(timedelta(hours=25))
    connected.jobs()
    failed = connected.message(message["id"])
    assert failed["status"] == "FAILED" and failed["errorCode"] == 131047 and "template" in failed["errorTitle"]
    assert connected.graph.sent() == []


def test_bad_content_is_refused_naming_the_field_and_nothing_is_queued(connected: Api) -> None:
    client = connected.client()
    connected.inbound("50761234567")
    cases = [
        (dict(c=client, text="x" * 4097), "TEXT_TOO_LONG", "text"),
        (dict(c=client), "INVALID_INPUT", "text"),
        (dict(c=client, text="a", template=TEMPLATE), "INVALID_INPUT", "text"),
        (dict(c="00000000-0000-4000-8000-000000000000", text="a"), "NOT_FOUND", "clientId"),
        (dict(to="12", text="a"), "INVALID_PHONE", "to"),
        (dict(c=client, template={"name": "Bad Name!"}), "INVALID_INPUT", "template.name"),
    ]
    for variables, code, field in cases:
        result = connected.send(**variables)
        assert (result["error"]["code"], result["error"]["field"]) == (code, field), variables
    no_number = connected.client("Sin número", phone=None)
    assert connected.send(c=no_number, template=TEMPLATE)["error"]["code"] == "NO_RECIPIENTS"
    assert connected.count("whatsapp_messages") == 1  # only the inbound one
    assert connected.count("jobs WHERE kind = 'whatsapp.send'") == 0


def test_a_registered_template_with_the_wrong_parameter_count_is_refused_before_sending(connected: Api) -> None:
    client = connected.client()
    connected.ok(REGISTER, "registerWhatsappTemplate", n="factura_lista", l="es", b=3, d=False)
    wrong = connected.send(c=client, template=TEMPLATE)
    assert (wrong["error"]["code"], wrong["error"]["field"]) == ("TEMPLATE_PARAMETER_COUNT", "template.parameters")
    assert connected.count("whatsapp_messages") == 0
    right = connected.send(c=client, template={**TEMPLATE, "parameters": ["Ana", "F-000001", "$10.00"]})
    assert right["error"] is None


def test_sending_needs_a_connection(api: Api) -> None:
    client = api.client()
    assert api.send(c=client, template=TEMPLATE)["error"]["code"] == "WHATSAPP_NOT_CONNECTED"


# --- provider errors by code ------------------------------------------------------------------------


@pytest.mark.parametrize("code", [130429, 131056, 80007])
def test_rate_limits_are_retried_with_backoff(connected: Api, code: int) -> None:
    connected.graph.then(graph_error(code, "Rate limit hit"))
    client = connected.client()
    [message] = connected.send(c=client, template=TEMPLATE)["messages"]
    connected.jobs()
    waiting = connected.message(message["id"])
    assert (waiting["status"], waiting["errorCode"]) == ("QUEUED", code)
    assert connected.jobs() == 0  # not before its backoff
    connected.clock.advance(timedelta(minutes=31))
    connected.jobs()
    sent = connected.message(message["id"])
    assert (sent["status"], sent["attempts"], sent["errorCode"]) == ("SENT", 2, None)
    assert [a["outcome"] for a in sent["attemptLog"]] == ["DEFERRED", "SENT"]
    assert "Rate limit hit" in sent["attemptLog"][0]["response"]
    assert len(connected.graph.sent()) == 2


def test_a_5xx_is_retried_and_dead_once_the_attempts_are_spent(make_service: Any, provider_server: ProviderServer) -> None:
    clock = FakeClock(START)
    service = make_service(whatsapp_graph_url=provider_server.url, job_max_attempts=2)
    service.container.clock.override(providers.Object(clock))
    api = Api(service, clock, GraphApi(provider_server))
    api.connect()
    api.graph.then(*[Reply.json({"error": {"message": "Service temporarily unavailable", "code": 131016}}, status=503)] * 2)
    [message] = api.send(c=api.client(), template=TEMPLATE)["messages"]
    api.jobs()
    assert api.message(message["id"])["status"] == "QUEUED"
    clock.advance(timedelta(minutes=31))
    api.jobs()
    dead = api.message(message["id"])
    assert (dead["status"], dead["errorCode"], dead["attempts"]) == ("DEAD", 131016, 2)
    again = api.ok(RETRY, "retryWhatsapp", id=message["id"])["message"]
    assert again["status"] == "QUEUED"
    api.jobs()
    assert api.message(message["id"])["status"] == "SENT"


def test_131047_fails_telling_to_use_a_template(connected: Api) -> None:
    connected.inbound("50761234567")
    connected.graph.then(graph_error(131047, "Re-engagement message", details="Message failed to send because more than 24 hours have passed"))
    [message] = connected.send(to="+50761234567", text="hola")["messages"]
    connected.jobs()
    failed = connected.message(message["id"])
    assert (failed["status"], failed["errorCode"]) == ("FAILED", 131047)
    assert "template" in failed["errorTitle"]


def test_190_fails_and_marks_the_connection_as_needing_reauth(connected: Api) -> None:
    connected.graph.then(graph_error(190, "Error validating access token: Session has expired", status=401))
    client = connected.client()
    [message] = connected.send(c=client, template=TEMPLATE)["messages"]
    connected.jobs()
    assert connected.message(message["id"])["errorCode"] == 190
    shown = connected.ok(GET_CONNECTION, "getWhatsappConnection")["connection"]
    assert shown["status"] == "NEEDS_REAUTH" and TOKEN not in json.dumps(shown)
    assert connected.send(c=client, template=TEMPLATE)["error"]["code"] == "WHATSAPP_NEEDS_REAUTH"
    connected.connect(t="EAAG-a-new-token")
    assert connected.ok(GET_CONNECTION, "getWhatsappConnection")["connection"]["status"] == "CONNECTED"
    connected.ok(RETRY, "retryWhatsapp", id=message["id"])
    connected.jobs()
    assert connected.message(message["id"])["status"] == "SENT"
    assert connected.graph.sent()[-1].header("Authorization") == "Bearer EAAG-a-new-token"


@pytest.mark.parametrize(
    ("code", "title"),
    [
        (132000, "Number of parameters does not match the expected number of params"),
        (132001, "Template name does not exist in the translation"),
        (132018, "There was an issue with the parameters in your template"),
        (131026, "Message Undeliverable"),
        (131051, "Unsupported message type"),
        (100, "Invalid parameter"),
    ],
)
def test_permanent_errors_fail_with_their_code_and_reason(connected: Api, code: int, title: str) -> None:
    connected.graph.then(graph_error(code, title))
    [message] = connected.send(c=connected.client(), template=TEMPLATE)["messages"]
    connected.jobs()
    failed = connected.message(message["id"])
    assert (failed["status"], failed["errorCode"]) == ("FAILED", code)
    assert title in failed["errorTitle"]
    connected.clock.advance(timedelta(hours=1))
    assert connected.jobs() == 0 and len(connected.graph.sent()) == 1  # never retried by itself


def test_a_message_left_sending_by_a_dead_run_becomes_uncertain_and_is_not_sent_again(connected: Api) -> None:
    [message] = connected.send(c=connected.client(), template=TEMPLATE)["messages"]
    with connected.service.container.engine().begin() as connection:  # what a run killed mid-call leaves
        connection.execute(text("UPDATE whatsapp_messages SET status = 'SENDING'"))
    connected.jobs()
    uncertain = connected.message(message["id"])
    assert uncertain["status"] == "UNCERTAIN" and connected.graph.sent() == []
    assert connected.ok(RETRY, "retryWhatsapp", id=message["id"])["message"]["status"] == "QUEUED"
    connected.jobs()
    assert connected.message(message["id"])["status"] == "SENT"
    assert len(connected.graph.sent()) == 1


def test_only_failed_dead_or_uncertain_messages_are_retried(connected: Api) -> None:
    [message] = connected.send(c=connected.client(), template=TEMPLATE)["messages"]
    connected.jobs()
    refused = connected.run(RETRY, "retryWhatsapp", id=message["id"])
    assert refused["error"]["code"] == "NOT_RETRYABLE"
    assert connected.run(RETRY, "retryWhatsapp", id="00000000-0000-4000-8000-000000000000")["error"]["code"] == "NOT_FOUND"


def test_the_log_filters_and_pages(connected: Api) -> None:
    client = connected.client()
    other = connected.client("Otro", phone="6999-0000")
    ids = []
    for _ in range(3):
        ids.append(connected.send(c=client, template=TEMPLATE)["messages"][0]["id"])
        connected.clock.advance(timedelta(seconds=1))
    connected.graph.then(graph_error(131026, "Message Undeliverable"))
    connected.send(c=other, template=TEMPLATE)
    first = connected.ok(MESSAGES, "whatsappMessages", filter={"clientId": client}, first=2)
    assert [e["node"]["id"] for e in first["edges"]] == ids[::-1][:2] and first["pageInfo"]["hasNextPage"]
    rest = connected.ok(MESSAGES, "whatsappMessages", filter={"clientId": client}, first=2, after=first["pageInfo"]["endCursor"])
    assert [e["node"]["id"] for e in rest["edges"]] == [ids[0]] and not rest["pageInfo"]["hasNextPage"]
    queued = connected.ok(MESSAGES, "whatsappMessages", filter={"status": ["QUEUED"]})
    assert len(queued["edges"]) == 4
    bad = connected.run(MESSAGES, "whatsappMessages", filter={"status": ["LOST"]})
    assert bad["error"]["field"] == "filter.status"
    assert connected.run(MESSAGES, "whatsappMessages", after="nope")["error"]["field"] == "after"


def test_tenants_do_not_see_each_others_messages(connected: Api) -> None:
    [message] = connected.send(c=connected.client(), template=TEMPLATE)["messages"]
    other = connected.service.headers("other")
    assert connected.run(GET_MESSAGE, "getWhatsappMessageById", headers=other, id=message["id"])["error"]["code"] == "NOT_FOUND"
    assert connected.run(MESSAGES, "whatsappMessages", headers=other)["edges"] == []


def test_a_read_timeout_makes_the_message_uncertain_and_it_is_not_resent(connected: Api, provider_server: ProviderServer) -> None:
    import time

    from adapters.whatsapp.graph import GraphWhatsAppSender

    slow_answers = []

    def slow(request: Any) -> Reply:
        slow_answers.append(request)
        time.sleep(0.5)
        return Reply.json({"messages": [{"id": "wamid.slow"}]})

    provider_server.route("POST", rf"/{connected.graph.phone_number_id}/messages", slow)
    url = connected.service.container.settings().whatsapp_graph_url
    impatient = GraphWhatsAppSender(url, read_timeout=0.1)
    connected.service.container.gateways.whatsapp_sender.override(providers.Object(impatient))
    connected.service.container.service.reset()
    [message] = connected.send(c=connected.client(), template=TEMPLATE)["messages"]
    connected.jobs()
    uncertain = connected.message(message["id"])
    assert uncertain["status"] == "UNCERTAIN" and "no answer" in uncertain["errorTitle"]
    connected.clock.advance(timedelta(hours=1))
    connected.jobs()
    assert len(slow_answers) == 1  # never resent by itself


def test_rotating_the_secret_keys_keeps_the_connection_working(connected: Api) -> None:
    from adapters.db.secrets import SEALED_COLUMNS, rotate_sealed_columns
    from adapters.secrets.fernet import FernetSecretBox, generate_key

    old = connected.service.container.settings().secret_keys
    new_box = FernetSecretBox([generate_key(), *old])
    columns = [c for c in SEALED_COLUMNS if c.table.name == "whatsapp_connections"]
    assert {c.sealed_column for c in columns} == {"access_token_sealed", "app_secret_sealed", "verify_token_sealed"}
    report = rotate_sealed_columns(connected.service.container.engine(), new_box, columns)
    assert sum(report.resealed.values()) == 3 and not report.unreadable
    connected.service.container.secret_box.override(providers.Object(new_box))
    connected.service.container.service.reset()
    [message] = connected.send(c=connected.client(), template=TEMPLATE)["messages"]
    connected.jobs()
    assert connected.message(message["id"])["status"] == "SENT"
    assert connected.graph.sent()[0].header("Authorization") == f"Bearer {TOKEN}"


def test_a_worker_that_dies_on_the_last_attempt_leaves_the_message_uncertain_not_sending(
    make_service: Any, provider_server: ProviderServer
) -> None:
    clock = FakeClock(START)
    service = make_service(whatsapp_graph_url=provider_server.url, job_max_attempts=1, job_lease=timedelta(seconds=30))
    service.container.clock.override(providers.Object(clock))
    api = Api(service, clock, GraphApi(provider_server))
    api.connect()
    [message] = api.send(c=api.client(), template=TEMPLATE)["messages"]
    # the only attempt: claimed, SENDING committed, then the worker dies (no outcome recorded)
    queue = service.container.job_queue()
    [job] = queue.claim("doomed", limit=1, lease=timedelta(seconds=30))
    assert (job.attempts, job.max_attempts) == (1, 2)  # the delivery's one attempt + the spare run
    with service.container.engine().begin() as connection:
        connection.execute(text("UPDATE whatsapp_messages SET status = 'SENDING'"))
    clock.advance(timedelta(seconds=31))
    api.jobs()
    uncertain = api.message(message["id"])
    assert uncertain["status"] == "UNCERTAIN" and api.graph.sent() == []
    assert queue.get(job.id).status == "SUCCEEDED"
