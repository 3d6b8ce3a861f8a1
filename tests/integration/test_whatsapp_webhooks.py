"""``/webhooks/whatsapp``: the handshake, the signature matrix, statuses in any order, inbound messages.

Each test runs on SQLite and on PostgreSQL; what a webhook changed is read back through the API.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from adapters.webhooks.whatsapp import sign
from tests.integration.whatsapp_support import *  # noqa: F403 - queries, Api and its fixtures
from tests.integration.whatsapp_support import MESSAGES, TEMPLATE, Api
from tests.providers.graph import APP_SECRET, PHONE_NUMBER_ID, VERIFY_TOKEN, inbound_payload, status, status_payload
from tests.providers.server import provider_server  # noqa: F401 - fixture


def handshake(api: Api, **params: str) -> Any:
    return api.service.client.get("/webhooks/whatsapp", query_string=params)


def sent_message(api: Api) -> dict[str, Any]:
    [message] = api.send(c=api.client(), template=TEMPLATE)["messages"]
    api.jobs()
    return api.message(message["id"])


def kept(api: Api) -> int:
    """What webhooks left behind: inbound messages and the inbox's events."""
    tables = ["whatsapp_messages WHERE direction = 'INBOUND'", "webhook_events", "jobs WHERE kind = 'webhooks.process'"]
    return sum(api.count(table) for table in tables)


def test_the_handshake_echoes_the_challenge_for_the_tenants_verify_token(connected: Api) -> None:
    ok = handshake(connected, **{"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"})
    assert (ok.status_code, ok.get_data(as_text=True)) == (200, "1158201444")
    for params in (
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
        {},
    ):
        assert handshake(connected, **params).status_code == 403, params


@pytest.mark.parametrize("case", ["tampered body", "wrong secret", "missing header", "malformed header"])
def test_a_bad_signature_is_403_and_nothing_is_stored(connected: Api, case: str) -> None:
    body = json.dumps(inbound_payload(PHONE_NUMBER_ID, sender="50761234567", wamid="wamid.X1", text="hola", timestamp=1)).encode()
    signature: str | None = sign(APP_SECRET, body)
    if case == "tampered body":
        body = body.replace(b"hola", b"HOLA")
    elif case == "wrong secret":
        signature = sign("not-the-app-secret", body)
    elif case == "missing header":
        signature = None
    else:
        signature = "sha1=" + "0" * 40
    response = connected.webhook(None, raw=body, signature=signature)
    assert response.status_code == 403
    assert kept(connected) == 0


def test_a_valid_signature_over_the_raw_bytes_is_accepted(connected: Api) -> None:
    # the signature is over the bytes as sent, whitespace and key order included
    body = b'{"object": "whatsapp_business_account",   "entry": [{"id": "1", "changes": [{"field": "messages", "value": {"metadata": {"phone_number_id": "%s"}, "messages": [{"from": "50761234567", "id": "wamid.RAW", "timestamp": "1", "type": "text", "text": {"body": "hola"}}]}}]}]}' % PHONE_NUMBER_ID.encode()
    assert connected.webhook(None, raw=body).status_code == 200
    assert connected.count("whatsapp_messages WHERE direction = 'INBOUND'") == 1
    assert connected.count("webhook_events WHERE status = 'PROCESSED'") == 1


def test_an_unknown_phone_number_id_cannot_be_verified_so_nothing_is_kept(connected: Api) -> None:
    response = connected.webhook(inbound_payload("999999", sender="50761234567", wamid="wamid.U", text="x", timestamp=1))
    assert response.status_code == 404
    assert response.get_json()["error"] == {
        "code": "UNKNOWN_PHONE_NUMBER", "message": "no tenant is connected with phone number id 999999"
    }
    assert connected.count("whatsapp_messages") == 0 and kept(connected) == 0
    limit = connected.service.container.settings().webhook_max_bytes
    padded = inbound_payload("999999", sender="50761234567", wamid="wamid.V", text="x" * (limit - 1000), timestamp=1)
    assert connected.webhook(padded).status_code == 404  # near the limit, unsigned: still nothing stored
    assert kept(connected) == 0


def test_not_a_webhook_is_400(connected: Api) -> None:
    assert connected.webhook(None, raw=b"not json").status_code == 400
    assert connected.webhook({"object": "page"}).status_code == 400
    assert kept(connected) == 0


def test_a_body_over_the_limit_is_413(connected: Api) -> None:
    limit = connected.service.container.settings().webhook_max_bytes
    assert connected.webhook(None, raw=b" " * (limit + 1)).status_code == 413
    assert kept(connected) == 0


def test_the_same_notification_twice_is_kept_once(connected: Api) -> None:
    payload = inbound_payload(PHONE_NUMBER_ID, sender="50761234567", wamid="wamid.D", text="hola", timestamp=1)
    assert connected.webhook(payload).status_code == 200
    assert connected.webhook(payload).status_code == 200
    assert connected.count("webhook_events") == 1
    assert connected.count("whatsapp_messages") == 1


