"""Domain modules: what each business domain registers with the service, in one place of its own.

Each ``application/<domain>/module.py`` exposes a ``MODULE``: the names of the dependencies it
needs (ports and policies the composition root provides) and a ``register`` function that builds
its handlers, event handlers, job handlers, schedules, and what it provides other modules
(webhook processors, delivery channels) from them. The bus,
the job runner's registry and the schedules are assembled from the list of modules
(``application.modules``):

- a module whose needs are not all configured, or that requires a module left out, is not
  registered at all, and the start-up log says which and why;
- a message type, job kind, schedule or provided key registered twice is an error at start-up,
  so no registration depends on the order of the list.

Cross-domain work goes through the bus: ``deps.messages`` sends a command or query to whichever
module registered it (bound once the bus exists), so a handler never calls another's ``__call__``.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Protocol

import structlog

from application.jobs.ports import JobHandler
from application.jobs.schedules import Schedule
from application.shared.bus import Handler, MessageBus
from application.shared.messages import Command, Query
from application.shared.ports import Reaction

log = structlog.get_logger(__name__)


class Messages(Protocol):
    """The bus as a port: run a command or query in its own unit of work, through its handler."""

    def handle(self, message: Command | Query, *, tenant_id: str | None = None) -> Any: ...


class DuplicateRegistration(Exception):
    """Two modules (or one, twice) registered the same message type, job kind, provider or schedule,
    or the same reaction to one event twice."""


class Dependencies:
    """The configured dependencies by name (``deps.clock``, ``deps.storage``); ``None`` when absent."""

    def __init__(self, values: Mapping[str, Any], messages: Messages, provided: Mapping[str, dict[str, Any]]) -> None:
        self._values = dict(values)
        self._provided = provided
        self.messages = messages

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._values.get(name)

    def get(self, name: str, default: Any = None) -> Any:
        value = self._values.get(name)
        return default if value is None else value

    def missing(self, names: Iterable[str]) -> list[str]:
        return [name for name in names if self._values.get(name) is None]

    def provided(self, point: str) -> Mapping[str, Any]:
        """What the modules provide at ``point`` (``Registrations.provides``), by key: filled as they
        register, so read it when handling, not when registering. A dependency of that name
        configured instead replaces it (tests)."""
        override = self._values.get(point)
        return override if override is not None else self._provided.setdefault(point, {})


@dataclass(frozen=True, slots=True, kw_only=True)
class Registrations:
    """What one module adds to the service."""

    handlers: Mapping[type, Handler] = field(default_factory=dict)
    event_handlers: Mapping[type, Sequence[Handler]] = field(default_factory=dict)
    """Run after the unit of work that recorded the event committed, each in a unit of work of its own."""
    reactions: Mapping[type, Sequence[Reaction]] = field(default_factory=dict)
    """``reaction(event, uow)``: run inside the unit of work that recorded the event, before it commits,
    for what must be written with the change or not at all (e.g. the job that pushes it somewhere).
    It must not open or commit ``uow``; raising fails the whole commit."""
    jobs: Mapping[str, JobHandler] = field(default_factory=dict)
    schedules: Sequence[Schedule] = ()
    provides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """What it offers other modules, by extension point and key: ``{"webhook_processors": {"polar":
    processor}}`` (what applies a provider's stored webhook events), ``{"delivery_channels":
    {"email": channel}}`` (an outbound channel's rules). A key provided twice at one point is an error."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainModule:
    name: str
    register: Callable[[Dependencies], Registrations]
    needs: tuple[str, ...] = ()
    """Dependencies that must be configured (not ``None``) for the module to be registered."""
    requires: tuple[str, ...] = ()
    """Other modules whose messages this one sends: left out with them."""


@dataclass(frozen=True, slots=True)
class Assembly:
    bus: MessageBus
    job_handlers: dict[str, JobHandler]
    schedules: list[Schedule]
    provided: dict[str, dict[str, Any]]
    registered: tuple[str, ...]
    left_out: dict[str, str]
    """Module name → why it was not registered."""


class _LateBus:
    """``deps.messages`` before the bus exists: bound once assembly is done."""

    def __init__(self) -> None:
        self.bus: MessageBus | None = None

    def handle(self, message: Command | Query, *, tenant_id: str | None = None) -> Any:
        if self.bus is None:
            raise RuntimeError("the message bus is not assembled yet")
        return self.bus.handle(message, tenant_id=tenant_id)


def assemble(modules: Sequence[DomainModule], uow_factory: Any, values: Mapping[str, Any]) -> Assembly:
    """Register every module whose needs are met; refuse duplicates. ``values``: dependencies by name."""
    late = _LateBus()
    provided: dict[str, dict[str, Any]] = {}
    deps = Dependencies({name: value for name, value in values.items() if value is not None}, late, provided)
    left_out = _left_out(modules, deps)
    handlers: dict[type, Handler] = {}
    event_handlers: dict[type, list[Handler]] = {}
    reactions: dict[type, list[Reaction]] = {}
    jobs: dict[str, JobHandler] = {}
    schedules: dict[str, Schedule] = {}
    registered = []
    for module in modules:
        if module.name in left_out:
            continue
        added = module.register(deps)
        _merge(handlers, added.handlers, module.name, "message type", lambda key: key.__name__)
        _merge(jobs, added.jobs, module.name, "job kind")
        _merge(schedules, {s.kind: s for s in added.schedules}, module.name, "schedule")
        for point, offered in added.provides.items():
            _merge(provided.setdefault(point, {}), offered, module.name, f"{point} key")
        for event, listeners in added.event_handlers.items():
            event_handlers.setdefault(event, []).extend(listeners)
        for event, added_reactions in added.reactions.items():
            found = reactions.setdefault(event, [])
            for reaction in added_reactions:  # several modules may react to one event, each once
                if any(reaction is other for other in found):
                    raise DuplicateRegistration(
                        f"a reaction to {event.__name__} is registered twice (again by module {module.name})"
                    )
                found.append(reaction)
        registered.append(module.name)
    bus = MessageBus(uow_factory, handlers, event_handlers, reactions)
    late.bus = bus
    for name, reason in left_out.items():
        log.info("module.not_registered", module=name, reason=reason)
    return Assembly(
        bus=bus,
        job_handlers=jobs,
        schedules=list(schedules.values()),
        provided=provided,
        registered=tuple(registered),
        left_out=left_out,
    )


def domain_parts(template: str, domains: Iterable[str]) -> list[tuple[str, ModuleType]]:
    """Each domain's part in one layer, found by name: ``template.format(domain=name)`` (e.g.
    ``"adapters.db.{domain}.module"``) for every domain that has one, in the order of ``domains``.
    A domain without that part is skipped; an error inside a part that exists propagates."""
    found = []
    for domain in domains:
        name = template.format(domain=domain)
        try:
            spec = importlib.util.find_spec(name)
        except ModuleNotFoundError as error:  # a parent package is missing: no such part
            if error.name is None or not (name + ".").startswith(error.name + "."):
                raise
            spec = None
        if spec is not None:
            found.append((domain, importlib.import_module(name)))
    return found


def _left_out(modules: Sequence[DomainModule], deps: Dependencies) -> dict[str, str]:
    names = [module.name for module in modules]
    if len(set(names)) != len(names):
        raise DuplicateRegistration(f"a module is listed twice: {sorted(n for n in names if names.count(n) > 1)}")
    left_out = {
        module.name: "not configured: " + ", ".join(missing)
        for module in modules
        if (missing := deps.missing(module.needs))
    }
    changed = True
    while changed:  # a module that sends to one left out is left out too
        changed = False
        for module in modules:
            absent = [name for name in module.requires if name in left_out or name not in names]
            if module.name not in left_out and absent:
                left_out[module.name] = "needs the module(s) " + ", ".join(absent)
                changed = True
    return left_out


def _merge(
    into: dict[Any, Any],
    added: Mapping[Any, Any],
    module: str,
    what: str,
    name: Callable[[Any], str] = str,
) -> None:
    for key, value in added.items():
        if key in into:
            raise DuplicateRegistration(f"{what} {name(key)} is registered twice (again by module {module})")
        into[key] = value
