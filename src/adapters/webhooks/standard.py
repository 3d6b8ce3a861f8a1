"""Standard Webhooks (https://www.standardwebhooks.com), as Polar signs: through the
``standardwebhooks`` library, over the raw body, with its ±5 minute tolerance.

Two secret schemes are accepted: the standard one (``whsec_`` + base64 of the key) and Polar's
legacy one (the whole secret string's UTF-8 bytes are the key). ``webhook-signature`` may hold
several space-separated ``v1,<base64>`` signatures (key rotation); one valid is enough. Malformed
entries are skipped before the library sees them (it would stop at the first one).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from application.webhooks.ports import SignatureRejected

_SIGNATURE = re.compile(r"^v1,[A-Za-z0-9+/]+={0,2}$")


class StandardWebhooksVerifier:
    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("a Standard Webhooks secret is required")
        self._hooks: list[Webhook] = []
        if secret.startswith("whsec_"):
            try:
                self._hooks.append(Webhook(secret))
            except (binascii.Error, ValueError):
                pass  # not base64 after the prefix: only the legacy scheme can apply
        self._hooks.append(Webhook(secret.encode()))

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        lowered = {k.lower(): v for k, v in headers.items()}
        for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
            if not lowered.get(name, "").strip():
                raise SignatureRejected(f"the {name} header is missing")
        signatures = [part for part in lowered["webhook-signature"].split() if _SIGNATURE.match(part) and _b64(part[3:])]
        if not signatures:
            raise SignatureRejected("the webhook-signature header holds no v1,<base64> signature")
        stamp = lowered["webhook-timestamp"].strip()
        if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
            raise SignatureRejected("the webhook-timestamp header is not a Unix time in seconds")
        try:
            data = body.decode("utf-8")
        except UnicodeDecodeError:
            raise SignatureRejected("the body is not UTF-8, which Standard Webhooks signs") from None
        checked = {
            "webhook-id": lowered["webhook-id"].strip(),
            "webhook-timestamp": lowered["webhook-timestamp"].strip(),
            "webhook-signature": " ".join(signatures),
        }
        reason = "no signature matches"
        for hook in self._hooks:
            try:
                hook.verify(data, checked, json_parse=False)
                return
            except WebhookVerificationError as error:
                reason = _reason(str(error))
        raise SignatureRejected(reason)


def _b64(text: str) -> bool:
    try:
        base64.b64decode(text, validate=True)
        return True
    except (binascii.Error, ValueError):
        return False


def _reason(message: str) -> str:
    lowered = message.lower()
    if "too old" in lowered:
        return "the webhook-timestamp is more than 5 minutes old"
    if "too new" in lowered:
        return "the webhook-timestamp is more than 5 minutes in the future"
    return "no signature matches"
