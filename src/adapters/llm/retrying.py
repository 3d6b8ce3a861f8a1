"""Retries of a model call: 429, 5xx and 529 again with backoff, honouring ``Retry-After``, within
the turn's deadline; never a 4xx, and never once text has been relayed (it would be said twice)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from application.chats.ports import ModelError

T = TypeVar("T")

RETRYABLE = ("rate_limited", "unavailable")


def retry_after_seconds(headers: object) -> float | None:
    """``Retry-After`` (seconds; an HTTP date is not used by these providers) or ``retry-after-ms``."""
    get = getattr(headers, "get", None)
    if get is None:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        raw = get(name)
        if raw:
            try:
                value = float(raw) * scale
            except ValueError:
                continue
            if 0 <= value < 3600:
                return value
    return None


class Retrying:
    def __init__(self, *, attempts: int = 4, base: float = 0.5, cap: float = 8.0,
                 sleep: Callable[[float], None] = time.sleep, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.attempts = attempts
        self.base = base
        self.cap = cap
        self.sleep = sleep
        self.monotonic = monotonic

    def run(self, call: Callable[[float], T], *, timeout: float, emitted: Callable[[], bool]) -> T:
        """``call(seconds_left)`` until it succeeds, fails for good, or the deadline is near."""
        deadline = self.monotonic() + timeout
        attempt = 0
        while True:
            attempt += 1
            left = deadline - self.monotonic()
            if left <= 0:
                raise ModelError("timeout", "the turn's deadline passed")
            try:
                return call(left)
            except ModelError as error:
                if error.kind not in RETRYABLE or attempt >= self.attempts or emitted():
                    raise
                wait = min(self.cap, self.base * 2 ** (attempt - 1))
                if error.retry_after is not None:
                    wait = max(wait, error.retry_after)
                if self.monotonic() + wait >= deadline:
                    raise
                self.sleep(wait)


def redacted(error: ModelError, secret: str) -> ModelError:
    """The error without the key, should a provider echo it (the message is shown to the user)."""
    if secret and len(secret) >= 6 and secret in error.message:
        error.message = error.message.replace(secret, "[key]")
        error.args = (error.message,)
    return error