def test_statuses_only_move_forward_whatever_order_they_arrive_in(connected: Api) -> None:
    message = sent_message(connected)
    wamid = message["wamid"]
    base = int(connected.clock.now().timestamp())
    connected.webhook(status_payload(PHONE_NUMBER_ID, status(wamid, "read", base + 30)))
    read = connected.message(message["id"])
    assert read["status"] == "READ" and read["readAt"] is not None
    connected.webhook(status_payload(PHONE_NUMBER_ID, status(wamid, "delivered", base + 20)))
    connected.webhook(status_payload(PHONE_NUMBER_ID, status(wamid, "sent", base + 10)))
    assert connected.message(message["id"]) == read  # late ones change nothing
    connected.webhook(status_payload(PHONE_NUMBER_ID, status(wamid, "failed", base + 40, errors=[{"code": 131026, "title": "x"}])))
    assert connected.message(message["id"]) == read  # a failure after it was read is not believed


def test_sent_then_delivered_then_duplicates(connected: Api) -> None:
    message = sent_message(connected)
    wamid = message["wamid"]
    base = int(connected.clock.now().timestamp())
    connected.webhook(status_payload(PHONE_NUMBER_ID, status(wamid, "sent", base + 1)))
    connected.webhook(status_payload(PHONE_NUMBER_ID, status(wamid, "delivered", base + 2), status(wamid, "delivered", base + 2)))
    delivered = connected.message(message["id"])
    assert delivered["status"] == "DELIVERED" and delivered["deliveredAt"].startswith("2026-11-24T12:00:02")
    connected.webhook(status_payload(PHONE_NUMBER_ID, status(wamid, "delivered", base + 2)))
    assert connected.message(message["id"]) == delivered


def test_a_failed_status_records_the_error(connected: Api) -> None:
    message = sent_message(connected)
    errors = [{"code": 131026, "title": "Message Undeliverable", "error_data": {"details": "Receiver is incapable"}}]
    connected.webhook(status_payload(PHONE_NUMBER_ID, status(message["wamid"], "failed", 100, errors=errors)))
    failed = connected.message(message["id"])
    assert (failed["status"], failed["errorCode"]) == ("FAILED", 131026)
    assert "Message Undeliverable" in failed["errorTitle"] and "Receiver is incapable" in failed["errorTitle"]
    connected.webhook(status_payload(PHONE_NUMBER_ID, status(message["wamid"], "delivered", 200)))
    assert connected.message(message["id"])["status"] == "FAILED"


def test_a_status_names_an_uncertain_message_by_its_callback_data(connected: Api) -> None:
    from sqlalchemy import text

    [message] = connected.send(c=connected.client(), template=TEMPLATE)["messages"]
    with connected.service.container.engine().begin() as connection:
        connection.execute(text("UPDATE whatsapp_messages SET status = 'SENDING'"))
    connected.jobs()
    assert connected.message(message["id"])["status"] == "UNCERTAIN"
    connected.webhook(status_payload(
        PHONE_NUMBER_ID, status("wamid.LATE", "delivered", 5, biz_opaque_callback_data=message["id"])
    ))
    known = connected.message(message["id"])
    assert (known["status"], known["wamid"]) == ("DELIVERED", "wamid.LATE")


def test_inbound_messages_are_kept_once_linked_to_the_client(connected: Api) -> None:
    client = connected.client()
    connected.inbound("50761234567", wamid="wamid.IN1")
    connected.inbound("50761234567", wamid="wamid.IN1")  # Meta retries: the same message again
    connected.inbound("50769999999", wamid="wamid.IN2")
    edges = connected.ok(MESSAGES, "whatsappMessages", filter={"direction": "INBOUND"})["edges"]
    by_phone = {e["node"]["phone"]: e["node"] for e in edges}
    assert len(edges) == 2
    assert by_phone["+50761234567"]["client"]["id"] == client
    assert by_phone["+50769999999"]["client"] is None


def test_statuses_of_another_tenants_number_do_not_touch_this_tenants_messages(connected: Api) -> None:
    message = sent_message(connected)
    other = connected.service.headers("other")
    connected.run(
        """mutation { connectWhatsapp(phoneNumberId: "200000000000001", wabaId: "2", accessToken: "t2",
        appSecret: "s2", verifyToken: "v2") { connection { id } error { code } } }""", "connectWhatsapp", headers=other,
    )
    payload = status_payload("200000000000001", status(message["wamid"], "read", 5))
    assert connected.webhook(payload, secret="s2").status_code == 200
    assert connected.message(message["id"])["status"] == "SENT"
    assert connected.webhook(payload, secret=APP_SECRET).status_code == 403  # signed with the wrong tenant's secret
