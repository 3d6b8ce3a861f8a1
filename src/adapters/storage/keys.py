"""The shapes of storage addresses, shared by every storage adapter.

Blob keys are ``{tenant_id}/{sha256}``; staging references are ``uploads/<32 hex>`` (written
through the service) or ``direct/{tenant_id}/{sha256}`` (uploaded by a client with a signed URL).
Anything else is refused before it can become a path or an object key.
"""

from __future__ import annotations

import re

BLOB_KEY = re.compile(r"^[0-9a-f-]{36}/[0-9a-f]{64}$")
STAGING_REF = re.compile(r"^(uploads/[0-9a-f]{32}|direct/[0-9a-f-]{36}/[0-9a-f]{64})$")


def split_blob_key(key: str) -> tuple[str, str]:
    """``(tenant_id, sha256)`` of a blob key; ``ValueError`` if it is not one."""
    if not BLOB_KEY.match(key):
        raise ValueError(f"not a blob key: {key!r}")
    tenant, sha = key.split("/")
    return tenant, sha


def check_staging_ref(ref: str) -> str:
    """The reference itself; ``ValueError`` if it is not a staging reference."""
    if not STAGING_REF.match(ref):
        raise ValueError(f"not a staging reference: {ref!r}")
    return ref
