"""The tenant's own fiscal profile, as purchases checks an invoice's receiver RUC against it.

It is invoicing's (read through the bus). A worker recording a thousand invoices of one tenant
needs it a thousand times and it all but never changes, so it is kept per tenant for a short while
(``KEPT_FOR``) instead of read per invoice. What keeps that sound:

- a saved profile (``TenantProfileUpdated``) drops this process's copy at once;
- another process's copy is at most ``KEPT_FOR`` old;
- a check is never failed on a kept copy: the caller reads the profile fresh before it reports one
  (a missing profile is not kept at all). So a kept copy can only be out of date in one way: for
  ``KEPT_FOR`` after the tenant changes its RUC, an invoice to the old RUC passes the check.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from application.invoicing.profiles import GetTenantProfile, TenantProfileView
from application.shared.modules import Messages
from application.shared.ports import Clock
from domain.invoicing.issuer import TenantProfileUpdated

KEPT_FOR = timedelta(seconds=60)
MAX_TENANTS = 1_000


class CompanyProfiles:
    def __init__(self, messages: Messages, clock: Clock, kept_for: timedelta = KEPT_FOR) -> None:
        self._messages = messages
        self._clock = clock
        self._kept_for = kept_for
        self._kept: dict[str, tuple[datetime, TenantProfileView]] = {}
        self._lock = threading.Lock()

    def get(self, tenant_id: str, *, fresh: bool = False) -> tuple[TenantProfileView | None, bool]:
        """The tenant's profile, and whether it is a kept copy (``fresh``: read it now)."""
        now = self._clock.now()
        if not fresh:
            with self._lock:
                kept = self._kept.get(tenant_id)
            if kept is not None and now - kept[0] < self._kept_for:
                return kept[1], True
        profile: TenantProfileView | None = self._messages.handle(GetTenantProfile(actor=None), tenant_id=tenant_id)
        with self._lock:
            if profile is None:
                self._kept.pop(tenant_id, None)
            else:
                if len(self._kept) >= MAX_TENANTS and tenant_id not in self._kept:
                    self._kept.pop(next(iter(self._kept)))  # the oldest kept: a worker serves few tenants at once
                self._kept[tenant_id] = (now, profile)
        return profile, False

    def forget(self, event: TenantProfileUpdated, _uow: object = None) -> None:
        """An event handler: the tenant saved its profile in this process."""
        with self._lock:
            self._kept.pop(event.tenant_id, None)
