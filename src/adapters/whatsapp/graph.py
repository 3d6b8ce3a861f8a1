"""``GraphWhatsAppSender``: the WhatsApp ``MessageChannel`` over the Cloud API with ``requests``
(base URL and version from config).

``deliver`` uploads a message's document (``POST /{phone-number-id}/media``), then sends it
(``POST /{phone-number-id}/messages``). Errors come back as ``{"error": {"message", "type", "code",
"error_subcode"?, "error_data"?: {"details"}, "fbtrace_id"}}``; their code decides the outcome
(``domain.whatsapp.graph.graph_disposition``): retry is deferred, the rest rejected (a refused token
says so: the connection must be made again). A connection refused means the request never left
(deferred); a read timeout or a connection dropped after sending means it may have been delivered
(the unknown outcome: the message becomes UNCERTAIN); a failed upload sent nothing. The token goes
in the Authorization header only, never in a log line or an error text.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import requests

from application.deliveries.ports import DeliveryDeferred, DeliveryOutcomeUnknown, DeliveryRejected, Receipt
from application.whatsapp.ports import GraphCredentials, GraphDelivery, OutgoingWhatsapp
from domain.whatsapp.content import MessageKind
from domain.whatsapp.graph import graph_disposition
from domain.whatsapp.messages import PROVIDER

DEFAULT_GRAPH_URL = "https://graph.facebook.com/v23.0"


@dataclass(frozen=True, slots=True, kw_only=True)
class SentWhatsapp:
    wamid: str
    wa_id: str | None = None


class GraphApiError(Exception):
    """The Graph API answered with an error: ``code`` (e.g. 131047, 130429, 190), its title,
    the HTTP status, and a ``Retry-After`` when one was given. No token in the text."""

    def __init__(
        self, *, code: int | None, title: str, http_status: int | None, retry_after: timedelta | None = None
    ) -> None:
        super().__init__(f"{code}: {title}")
        self.code = code
        self.title = title
        self.http_status = http_status
        self.retry_after = retry_after


class GraphUnreachable(Exception):
    """No answer. ``maybe_delivered``: the request may have reached the provider (a read timeout, a
    dropped connection after sending); False when it certainly did not (connection refused)."""

    def __init__(self, reason: str, *, maybe_delivered: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.maybe_delivered = maybe_delivered


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

    def deliver(self, delivery: GraphDelivery) -> Receipt:
        message, credentials = delivery.message, delivery.credentials
        if delivery.document is not None:
            assert message.document is not None
            try:
                media_id = self.upload_media(
                    credentials, data=delivery.document, filename=message.document.filename, mime=delivery.mime
                )
            except GraphUnreachable as error:  # the upload sent no message: nothing reached the customer
                raise DeliveryDeferred(f"WhatsApp unreachable: {error.reason}", provider=PROVIDER) from None
            except GraphApiError as error:
                raise _outcome(error) from None
            message = replace(message, media_id=media_id)
        try:
            sent = self.send(credentials, message)
        except GraphUnreachable as error:
            if error.maybe_delivered:
                raise DeliveryOutcomeUnknown(f"no answer from WhatsApp: {error.reason}", provider=PROVIDER) from None
            raise DeliveryDeferred(f"WhatsApp unreachable: {error.reason}", provider=PROVIDER) from None
        except GraphApiError as error:
            raise _outcome(error) from None
        return Receipt(provider=PROVIDER, provider_message_id=sent.wamid, response=f"accepted as {sent.wamid}")

    def send(self, credentials: GraphCredentials, message: OutgoingWhatsapp) -> SentWhatsapp:
        """``POST /{phone-number-id}/messages``. Raises ``GraphApiError`` or ``GraphUnreachable``."""
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
        """``POST /{phone-number-id}/media`` (multipart); the media id."""
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


def _outcome(error: GraphApiError) -> DeliveryDeferred | DeliveryRejected:
    disposition = graph_disposition(error.code, error.http_status)
    if disposition == "retry":
        return DeliveryDeferred(error.title, retry_after=error.retry_after, provider=PROVIDER, code=error.code)
    title = error.title
    if disposition == "reauth":
        title = f"{title} (the access token is no longer valid: connect WhatsApp again, then retry)"
    elif disposition == "window":
        title = f"{title}: the 24-hour window is closed, send a template instead"
    return DeliveryRejected(title, provider=PROVIDER, code=error.code, credentials_refused=disposition == "reauth")


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
