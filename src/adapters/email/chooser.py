"""``EmailSenders`` per tenant: the tenant's own SMTP URL, else the instance's, else the local outbox.

The choice is made on every send (a tenant that sets or removes its SMTP URL is served by the new
choice at once); senders are cached per URL. Other domains put their senders ahead of these
(``first``: e.g. an active Aurinko connection of the tenant) with a function that returns a
sender for a tenant, or ``None`` to fall through.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from adapters.egress.policy import EgressPolicy
from adapters.email.smtp import SmtpEmailSender, SmtpSettings
from application.emails.ports import EmailSender

TenantSmtpUrl = Callable[[str], str | None]
SenderChoice = Callable[[str], EmailSender | None]


class TenantEmailSenders:
    def __init__(
        self,
        *,
        outbox: EmailSender,
        default_from: str,
        instance_smtp_url: str | None = None,
        tenant_smtp_url: TenantSmtpUrl | None = None,
        first: Sequence[SenderChoice] = (),
        egress: EgressPolicy | None = None,
    ) -> None:
        self._egress = egress  # a tenant's own SMTP server is reached through the egress policy
        self._outbox = outbox
        self._default_from = default_from
        self._instance = SmtpEmailSender(SmtpSettings.parse(instance_smtp_url), default_from=default_from) if instance_smtp_url else None
        self._tenant_smtp_url = tenant_smtp_url
        self._first = tuple(first)
        self._cache: dict[str, SmtpEmailSender] = {}
        self._lock = threading.Lock()

    def for_tenant(self, tenant_id: str) -> EmailSender:
        for choice in self._first:
            sender = choice(tenant_id)
            if sender is not None:
                return sender
        url = self._tenant_smtp_url(tenant_id) if self._tenant_smtp_url else None
        if url:
            with self._lock:
                sender = self._cache.get(url)
                if sender is None:
                    sender = self._cache[url] = SmtpEmailSender(
                        SmtpSettings.parse(url), default_from=self._default_from, egress=self._egress
                    )
            return sender
        return self._instance or self._outbox
