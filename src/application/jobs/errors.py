"""How a job handler says how it went: return for success, raise one of these otherwise.

Any other exception counts as transient. Reasons are stored and logged: never put a token,
password or message body in them.
"""

from __future__ import annotations

from datetime import timedelta


class TransientJobError(Exception):
    """Try again later (timeout, 5xx, 429, SMTP 4xx); ``retry_after`` is the provider's floor."""

    def __init__(self, reason: str, *, retry_after: timedelta | float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        if isinstance(retry_after, int | float):
            retry_after = timedelta(seconds=retry_after)
        self.retry_after = retry_after


class PermanentJobError(Exception):
    """Trying again cannot help (4xx other than 429, invalid data): the job FAILS at once."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
