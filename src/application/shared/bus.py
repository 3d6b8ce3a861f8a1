"""The message bus: one handler per command or query, event handlers after commit.

For each message the bus opens a unit of work bound to the message's tenant and hands it to
the handler. Events the unit of work collected on commit are dispatched once the handler
has returned, each to its handlers in a unit of work of its own. Errors propagate: nothing
here swallows an exception.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import structlog

from application.shared.messages import Command, Query
from application.shared.ports import UnitOfWork, UnitOfWorkFactory
from domain.shared.model import DomainEvent

log = structlog.get_logger(__name__)


class Handler(Protocol):
    def __call__(self, message: Any, uow: Any) -> Any:
        """``uow``: typed by each handler as the repositories it uses (its domain's unit of work)."""
        ...


class MessageBus:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory[UnitOfWork],
        handlers: Mapping[type, Handler],
        event_handlers: Mapping[type, Sequence[Handler]] | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._handlers = dict(handlers)
        self._event_handlers = dict(event_handlers or {})

    def handle(self, message: Command | Query, *, tenant_id: str | None = None) -> Any:
        """``tenant_id`` binds the unit of work of system work (``actor=None``, e.g. a job of one
        tenant) to that tenant; with an actor, the actor's tenant is used and ``tenant_id`` must agree."""
        handler = self._handlers.get(type(message))
        if handler is None:
            raise LookupError(f"no handler registered for {type(message).__name__}")
        actor = message.actor
        if actor is not None and tenant_id not in (None, actor.tenant_id):
            raise PermissionError("a message of one tenant cannot run for another")
        uow = self._uow_factory(actor.tenant_id if actor else tenant_id)
        result = handler(message, uow)
        self._dispatch(uow.collect_events())
        return result

    def _dispatch(self, events: list[DomainEvent]) -> None:
        queue = deque(events)
        while queue:
            event = queue.popleft()
            for handler in self._event_handlers.get(type(event), ()):
                log.debug("event.dispatch", event_type=type(event).__name__, handler=_name(handler))
                uow = self._uow_factory(event.tenant_id)
                handler(event, uow)
                queue.extend(uow.collect_events())


def _name(handler: Callable[..., Any]) -> str:
    return getattr(handler, "__qualname__", type(handler).__name__)
