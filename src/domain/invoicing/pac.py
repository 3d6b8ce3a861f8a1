"""A tenant's PAC (Alanube) settings: which PAC company it is, and how the PAC's webhooks are checked.

The PAC calls ``/webhooks/pac/{company_id}``: the company id names the tenant. Its
``X-Pac-Signature`` header is, by default, the shared secret itself (as Alanube sends it today),
or, in HMAC mode, the hex HMAC-SHA256 of the raw body under that secret. Secrets (the webhook
secret, the API key) are stored sealed; the model holds them sealed and never sees the plaintext.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from domain.shared.errors import InvalidInput
from domain.shared.model import Aggregate

_COMPANY_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class SignatureMode(StrEnum):
    SECRET = "SECRET"  # noqa: S105 - a mode's name: X-Pac-Signature equals the shared secret
    HMAC = "HMAC"  # X-Pac-Signature is hex HMAC-SHA256(secret, raw body), optionally "sha256=" first

    @classmethod
    def parse(cls, value: object) -> SignatureMode:
        try:
            return cls(str(value).strip().upper())
        except ValueError:
            raise InvalidInput(
                f"signatureMode must be SECRET or HMAC, not {str(value)[:16]!r}", field="signatureMode"
            ) from None


def parse_company_id(value: object) -> str:
    text = str(value or "").strip()
    if not _COMPANY_ID.match(text):
        raise InvalidInput(
            "companyId must be 1-128 letters, digits or . _ : - (the PAC's company id)", field="companyId"
        )
    return text


def webhook_secret_context(tenant_id: str) -> str:
    return f"pac:{tenant_id}:webhook-secret"


def api_key_context(tenant_id: str) -> str:
    return f"pac:{tenant_id}:api-key"


class PacSettings(Aggregate):
    def __init__(
        self,
        *,
        tenant_id: str,
        company_id: str,
        webhook_secret_sealed: str | None,
        api_key_sealed: str | None,
        signature_mode: SignatureMode,
        send_authorized_invoice: bool,
        updated_at: datetime,
    ) -> None:
        self.tenant_id = tenant_id
        self.company_id = company_id
        self.webhook_secret_sealed = webhook_secret_sealed
        self.api_key_sealed = api_key_sealed
        self.signature_mode = signature_mode
        self.send_authorized_invoice = send_authorized_invoice
        self.updated_at = updated_at
