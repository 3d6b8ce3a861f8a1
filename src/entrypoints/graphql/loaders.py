"""Per-request batch loaders: lists resolved in one request load in a constant number of queries.

The GraphQL executor runs asynchronously; every ``load()`` made while one level of the result
is being completed is queued, and the batch runs once, on the next turn of the event loop.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

from application.shared.bus import MessageBus
from application.shared.messages import Query
from domain.tenancy.model import Actor

Batch = Callable[[MessageBus, Actor, Sequence[Any]], Sequence[Any]]
"""Loads many keys with as few bus calls as it can: one result per key, in the keys' order."""


class BatchLoader:
    def __init__(self, batch: Callable[[Sequence[Any]], Sequence[Any]]) -> None:
        self._batch = batch
        self._cache: dict[Hashable, asyncio.Future[Any]] = {}
        self._queue: dict[Hashable, asyncio.Future[Any]] = {}

    def load(self, key: Hashable) -> asyncio.Future[Any]:
        if key in self._cache:
            return self._cache[key]
        loop = asyncio.get_running_loop()
        future = self._cache[key] = loop.create_future()
        if not self._queue:
            loop.call_soon(self._dispatch)
        self._queue[key] = future
        return future

    def _dispatch(self) -> None:
        queue, self._queue = self._queue, {}
        try:
            results = self._batch(list(queue))
        except Exception as error:  # every waiting field gets the batch's error
            for future in queue.values():
                future.set_exception(error)
            return
        for future, result in zip(queue.values(), results, strict=True):
            future.set_result(result)


def keyed(query: Callable[..., Query], field: str) -> Batch:
    """The batch of a query taking the keys as ``field`` and answering a mapping by key."""

    def batch(bus: MessageBus, actor: Actor, keys: Sequence[Any]) -> list[Any]:
        found = bus.handle(query(actor=actor, **{field: tuple(keys)}))
        return [found[key] for key in keys]

    return batch


class RequestLoaders:
    """One request's loaders, by name (``info.context["loaders"].clients_by_id``)."""

    def __init__(self, bus: MessageBus, actor: Actor, batches: Mapping[str, Batch]) -> None:
        self._loaders = {
            name: BatchLoader(functools.partial(batch, bus, actor)) for name, batch in batches.items()
        }

    def __getattr__(self, name: str) -> BatchLoader:
        try:
            return self._loaders[name]
        except KeyError:
            raise AttributeError(f"no loader named {name!r}") from None
