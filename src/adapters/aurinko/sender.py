"""``AurinkoEmailSender``: the ``EmailSender`` port over ``POST /v1/email/messages``.

One sender per tenant and send, holding that tenant's access token (opened from its SecretBox
seal by ``application.integrations.aurinko.sending``). 429 (with ``Retry-After``), 408, 5xx, timeouts and
malformed answers are ``DeliveryDeferred``; other 4xx ``DeliveryRejected``; 401 (``token.dead``,
``token.refresh.failed``, ``unauthorized``) marks the connection NEEDS_RECONNECT and is
``DeliveryRejected``. Aurinko documents no idempotency key or Message-ID field for this call, so
neither is sent: a send whose answer was lost after the request went out (read timeout, dropped
connection) is ``DeliveryOutcomeUnknown``, and the emails domain marks the message UNCERTAIN. The
message leaves from the connected mailbox; a ``from_address`` other than its own is left out.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable

from adapters.aurinko.http import AurinkoHttp
from application.deliveries.ports import DeliveryDeferred, DeliveryOutcomeUnknown, DeliveryRejected, Receipt
from application.emails.ports import OutgoingEmail
from application.integrations.aurinko.ports import ProviderError, ProviderUnavailable, TokenRejected


def _addresses(items: tuple[str, ...]) -> list[dict[str, str]]:
    return [{"address": item} for item in items]


def text_as_html(text: str) -> str:
    return "<div style=\"white-space: pre-wrap\">" + html.escape(text) + "</div>"


class AurinkoEmailSender:
    def __init__(
        self,
        http: AurinkoHttp,
        access_token: str,
        *,
        mailbox: str | None = None,
        on_token_rejected: Callable[[str], None] | None = None,
    ) -> None:
        self._http = http
        self._token = access_token
        self._mailbox = mailbox.lower() if mailbox else None
        self._on_token_rejected = on_token_rejected

    def __repr__(self) -> str:
        return f"AurinkoEmailSender(base_url={self._http.base_url!r}, token='[redacted]')"

    def payload(self, email: OutgoingEmail) -> dict[str, object]:
        body = email.html if email.html is not None else text_as_html(email.text or "")
        payload: dict[str, object] = {
            "subject": email.subject,
            "body": body,
            "to": _addresses(email.to),
            "cc": _addresses(email.cc),
            "bcc": _addresses(email.bcc),
            "replyTo": _addresses(email.reply_to),
            "attachments": [
                {
                    "name": attachment.name,
                    "mimeType": attachment.mime,
                    "content": base64.b64encode(attachment.data).decode("ascii"),
                    "inline": False,
                }
                for attachment in email.attachments
            ],
        }
        # The message leaves from the connected mailbox: another From (the instance's default
        # sender, say) would be refused or rewritten by the mailbox provider, so it is left out.
        if email.from_address and self._mailbox and email.from_address.lower() == self._mailbox:
            payload["from"] = {"address": email.from_address}
        return payload

    def deliver(self, email: OutgoingEmail) -> Receipt:
        try:
            answer = self._http.request(
                "POST",
                "/v1/email/messages",
                bearer=self._token,
                params={"bodyType": "html", "returnIds": "true"},
                body=self.payload(email),
                malformed_ok=True,  # 2xx: Aurinko took the message, whatever the body says
            )
        except TokenRejected as error:
            if self._on_token_rejected is not None:
                self._on_token_rejected(error.code)
            raise DeliveryRejected(f"aurinko: {error.reason}; the mailbox must be connected again") from None
        except ProviderUnavailable as error:
            if error.maybe_processed:
                raise DeliveryOutcomeUnknown(f"aurinko: {error.reason}; the message may have been sent") from None
            raise DeliveryDeferred(f"aurinko: {error.reason}", retry_after=error.retry_after) from None
        except ProviderError as error:
            raise DeliveryRejected(f"aurinko: {error.reason}") from None
        message_id = answer.get("id") if isinstance(answer, dict) else None
        provider_id = str(message_id)[:255] if isinstance(message_id, str | int) and str(message_id) else None
        return Receipt(
            provider="aurinko",
            provider_message_id=provider_id,
            response=f"accepted by Aurinko (id {provider_id})" if provider_id else "accepted by Aurinko",
        )
