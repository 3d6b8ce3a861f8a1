"""``GraphWhatsAppSender``: the WhatsApp Cloud API over ``requests`` (base URL and version from config).

Errors come back as ``{"error": {"message", "type", "code", "error_subcode"?, "error_data"?:
{"details"}, "fbtrace_id"}}``; the adapter hands the code, a short title and the HTTP status to the
application, which decides (``graph_disposition``). A connection refused means the request never
left (retry); a read timeout or a connection dropped after sending means it may have been
delivered (the message becomes UNCERTAIN). The token goes in the Authorization header only, never
in a log line or an error text.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import requests

from application.whatsapp.ports import (
    GraphApiError,
    GraphCredentials,
    GraphUnreachable,
    OutgoingWhatsapp,
    SentWhatsapp,
)
from domain.whatsapp.model import MessageKind

DEFAULT_GRAPH_URL = "https://graph.facebook.com/v23.0"


class GraphWhatsAppSender:
    def __init__(
        self,
        base_url: str = DEFAULT_GRAPH_URL,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        upload_timeout: float = 120.0,
        session: requests.Session | None = None,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._timeout = (connect_timeout, read_timeout)
        self._upload_timeout = (connect_timeout, upload_timeout)
        self._http = session or requests.Session()

    def send(self, credentials: GraphCredentials, message: OutgoingWhatsapp) -> SentWhatsapp:
        body = message_body(message)
        data = self._post(
            credentials, f"{credentials.phone_number_id}/messages", json=body, timeout=self._timeout, sends=True
        )
        try:
            wamid = str(data["messages"][0]["id"])
        except (KeyError, IndexError, TypeError):
            # 200 but no wamid: it was accepted, we cannot follow it by wamid
            raise GraphUnreachable("the Graph API answered 200 without messages[0].id", maybe_delivered=True) from None
        contacts = data.get("contacts") or [{}]
        wa_id = contacts[0].get("wa_id") if isinstance(contacts[0], dict) else None
        return SentWhatsapp(wamid=wamid, wa_id=wa_id)

    def upload_media(self, credentials: GraphCredentials, *, data: bytes, filename: str, mime: str) -> str:
        answer = self._post(
            credentials,
            f"{credentials.phone_number_id}/media",
            data={"messaging_product": "whatsapp", "type": mime},
            files={"file": (filename, data, mime)},
            timeout=self._upload_timeout,
            sends=False,
        )
        media_id = answer.get("id")
        if not media_id:
            raise GraphApiError(code=None, title="the media upload answered without an id", http_status=200)
        return str(media_id)

    def _post(self, credentials: GraphCredentials, path: str, *, timeout: Any, sends: bool, **kw: Any) -> dict[str, Any]:
        url = f"{self._base}/{path}"
        headers = {"Authorization": f"Bearer {credentials.access_token}"}
        try:
            response = self._http.post(url, headers=headers, timeout=timeout, **kw)
        except requests.ConnectTimeout:
            raise GraphUnreachable("connect timeout", maybe_delivered=False) from None
        except requests.ConnectionError as error:
            # refused before anything was sent, or dropped after: only the first is certainly not sent
            refused = "refused" in str(error).lower() or "Failed to establish" in str(error)
            raise GraphUnreachable(
                "connection refused" if refused else "connection lost", maybe_delivered=sends and not refused
            ) from None
        except requests.Timeout:
            raise GraphUnreachable("no answer in time (read timeout)", maybe_delivered=sends) from None
        except requests.RequestException as error:
            raise GraphUnreachable(type(error).__name__, maybe_delivered=sends) from None
        if response.status_code >= 400:
            raise _error(response)
        try:
            data = response.json()
        except ValueError:
            raise GraphUnreachable(f"HTTP {response.status_code} with a body that is not JSON", maybe_delivered=sends) from None
        return data if isinstance(data, dict) else {}


def _error(response: requests.Response) -> GraphApiError:
    retry_after = _retry_after(response.headers.get("Retry-After"))
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    if not isinstance(error, dict):
        error = {}
    code = error.get("code")
    try:
        code = int(code) if code is not None else None
    except (TypeError, ValueError):
        code = None
    title = str(error.get("error_user_title") or error.get("message") or f"HTTP {response.status_code}")
    details = error.get("error_data", {}).get("details") if isinstance(error.get("error_data"), dict) else None
    if details and str(details) not in title:
        title = f"{title}: {details}"
    return GraphApiError(code=code, title=title[:400], http_status=response.status_code, retry_after=retry_after)


def _retry_after(value: str | None) -> timedelta | None:
    if not value:
        return None
    try:
        return timedelta(seconds=max(0, int(value.strip())))
    except ValueError:
        return None


def message_body(message: OutgoingWhatsapp) -> dict[str, Any]:
    """The JSON of ``POST /{phone-number-id}/messages`` for one message."""
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": message.to.lstrip("+"),
    }
    if message.callback_data:
        body["biz_opaque_callback_data"] = message.callback_data
    if message.kind is MessageKind.TEXT:
        body["type"] = "text"
        body["text"] = {"body": message.text or "", "preview_url": False}
    elif message.kind is MessageKind.DOCUMENT:
        document = message.document
        assert document is not None and message.media_id is not None
        payload: dict[str, Any] = {"id": message.media_id, "filename": document.filename}
        if document.caption:
            payload["caption"] = document.caption
        body["type"] = "document"
        body["document"] = payload
    elif message.kind is MessageKind.TEMPLATE:
        template = message.template
        assert template is not None
        components: list[dict[str, Any]] = []
        if message.document is not None:
            assert message.media_id is not None
            components.append({
                "type": "header",
                "parameters": [
                    {"type": "document", "document": {"id": message.media_id, "filename": message.document.filename}}
                ],
            })
        if template.parameters:
            components.append({
                "type": "body",
                "parameters": [{"type": "text", "text": text} for text in template.parameters],
            })
        body["type"] = "template"
        body["template"] = {"name": template.name, "language": {"code": template.language}, "components": components}
    else:
        raise ValueError(f"a {message.kind} message cannot be sent")
    return body
