"""WorkOS events into tenants and users (see ``application.tenancy.directory``).

Envelope ``{id, event, data, created_at}``; each record's own ``data.updated_at`` orders it (the
envelope's ``created_at`` when it has none). Events of other types (``session.*``,
``dsync.group.*``, ...) are stored and marked processed with nothing to do.
"""

from __future__ import annotations

from typing import Any

from application.jobs.errors import PermanentJobError
from application.shared.bus import MessageBus
from application.tenancy.directory import (
    DirectorySynced,
    SyncDirectorySyncUser,
    SyncDirectoryUser,
    SyncMembership,
    SyncOrganization,
)
from application.webhooks.payloads import field, json_object, text, timestamp
from application.webhooks.ports import WebhookOutcome
from application.webhooks.views import WebhookEventView

PROVIDER = "workos"


def _primary_email(data: Any) -> str | None:
    emails = field(data, "emails")
    if isinstance(emails, list):
        entries = [e for e in emails if isinstance(e, dict) and isinstance(e.get("value"), str)]
        primary = next((e for e in entries if e.get("primary")), entries[0] if entries else None)
        if primary is not None:
            return str(primary["value"])
    return text(data, "email")


class WorkOsWebhookProcessor:
    def __init__(self, bus: MessageBus) -> None:
        self._bus = bus

    def __call__(self, event: WebhookEventView) -> WebhookOutcome:
        body = json_object(event)
        kind = text(body, "event", required=True) or ""
        data = field(body, "data")
        if not isinstance(data, dict):
            raise PermanentJobError("the field data is missing")
        family, _, action = kind.rpartition(".")
        if family not in ("organization", "user", "organization_membership", "dsync.user") or action not in (
            "created", "updated", "deleted",
        ):
            return WebhookOutcome.processed(f"nothing to do for {kind[:64]}")
        updated_at = timestamp(body, "data.updated_at") or timestamp(body, "created_at", required=True)
        assert updated_at is not None
        deleted = action == "deleted"
        message: Any
        if family == "organization":
            message = SyncOrganization(
                actor=None, organization_id=text(body, "data.id", required=True) or "",
                name=text(body, "data.name"), updated_at=updated_at, deleted=deleted,
            )
        elif family == "user":
            message = SyncDirectoryUser(
                actor=None, user_id=text(body, "data.id", required=True) or "", email=text(body, "data.email", max_length=254),
                updated_at=updated_at, deleted=deleted,
            )
        elif family == "organization_membership":
            message = SyncMembership(
                actor=None, user_id=text(body, "data.user_id", required=True) or "",
                organization_id=text(body, "data.organization_id", required=True) or "",
                role=text(body, "data.role.slug") if isinstance(field(body, "data.role"), dict) else text(body, "data.role"),
                status=text(body, "data.status"), updated_at=updated_at, deleted=deleted,
            )
        else:
            email = _primary_email(data)
            if not email:
                raise PermanentJobError("the field data.emails is missing")
            message = SyncDirectorySyncUser(
                actor=None, directory_user_id=text(body, "data.id", required=True) or "",
                organization_id=text(body, "data.organization_id", required=True) or "",
                email=email, state=text(body, "data.state"),
                role=text(body, "data.role.slug") if isinstance(field(body, "data.role"), dict) else None,
                updated_at=updated_at, deleted=deleted,
            )
        result: DirectorySynced = self._bus.handle(message)
        if result.tenant_id is None and family in ("organization_membership", "dsync.user"):
            return WebhookOutcome.unmatched(result.note)
        return WebhookOutcome.processed(f"{kind}: {result.note}", tenant_id=result.tenant_id)
