"""``POST /chats/<id>/stream``: the worker's progress relayed as server-sent events; the answer
stored whether the client stays or not; the number of open streams per process bounded."""

from __future__ import annotations

import json
from typing import Any

from dependency_injector import providers

from adapters.llm.relay import MemoryTurnEvents
from tests.integration.chats_support import CHAT, Chats, chats_factory, results_after_last_user  # noqa: F401
from tests.providers.llm import Call, Said, Step
from tests.providers.server import provider_server  # noqa: F401 - fixture


def biggest(conversation: list[Said]) -> Step:
    results = results_after_last_user(conversation)
    if not results:
        return Step(text="Un momento. ", calls=(Call("list_invoices", {"status": "unpaid", "sort": "balance_desc", "limit": 1}),))
    row = results[0]["invoices"][0]
    return Step(text=f"La más grande es la {row['number']}: {row['balance']} {row['currency']}.")


def events(body: str) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for block in body.split("\n\n"):
        lines = [line for line in block.splitlines() if not line.startswith(":")]
        kind = next((line[7:] for line in lines if line.startswith("event: ")), None)
        data = next((line[6:] for line in lines if line.startswith("data: ")), None)
        if kind and data:
            found.append((kind, json.loads(data)))
    return found


def _chat(chats: Chats) -> str:
    sent = chats.send("Hola")
    chats.jobs()
    return str(sent["chat"]["id"])


def test_the_stream_relays_deltas_tool_calls_and_the_stored_answer(chats_factory: Any) -> None:
    chats = chats_factory(biggest)
    chats.books()
    chats.configure("OPENAI")
    chat_id = _chat(chats)
    response = chats.service.client.post(
        f"/chats/{chat_id}/stream", json={"message": "¿Cuál es mi factura más grande sin pagar?"}, headers=chats.headers
    )
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    assert chats.jobs() == 1  # the worker runs the turn; the stream only relays it
    seen = events(response.get_data(as_text=True))
    response.close()
    kinds = [kind for kind, _ in seen]
    assert kinds[0] == "message" and kinds[-1] == "done"
    assert kinds.index("tool_started") < kinds.index("tool_finished") < len(kinds) - 1
    text = "".join(event["text"] for kind, event in seen if kind == "delta")
    assert text == "Un momento. La más grande es la F-000004: 3210.00 USD."
    done = seen[-1][1]
    stored = chats.ok(CHAT, "getChatById", id=chat_id)["chat"]["messages"]["edges"][-1]["node"]
    assert done["message_id"] == stored["id"] and stored["text"] == "La más grande es la F-000004: 3210.00 USD."
    assert done["usage"] == {"input": stored["tokensIn"], "output": stored["tokensOut"]}
    assert seen[0][1]["chat_id"] == chat_id


def test_a_client_that_leaves_still_gets_its_answer_stored_and_can_follow_it_later(chats_factory: Any) -> None:
    chats = chats_factory(biggest)
    chats.books()
    chats.configure("ANTHROPIC")
    chat_id = _chat(chats)
    response = chats.service.client.post(f"/chats/{chat_id}/stream", json={"message": "¿La más grande?"}, headers=chats.headers)
    first = next(iter(response.response)).decode()
    message_id = json.loads(first.split("data: ", 1)[1])["message_id"]
    response.close()  # the client goes away
    chats.jobs()
    messages = chats.ok(CHAT, "getChatById", id=chat_id)["chat"]["messages"]["edges"]
    assert messages[-1]["node"]["text"].endswith("3210.00 USD.")
    # A relay in another process (a new, empty one here) reads the outcome from the database.
    chats.service.container.chats.turn_events.override(providers.Object(MemoryTurnEvents()))
    again = chats.service.client.post(f"/chats/{chat_id}/stream", json={"messageId": message_id}, headers=chats.headers)
    seen = events(again.get_data(as_text=True))
    again.close()
    assert [kind for kind, _ in seen] == ["message", "done"] and seen[-1][1]["message_id"] == messages[-1]["node"]["id"]


def test_stream_refusals(chats_factory: Any) -> None:
    chats = chats_factory(biggest, ISTMO_CHATS_MAX_STREAMS="1")
    chats.configure("OPENAI")
    chat_id = _chat(chats)
    client = chats.service.client
    assert client.post(f"/chats/{chat_id}/stream", json={"message": "x"}).status_code == 401
    assert client.post(f"/chats/{chat_id}/stream", data="x", headers=chats.headers).status_code == 400
    other = client.post(f"/chats/{chat_id}/stream", json={"message": "x"}, headers=chats.service.headers("otro"))
    assert other.status_code == 404 and other.get_json()["error"]["code"] == "NOT_FOUND"
    assert client.post(f"/chats/{chat_id}/stream", json={"message": "x" * 8001}, headers=chats.headers).status_code == 400
    held = client.post(f"/chats/{chat_id}/stream", json={"message": "¿La más grande?"}, headers=chats.headers)
    busy = client.post(f"/chats/{chat_id}/stream", json={"messageId": "x"}, headers=chats.headers)
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "2"
    held.close()
    conflict = client.post(f"/chats/{chat_id}/stream", json={"message": "otra"}, headers=chats.headers)
    assert conflict.status_code == 409  # the first is still being answered: a slot was free again
