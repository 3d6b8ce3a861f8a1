"""Per-request batch loaders: lists resolved in one request load in a constant number of queries.

The GraphQL executor runs asynchronously; every ``load()`` made while one level of the result
is being completed is queued, and the batch runs once, on the next turn of the event loop.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from application.emails.commands import GetClientEmails  # emails
from application.files.commands import FindFilesByEntities, GetFileLinks, SignFiles
from application.files.views import EntityRef, FileView
from application.invoicing.commands import GetClients
from application.shared.bus import MessageBus
from application.whatsapp.commands import GetClientWhatsapps
from domain.tenancy.model import Actor


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


class RequestLoaders:
    def __init__(self, bus: MessageBus, actor: Actor) -> None:
        self._bus = bus
        self._actor = actor
        self.files_by_entity = BatchLoader(self._files_by_entity)
        self.links_by_file = BatchLoader(self._links_by_file)
        self.signed_urls = BatchLoader(self._signed_urls)
        self.clients_by_id = BatchLoader(self._clients_by_id)
        self.whatsapp_numbers_by_client = BatchLoader(self._whatsapp_numbers)  # whatsapp
        self.client_emails = BatchLoader(self._client_emails)  # emails

    def _files_by_entity(self, refs: Sequence[EntityRef]) -> list[Any]:
        found = self._bus.handle(FindFilesByEntities(actor=self._actor, refs=tuple(refs)))
        return [found[ref] for ref in refs]

    def _links_by_file(self, file_ids: Sequence[str]) -> list[Any]:
        found = self._bus.handle(GetFileLinks(actor=self._actor, file_ids=tuple(file_ids)))
        return [found[file_id] for file_id in file_ids]

    def _clients_by_id(self, client_ids: Sequence[str]) -> list[Any]:
        found = self._bus.handle(GetClients(actor=self._actor, client_ids=tuple(client_ids)))
        return [found[client_id] for client_id in client_ids]

    def _whatsapp_numbers(self, client_ids: Sequence[str]) -> list[Any]:
        found = self._bus.handle(GetClientWhatsapps(actor=self._actor, client_ids=tuple(client_ids)))
        return [found[client_id] for client_id in client_ids]

    def _client_emails(self, client_ids: Sequence[str]) -> list[Any]:  # emails
        found = self._bus.handle(GetClientEmails(actor=self._actor, client_ids=tuple(client_ids)))
        return [found[client_id] for client_id in client_ids]

    def _signed_urls(self, keys: Sequence[tuple[FileView, int | None, bool]]) -> list[Any]:
        """Keys are (file, expires in, inline): signing needs no query, one bus call per option pair."""
        groups: dict[tuple[int | None, bool], list[FileView]] = defaultdict(list)
        for view, expires_in, inline in keys:
            groups[(expires_in, inline)].append(view)
        urls: dict[tuple[str, int | None, bool], Any] = {}
        for (expires_in, inline), views in groups.items():
            signed = self._bus.handle(
                SignFiles(actor=self._actor, files=tuple(views), expires_in=expires_in, inline=inline)
            )
            for url in signed:
                urls[(url.file_id, expires_in, inline)] = url.url
        return [urls[(view.id, expires_in, inline)] for view, expires_in, inline in keys]
