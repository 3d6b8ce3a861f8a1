"""The directory (WorkOS) as the source of tenants and users: organizations are tenants, users and
memberships are the tenant's users, Directory Sync users switch them on and off.

WorkOS retries for days and does not keep order, so every record kept from it remembers the
``updated_at`` of the state it holds, and an older state never replaces a newer one.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from domain.tenancy.model import Role

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def is_newer(incoming: datetime, current: datetime | None) -> bool:
    """Whether a directory record updated at ``incoming`` replaces one updated at ``current``
    (the same moment counts: a redelivery of the same state changes nothing twice)."""
    return current is None or incoming >= current


def role_from_slug(slug: object) -> Role:
    """WorkOS role slugs: ``owner`` and ``admin`` are ours; anything else is a member."""
    text = str(slug or "").strip().lower()
    return {"owner": Role.OWNER, "admin": Role.ADMIN}.get(text, Role.MEMBER)


def slug_for(name: str, organization_id: str, *, taken: bool = False) -> str:
    """A tenant slug from the organization's name (with part of its id when the name's is taken)."""
    ascii_name = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode().lower()
    base = _NOT_SLUG.sub("-", ascii_name).strip("-")[:40].strip("-") or "org"
    if not taken:
        return base
    suffix = _NOT_SLUG.sub("", organization_id.lower())[-10:] or "x"
    return f"{base}-{suffix}"[:63].strip("-")


def placeholder_email(user_id: str) -> str:
    """The address of a user known by membership before its user record arrived."""
    local = _NOT_SLUG.sub("-", user_id.lower()).strip("-")[:60] or "user"
    return f"{local}@workos.invalid"


class DirectoryUser:
    """A WorkOS user as last reported: its email and whether it was deleted (keyed by WorkOS id)."""

    def __init__(self, *, id: str, email: str, deleted: bool, updated_at: datetime) -> None:
        self.id = id
        self.email = email
        self.deleted = deleted
        self.updated_at = updated_at
