"""The SecretBox port: provider tokens and secrets sealed at rest, bound to where they belong.

A sealed value names its ``context`` (for example ``f"aurinko:{tenant_id}:{connection_id}"``):
it opens only with the same context, so a ciphertext copied to another row, connection or
tenant is unreadable. ``reseal`` rewrites a value under the current primary key (key rotation).
Nothing here logs, and no error text carries a plaintext, a ciphertext or a key.
"""

from __future__ import annotations

from typing import Protocol


class SecretUnreadable(Exception):
    """Wrong key, wrong context, or tampered."""


class SecretBox(Protocol):
    def seal(self, plaintext: str, *, context: str) -> str: ...

    def open(self, sealed: str, *, context: str) -> str:
        """The plaintext; raises ``SecretUnreadable``."""
        ...

    def reseal(self, sealed: str, *, context: str) -> str:
        """The same plaintext sealed under the primary key; raises ``SecretUnreadable``."""
        ...
