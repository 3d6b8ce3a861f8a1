"""``AurinkoInboxProvider``: Aurinko's email sync (start, updated, deleted), records to messages.

Start: ``POST /v1/email/sync?daysWithin=N`` -> ``{syncUpdatedToken, syncDeletedToken, ready}``.
Pages: ``GET /v1/email/sync/updated?deltaToken=T`` (then ``?pageToken=P``) -> ``{records[],
nextPageToken?, nextDeltaToken?}``; ``/v1/email/sync/deleted`` likewise with records ``{id}``.
A record without an id cannot be stored: it is counted (``skipped``) and left out; a page that is
not a JSON object with a ``records`` list is malformed (``ProviderUnavailable``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from adapters.aurinko.http import AurinkoHttp
from application.integrations.aurinko.ports import ProviderUnavailable, SyncPage, SyncStart
from domain.integrations.aurinko.inbox import (
    MAX_ID,
    MAX_LABELS,
    MAX_MESSAGE_ID,
    MAX_RECIPIENTS,
    MAX_SNIPPET,
    MAX_SUBJECT,
    InboundMessage,
    MailAddress,
    bounded,
)

MAX_BODY = 1_000_000


class AurinkoInboxProvider:
    def __init__(self, http: AurinkoHttp) -> None:
        self._http = http

    def start_sync(self, access_token: str, *, days_within: int) -> SyncStart:
        payload = self._http.request(
            "POST", "/v1/email/sync", bearer=access_token, params={"daysWithin": days_within}
        )
        if not isinstance(payload, dict):
            raise ProviderUnavailable("POST /v1/email/sync: Aurinko answered without a JSON object")
        return SyncStart(
            ready=payload.get("ready") is True,
            updated_token=_token(payload.get("syncUpdatedToken")),
            deleted_token=_token(payload.get("syncDeletedToken")),
        )

    def updated(
        self, access_token: str, *, delta_token: str | None = None, page_token: str | None = None
    ) -> SyncPage[InboundMessage]:
        payload = self._page("/v1/email/sync/updated", access_token, delta_token, page_token)
        messages: list[InboundMessage] = []
        skipped = 0
        for record in payload["records"]:
            message = message_from_record(record)
            if message is None:
                skipped += 1
            else:
                messages.append(message)
        return SyncPage(
            records=tuple(messages),
            next_page_token=_token(payload.get("nextPageToken")),
            next_delta_token=_token(payload.get("nextDeltaToken")),
            skipped=skipped,
        )

    def deleted(
        self, access_token: str, *, delta_token: str | None = None, page_token: str | None = None
    ) -> SyncPage[str]:
        payload = self._page("/v1/email/sync/deleted", access_token, delta_token, page_token)
        ids: list[str] = []
        skipped = 0
        for record in payload["records"]:
            provider_id = _provider_id(record.get("id")) if isinstance(record, dict) else None
            if provider_id is None:
                skipped += 1
            else:
                ids.append(provider_id)
        return SyncPage(
            records=tuple(ids),
            next_page_token=_token(payload.get("nextPageToken")),
            next_delta_token=_token(payload.get("nextDeltaToken")),
            skipped=skipped,
        )

    def _page(self, path: str, access_token: str, delta_token: str | None, page_token: str | None) -> dict[str, Any]:
        params = {"pageToken": page_token} if page_token else {"deltaToken": delta_token}
        payload = self._http.request("GET", path, bearer=access_token, params=params)
        if not isinstance(payload, dict) or not isinstance(payload.get("records", []), list):
            raise ProviderUnavailable(f"GET {path}: Aurinko answered a page without a records list")
        payload.setdefault("records", [])
        return payload


def _token(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _provider_id(value: Any) -> str | None:
    token = _token(value)
    return token if token is not None and len(token) <= MAX_ID else None


def _address(value: Any) -> MailAddress | None:
    if isinstance(value, Mapping):
        return MailAddress.of(value.get("address") or value.get("email"), value.get("name"))
    return MailAddress.of(value)


def _addresses(value: Any) -> tuple[MailAddress, ...]:
    if not isinstance(value, list):
        return ()
    found: list[MailAddress] = []
    for item in value[:MAX_RECIPIENTS]:
        address = _address(item)
        if address is not None:
            found.append(address)
    return tuple(found)


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def message_from_record(record: Any) -> InboundMessage | None:
    """An Aurinko message record as an ``InboundMessage``; None without a usable id."""
    if not isinstance(record, dict):
        return None
    provider_id = _provider_id(record.get("id"))
    if provider_id is None:
        return None
    labels = record.get("sysLabels")
    return InboundMessage(
        provider_id=provider_id,
        thread_id=bounded(_token(record.get("threadId")), MAX_ID),
        internet_message_id=bounded(record.get("internetMessageId"), MAX_MESSAGE_ID),
        subject=bounded(record.get("subject"), MAX_SUBJECT),
        sender=_address(record.get("from")),
        to=_addresses(record.get("to")),
        cc=_addresses(record.get("cc")),
        bcc=_addresses(record.get("bcc")),
        received_at=_moment(record.get("receivedAt")),
        sent_at=_moment(record.get("sentAt")),
        snippet=bounded(record.get("bodySnippet"), MAX_SNIPPET),
        body=record["body"][:MAX_BODY] if isinstance(record.get("body"), str) else None,
        has_attachments=record.get("hasAttachments") is True,
        labels=tuple(str(label)[:64] for label in labels[:MAX_LABELS]) if isinstance(labels, list) else (),
        in_reply_to=bounded(record.get("inReplyTo"), MAX_MESSAGE_ID),
    )
