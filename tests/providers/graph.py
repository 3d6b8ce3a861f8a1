"""The WhatsApp Cloud API (Graph API) as ``ProviderServer`` routes: messages, media, scripted errors.

``GraphApi(server, phone_number_id)`` answers ``POST /{id}/messages`` with a new wamid per message
(or the next scripted error), and ``POST /{id}/media`` with a media id. It counts what arrived by
``biz_opaque_callback_data`` (the Istmo message id), so tests and benchmarks can tell duplicates.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from typing import Any

from tests.providers.server import ProviderServer, Recorded, Reply

TOKEN = "EAAG-test-system-user-token"
APP_SECRET = "test-app-secret-0123456789"
VERIFY_TOKEN = "istmo-verify-token-42"
PHONE_NUMBER_ID = "106540352242922"
WABA_ID = "102290129340398"


def graph_error(code: int, message: str, *, status: int = 400, details: str | None = None) -> Reply:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "Atr1"}
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return Reply.json({"error": error}, status=status)


class GraphApi:
    def __init__(self, server: ProviderServer, phone_number_id: str = PHONE_NUMBER_ID) -> None:
        self.server = server
        self.phone_number_id = phone_number_id
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.script: list[Reply] = []  # replies used (and removed) before the normal answer
        self.delivered: Counter[str] = Counter()  # callback data (message id) -> messages accepted
        server.route("POST", rf"/{phone_number_id}/messages", self._messages)
        server.route("POST", rf"/{phone_number_id}/media", self._media)

    def then(self, *replies: Reply) -> GraphApi:
        with self._lock:
            self.script.extend(replies)
        return self

    def _messages(self, request: Recorded) -> Reply:
        with self._lock:
            if self.script:
                return self.script.pop(0)
            n = next(self._ids)
            body = request.json()
            self.delivered[str(body.get("biz_opaque_callback_data"))] += 1
        return Reply.json({
            "messaging_product": "whatsapp",
            "contacts": [{"input": body.get("to"), "wa_id": body.get("to")}],
            "messages": [{"id": f"wamid.TEST{n:08d}"}],
        })

    def _media(self, request: Recorded) -> Reply:
        with self._lock:
            n = next(self._ids)
        return Reply.json({"id": f"media-{n}"})

    def sent(self) -> list[Recorded]:
        return self.server.received("POST", rf"/{self.phone_number_id}/messages")

    def uploads(self) -> list[Recorded]:
        return self.server.received("POST", rf"/{self.phone_number_id}/media")


def status_payload(phone_number_id: str, *statuses: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [{
            "id": WABA_ID,
            "changes": [{
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "50760000000", "phone_number_id": phone_number_id},
                    "statuses": list(statuses),
                },
            }],
        }],
    }


def status(wamid: str, state: str, timestamp: int, *, recipient: str = "50761234567", **extra: Any) -> dict[str, Any]:
    return {"id": wamid, "status": state, "timestamp": str(timestamp), "recipient_id": recipient, **extra}


def inbound_payload(phone_number_id: str, *, sender: str, wamid: str, text: str, timestamp: int) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [{
            "id": WABA_ID,
            "changes": [{
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "50760000000", "phone_number_id": phone_number_id},
                    "contacts": [{"profile": {"name": "Cliente"}, "wa_id": sender}],
                    "messages": [{"from": sender, "id": wamid, "timestamp": str(timestamp), "type": "text",
                                  "text": {"body": text}}],
                },
            }],
        }],
    }
