"""The message bus: one handler per command or query, reactions inside the commit, event handlers after it.

For each message the bus opens a unit of work bound to the message's tenant, gives it the
reactions, and hands it to the handler. Reactions run inside that unit of work's ``commit()``,
before the transaction commits (``react``): what they write commits with the change or not at all.
Events the unit of work collected on commit are dispatched once the handler has returned, each
to its event handlers in a unit of work of its own (which reacts too). Errors propagate: nothing
here swallows an exception.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import structlog

from application.shared.messages import Command, Query
from application.shared.ports import Reactions, UnitOfWork, UnitOfWorkFactory
from domain.shared.model import DomainEvent

log = structlog.get_logger(__name__)

REACTION_ROUNDS = 8
"""How many times reactions may record events that call for reactions again in one commit."""


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
        reactions: Reactions | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._handlers = dict(handlers)
        self._event_handlers = dict(event_handlers or {})
        self._reactions = {event: tuple(found) for event, found in (reactions or {}).items() if found}

    def handle(self, message: Command | Query, *, tenant_id: str | None = None) -> Any:
        """``tenant_id`` binds the unit of work of system work (``actor=None``, e.g. a job of one
        tenant) to that tenant; with an actor, the actor's tenant is used and ``tenant_id`` must agree."""
        handler = self._handlers.get(type(message))
        if handler is None:
            raise LookupError(f"no handler registered for {type(message).__name__}")
        actor = message.actor
        if actor is not None and tenant_id not in (None, actor.tenant_id):
            raise PermissionError("a message of one tenant cannot run for another")
        uow = self._open(actor.tenant_id if actor else tenant_id)
        result = handler(message, uow)
        self._dispatch(uow.collect_events())
        return result

    def _dispatch(self, events: list[DomainEvent]) -> None:
        queue = deque(events)
        while queue:
            event = queue.popleft()
            for handler in self._event_handlers.get(type(event), ()):
                log.debug("event.dispatch", event_type=type(event).__name__, handler=_name(handler))
                uow = self._open(event.tenant_id)
                handler(event, uow)
                queue.extend(uow.collect_events())

    def _open(self, tenant_id: str | None) -> UnitOfWork:
        uow = self._uow_factory(tenant_id)
        if self._reactions:
            uow.react_with(self._reactions)
        return uow


def react(uow: Any, reactions: Reactions, pull: Callable[[], list[DomainEvent]]) -> list[DomainEvent]:
    """What a unit of work's ``commit()`` does before committing: the events ``pull`` gives (those its
    aggregates recorded), each handed once to its reactions with ``uow``, then those the reactions'
    own writes recorded, for at most ``REACTION_ROUNDS`` rounds. Returns every event, in order."""
    events = pull()
    if not reactions:
        return events
    handled = 0
    for _ in range(REACTION_ROUNDS):
        if handled == len(events):
            return events
        batch, handled = events[handled:], len(events)
        for event in batch:
            for reaction in reactions.get(type(event), ()):
                log.debug("event.react", event_type=type(event).__name__, reaction=_name(reaction))
                reaction(event, uow)
        events.extend(pull())
    if handled == len(events):
        return events
    raise RuntimeError(f"reactions still recorded events after {REACTION_ROUNDS} rounds: a reaction loop?")


def _name(handler: Callable[..., Any]) -> str:
    return getattr(handler, "__qualname__", type(handler).__name__)
