"""The invoicing domain's webhook: the PAC (Alanube) reports a document's legal status."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from application.invoicing.pac import COMPANY_HEADER, pac_event_id
from application.invoicing.pac_settings import PacCompanyUnknown, VerifyPacDelivery
from application.webhooks.ports import SignatureRejected
from entrypoints.http.errors import json_error
from entrypoints.http.services import services
from entrypoints.http.webhooks import BodyTooLarge, body_digest, json_or_none, raw_body, receive, rejected, too_large

blueprint = Blueprint("pac_webhooks", __name__)


@blueprint.post("/webhooks/pac/<company_id>")
def pac(company_id: str) -> Any:
    """The PAC (Alanube): verified by the invoicing domain against the tenant's PAC company."""
    settings = services().settings()
    try:
        body = raw_body(settings.webhook_max_bytes)
    except BodyTooLarge:
        return too_large(settings.webhook_max_bytes)
    try:
        tenant_id = services().bus().handle(
            VerifyPacDelivery(
                actor=None, company_id=company_id, signature=request.headers.get("X-Pac-Signature"), body=body
            )
        )
    except PacCompanyUnknown:
        return json_error(404, "UNKNOWN_PAC_COMPANY", f"no tenant has the PAC company id {company_id[:64]!r}")
    except SignatureRejected as error:
        return rejected(error)
    payload = json_or_none(body)
    event_id = pac_event_id(company_id, payload) or body_digest(company_id.encode() + b"\n" + body)
    status = payload.get("legalStatus") if isinstance(payload, dict) else None
    headers = {**dict(request.headers.items()), COMPANY_HEADER: company_id}
    return receive(
        "pac", event_id, body, tenant_id=tenant_id, event_type=status if isinstance(status, str) else None,
        headers=headers,
    )
