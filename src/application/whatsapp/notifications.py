"""What a verified WhatsApp notification changes in its tenant: delivery statuses move outbound
messages forward; inbound messages are kept once (and open the 24-hour window)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from application.shared.ports import Clock
from application.whatsapp.commands import ApplyWhatsappWebhook
from application.whatsapp.ports import WhatsappUnitOfWork
from application.whatsapp.views import AppliedWebhook
from application.whatsapp.webhooks import changes_of, payload_of, phone_number_id_of
from domain.shared.errors import InvalidInput
from domain.shared.model import parse_id
from domain.whatsapp.content import MessageKind
from domain.whatsapp.messages import InboundWhatsapp


def _timestamp(value: object, fallback: datetime) -> datetime:
    try:
        return datetime.fromtimestamp(int(str(value)), UTC)
    except (ValueError, OverflowError, OSError):
        return fallback


def _inbound_text(item: dict[str, Any]) -> tuple[MessageKind, str | None]:
    kind = item.get("type")
    if kind == "text" and isinstance(item.get("text"), dict):
        return MessageKind.TEXT, str(item["text"].get("body") or "")
    if kind == "button" and isinstance(item.get("button"), dict):
        return MessageKind.TEXT, str(item["button"].get("text") or "")
    if kind == "interactive" and isinstance(item.get("interactive"), dict):
        reply = item["interactive"].get("button_reply") or item["interactive"].get("list_reply") or {}
        return MessageKind.TEXT, str(reply.get("title") or "") if isinstance(reply, dict) else None
    if kind == "document":
        return MessageKind.DOCUMENT, (item.get("document") or {}).get("caption") if isinstance(item.get("document"), dict) else None
    return MessageKind.OTHER, None


class ApplyWhatsappWebhookHandler:
    """System work in the webhook's tenant (the inbox processor runs it with ``tenant_id``)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: ApplyWhatsappWebhook, uow: WhatsappUnitOfWork) -> AppliedWebhook:
        payload = payload_of(cmd.body)
        now = self._clock.now()
        with uow:
            connection = uow.whatsapp.connection()
            if connection is None:
                return AppliedWebhook(matched=False)
            values = [v for v in changes_of(payload) if phone_number_id_of(v) == connection.phone_number_id]
            statuses = [s for v in values for s in v.get("statuses") or () if isinstance(s, dict) and s.get("id")]
            inbound = [m for v in values for m in v.get("messages") or () if isinstance(m, dict) and m.get("id") and m.get("from")]
            counts = {"statuses": len(statuses), "changed": 0, "unknown_statuses": 0, "inbound": 0, "duplicates": 0}
            if statuses:
                self._statuses(uow, statuses, now, counts)
            if inbound:
                self._inbound(uow, cmd.tenant_id, inbound, now, counts)
            uow.commit()
        return AppliedWebhook(**counts)

    @staticmethod
    def _statuses(uow: WhatsappUnitOfWork, statuses: list[dict[str, Any]], now: datetime, counts: dict[str, int]) -> None:
        by_wamid = uow.whatsapp.outbound_by_wamid(sorted({str(s["id"]) for s in statuses}))
        ordered = sorted(statuses, key=lambda s: (_timestamp(s.get("timestamp"), now), str(s.get("status"))))
        for status in ordered:
            wamid = str(status["id"])
            message = by_wamid.get(wamid)
            if message is None and status.get("biz_opaque_callback_data"):
                try:
                    candidate = uow.whatsapp.message_for_update(parse_id(status["biz_opaque_callback_data"]))
                except InvalidInput:
                    candidate = None
                if candidate is not None and candidate.wamid in (None, wamid):
                    message = by_wamid[wamid] = candidate
            if message is None:
                counts["unknown_statuses"] += 1
                continue
            errors = status.get("errors") if isinstance(status.get("errors"), list) else []
            first = errors[0] if errors and isinstance(errors[0], dict) else {}
            code = first.get("code")
            title = first.get("title") or first.get("message")
            details = (first.get("error_data") or {}).get("details") if isinstance(first.get("error_data"), dict) else None
            if message.apply_status(
                str(status.get("status")), at=_timestamp(status.get("timestamp"), now), now=now, wamid=wamid,
                error_code=int(code) if isinstance(code, int | str) and str(code).isdigit() else None,
                error_title=" — ".join(str(t) for t in (title, details) if t) or None,
            ):
                counts["changed"] += 1

    @staticmethod
    def _inbound(uow: WhatsappUnitOfWork, tenant_id: str, items: list[dict[str, Any]], now: datetime, counts: dict[str, int]) -> None:
        phones = sorted({"+" + str(m["from"]).lstrip("+") for m in items})
        clients = uow.whatsapp_views.clients_by_phone(phones)
        seen: set[str] = set()
        for item in items:
            wamid = str(item["id"])
            if wamid in seen or uow.whatsapp.inbound_exists(wamid):
                counts["duplicates"] += 1
                continue
            seen.add(wamid)
            phone = "+" + str(item["from"]).lstrip("+")
            kind, text = _inbound_text(item)
            uow.whatsapp.add_inbound(
                InboundWhatsapp.receive(
                    tenant_id=tenant_id, phone=phone[:20], client_id=clients.get(phone), wamid=wamid, kind=kind,
                    text=text, provider_at=_timestamp(item.get("timestamp"), now), now=now,
                )
            )
            counts["inbound"] += 1
