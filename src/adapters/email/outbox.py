"""``LocalOutboxEmailSender``: the default sender, which sends nothing and keeps every message as
an RFC 5322 ``.eml`` file under ``<root>/<tenant id>/`` (open it with any mail client).

The file is named after the Message-ID, so delivering the same message again finds it already
there and writes nothing (idempotent across attempts). Files are written to a temporary name
and renamed into place: a crash leaves no half-written ``.eml``.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from adapters.email.mime import build_mime
from application.deliveries.ports import DeliveryRejected, Receipt
from application.emails.ports import OutgoingEmail

_UNSAFE = re.compile(r"[^A-Za-z0-9@._-]")
_TENANT = re.compile(r"^[A-Za-z0-9-]{1,64}$")


def eml_name(message_id: str) -> str:
    return _UNSAFE.sub("_", message_id.strip("<>"))[:200] + ".eml"


class LocalOutboxEmailSender:
    provider = "outbox"

    def __init__(self, root: Path, *, default_from: str) -> None:
        self._root = Path(root)
        self._from = default_from

    def folder(self, tenant_id: str) -> Path:
        if not _TENANT.match(tenant_id):
            raise DeliveryRejected("the tenant id cannot name an outbox folder")
        return self._root / tenant_id

    def deliver(self, email: OutgoingEmail) -> Receipt:
        folder = self.folder(email.tenant_id)
        folder.mkdir(parents=True, exist_ok=True)
        name = eml_name(email.message_id)
        path = folder / name
        if path.exists():
            return Receipt(provider=self.provider, provider_message_id=name, response="already in the local outbox")
        data = build_mime(email, from_address=email.from_address or self._from, include_bcc=True).as_bytes()
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".part")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return Receipt(provider=self.provider, provider_message_id=name, response=f"written to the local outbox ({len(data)} bytes)")
