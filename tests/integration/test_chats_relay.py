"""The relay of a turn's progress on Redis (a stream per turn), against the local Redis server, and
in one process: the same numbering, resumption after a number, and a wait that ends empty."""

from __future__ import annotations

import threading
import uuid

import pytest

from adapters.llm.relay import MemoryTurnEvents, RedisTurnEvents

REDIS_URL = "redis://127.0.0.1:6379/15"


def _redis() -> RedisTurnEvents:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {error}")
    return RedisTurnEvents(REDIS_URL)


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_events_are_numbered_resumed_and_waited_for(kind: str) -> None:
    events = MemoryTurnEvents() if kind == "memory" else _redis()
    turn = f"turn-{uuid.uuid4()}"
    assert events.listen(turn, after=0, wait=0.05) == []
    events.publish(turn, {"type": "delta", "text": "Hola"})
    events.publish(turn, {"type": "delta", "text": " mundo"})
    assert events.listen(turn, after=0, wait=1) == [(1, {"type": "delta", "text": "Hola"}), (2, {"type": "delta", "text": " mundo"})]
    assert events.listen(turn, after=1, wait=1) == [(2, {"type": "delta", "text": " mundo"})]
    later = threading.Timer(0.2, lambda: events.publish(turn, {"type": "done", "message_id": "m"}))
    later.start()
    assert events.listen(turn, after=2, wait=10) == [(3, {"type": "done", "message_id": "m"})]
    later.join()
    assert events.listen(f"turn-{uuid.uuid4()}", after=0, wait=0.05) == []
