"""QuickBooks' webhook signature: ``intuit-signature`` = base64 HMAC-SHA256(verifier token, raw body).

Checked over the raw bytes, in constant time (``hmac.compare_digest``, not ``==``). Intuit signs
no timestamp: replays are the inbox's to deduplicate. Nothing here logs; a refusal says why
without echoing the signature or the token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping

from application.webhooks.ports import SignatureRejected

SIGNATURE_HEADER = "intuit-signature"


def sign(verifier_token: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(verifier_token.encode("utf-8"), body, hashlib.sha256).digest()).decode()


class QuickbooksWebhookVerifier:
    """The ``WebhookVerifier`` of ``/webhooks/quickbooks``."""

    def __init__(self, verifier_token: str) -> None:
        if not verifier_token:
            raise ValueError("the QuickBooks webhook verifier token is empty")
        self._token = verifier_token

    def __repr__(self) -> str:
        return "QuickbooksWebhookVerifier(verifier_token='[redacted]')"

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        given = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER), None)
        if not given or not given.strip():
            raise SignatureRejected(f"{SIGNATURE_HEADER} is required")
        try:
            signature = base64.b64decode(given.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise SignatureRejected(f"{SIGNATURE_HEADER} is not base64") from None
        expected = hmac.new(self._token.encode("utf-8"), body, hashlib.sha256).digest()
        if not hmac.compare_digest(expected, signature):
            raise SignatureRejected("the signature does not match")
