"""The relay of a turn's progress from the worker to the stream (the ``TurnEvents`` port).

``MemoryTurnEvents``: one process (``istmo serve --dev --with-worker``, the tests). ``RedisTurnEvents``:
a Redis stream per turn (XADD / XREAD BLOCK), so the worker and the web processes need not be the
same; each turn's stream expires an hour after its last event."""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from typing import Any

TTL_SECONDS = 3600
MAX_EVENTS = 20_000


class MemoryTurnEvents:
    def __init__(self) -> None:
        self._events: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._changed = threading.Condition()
        self._touched: dict[str, float] = {}

    def publish(self, turn_id: str, event: dict[str, Any]) -> None:
        with self._changed:
            events = self._events[turn_id]
            if len(events) < MAX_EVENTS:
                events.append(event)
            self._touched[turn_id] = time.monotonic()
            self._forget_old()
            self._changed.notify_all()

    def listen(self, turn_id: str, *, after: int, wait: float) -> list[tuple[int, dict[str, Any]]]:
        deadline = time.monotonic() + wait
        with self._changed:
            while len(self._events.get(turn_id, ())) <= after:
                left = deadline - time.monotonic()
                if left <= 0:
                    return []
                self._changed.wait(left)
            events = self._events[turn_id]
            return [(number, events[number - 1]) for number in range(after + 1, len(events) + 1)]

    def _forget_old(self) -> None:
        cutoff = time.monotonic() - TTL_SECONDS
        for turn_id in [t for t, at in self._touched.items() if at < cutoff]:
            self._events.pop(turn_id, None)
            self._touched.pop(turn_id, None)


class RedisTurnEvents:
    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url)

    def __repr__(self) -> str:
        return "RedisTurnEvents()"

    @staticmethod
    def _key(turn_id: str) -> str:
        return f"istmo:chat-turn:{turn_id}"

    def publish(self, turn_id: str, event: dict[str, Any]) -> None:
        key = self._key(turn_id)
        pipe = self._redis.pipeline()
        pipe.xadd(key, {"e": json.dumps(event, ensure_ascii=False)}, maxlen=MAX_EVENTS, approximate=True)
        pipe.expire(key, TTL_SECONDS)
        pipe.execute()

    def listen(self, turn_id: str, *, after: int, wait: float) -> list[tuple[int, dict[str, Any]]]:
        """Numbers are positions in the stream (1-based), so a listener resumes where it stopped."""
        key = self._key(turn_id)
        entries = self._redis.xrange(key)
        if len(entries) <= after:
            last = entries[-1][0] if entries else b"0-0"
            self._redis.xread({key: last}, block=max(1, int(wait * 1000)), count=1)
            entries = self._redis.xrange(key)
        return [(n, json.loads(fields[b"e"])) for n, (_id, fields) in enumerate(entries, start=1) if n > after]
