"""Assembling the service from domain modules: needs, requirements, duplicates, order."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta

import pytest

from application.jobs.schedules import Schedule
from application.modules import MODULES
from application.shared.messages import Command
from application.shared import modules
from application.shared.modules import DomainModule, DuplicateRegistration, Registrations, assemble


@dataclass(frozen=True, slots=True, kw_only=True)
class Ping(Command):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class Pong(Command):
    pass


def _module(name: str, *, handles: type = Ping, needs: tuple[str, ...] = (), requires: tuple[str, ...] = (),
            job: str | None = None, schedule: str | None = None, provider: str | None = None) -> DomainModule:
    def register(deps: object) -> Registrations:
        return Registrations(
            handlers={handles: lambda message, uow: name},
            jobs={job: lambda job: None} if job else {},
            schedules=[Schedule(kind=schedule, interval=timedelta(minutes=1))] if schedule else [],
            provides={"webhook_processors": {provider: lambda event: None}} if provider else {},
        )

    return DomainModule(name=name, needs=needs, requires=requires, register=register)


class _Uow:
    def collect_events(self) -> list[object]:
        return []


def _assemble(modules: list[DomainModule], **values: object):  # type: ignore[no-untyped-def]
    return assemble(modules, lambda tenant_id: _Uow(), values)


class _Log:
    def __init__(self) -> None:
        self.lines: list[tuple[str, dict[str, object]]] = []

    def info(self, event: str, **fields: object) -> None:
        self.lines.append((event, fields))


def test_a_module_whose_needs_are_not_configured_is_left_out_whole_and_the_log_says_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log = _Log()
    monkeypatch.setattr(modules, "log", log)  # whatever structlog configuration another test left
    service = _assemble([_module("a", needs=("clock", "storage"))], clock=object(), storage=None)
    assert service.registered == () and service.left_out == {"a": "not configured: storage"}
    assert log.lines == [("module.not_registered", {"module": "a", "reason": "not configured: storage"})]
    with pytest.raises(LookupError, match="no handler registered for Ping"):
        service.bus.handle(Ping(actor=None))


def test_a_module_that_requires_one_left_out_is_left_out_too_whatever_the_order() -> None:
    a = _module("a", needs=("missing",))
    b = _module("b", handles=Pong, requires=("a",))
    c = _module("c", handles=Ping, requires=("b",))
    for order in itertools.permutations([a, b, c]):
        service = _assemble(list(order))
        assert service.left_out == {"a": "not configured: missing", "b": "needs the module(s) a",
                                    "c": "needs the module(s) b"}
    assert _assemble([b]).left_out == {"b": "needs the module(s) a"}  # a module not listed at all


@pytest.mark.parametrize(
    "second, what",
    [
        (_module("b"), "message type Ping"),
        (_module("b", handles=Pong, job="j"), "job kind j"),
        (_module("b", handles=Pong, schedule="s"), "schedule s"),
        (_module("b", handles=Pong, provider="p"), "webhook_processors key p"),
    ],
)
def test_a_registration_made_twice_is_an_error_at_start_up(second: DomainModule, what: str) -> None:
    first = _module("a", job="j", schedule="s", provider="p")
    for order in ([first, second], [second, first]):
        with pytest.raises(DuplicateRegistration, match=what):
            _assemble(order)
    with pytest.raises(DuplicateRegistration, match="listed twice"):
        _assemble([first, first])


def test_handlers_jobs_schedules_and_processors_are_assembled_and_messages_go_through_the_bus() -> None:
    service = _assemble([_module("a", job="j", schedule="s", provider="p"), _module("b", handles=Pong)])
    assert service.registered == ("a", "b") and service.left_out == {}
    assert (service.bus.handle(Ping(actor=None)), service.bus.handle(Pong(actor=None))) == ("a", "b")
    assert (list(service.job_handlers), [s.kind for s in service.schedules], service.provided) == (
        ["j"], ["s"], {"webhook_processors": {"p": service.provided["webhook_processors"]["p"]}}
    )


def test_what_a_module_provides_is_read_by_another_whatever_the_order_and_a_dependency_replaces_it() -> None:
    seen: list[object] = []

    def reader(deps: object) -> Registrations:
        points = deps.provided("channels")  # type: ignore[attr-defined]
        return Registrations(handlers={Pong: lambda message, uow: sorted(points)})

    def offer(deps: object) -> Registrations:
        return Registrations(handlers={Ping: lambda message, uow: None}, provides={"channels": {"sms": seen}})

    modules = [DomainModule(name="reader", register=reader), DomainModule(name="offer", register=offer)]
    for order in (modules, modules[::-1]):
        assert _assemble(order).bus.handle(Pong(actor=None)) == ["sms"]
    assert _assemble(modules, channels={"fax": seen}).bus.handle(Pong(actor=None)) == ["fax"]


def test_every_module_of_the_service_is_listed_once_and_names_what_it_needs() -> None:
    names = [module.name for module in MODULES]
    assert len(names) == len(set(names))
    assert all(required in names for module in MODULES for required in module.requires)


def test_a_domain_reads_its_own_variables_at_each_limit_and_names_the_one_that_does_not_parse() -> None:
    from entrypoints.config import ConfigurationError, Settings

    variables = Settings.from_env({"ISTMO_CHATS_TURNS": "1", "ISTMO_CHATS_WAIT": "90s", "ISTMO_CHATS_EMPTY": "",
                                   "ISTMO_CHATS_ZERO": "0", "ISTMO_CHATS_DIGIT": "\u0661\u0662", "OTHER": "x",
                                   "ISTMO_CHATS_WORD": "ten"}).variables
    assert "OTHER" not in variables.values
    assert variables.integer("CHATS_TURNS", 20) == 1  # exactly the minimum
    assert variables.integer("CHATS_EMPTY", 20) == 20 and variables.text("CHATS_MISSING") is None
    assert variables.duration("CHATS_WAIT", timedelta(0)) == timedelta(seconds=90)
    for name, message in (("CHATS_ZERO", "at least 1"), ("CHATS_DIGIT", "whole number"), ("CHATS_WORD", "whole number")):
        with pytest.raises(ConfigurationError, match=f"ISTMO_{name} must be .*{message}"):
            variables.integer(name, 20)


def test_reactions_of_several_modules_to_one_event_are_all_given_to_the_bus_and_one_registered_twice_is_refused() -> None:
    first, second = (lambda event, uow: None), (lambda event, uow: None)

    def reacting(name: str, *reactions: object) -> DomainModule:
        return DomainModule(name=name, register=lambda deps: Registrations(reactions={Ping: list(reactions)}))

    service = _assemble([reacting("a", first), reacting("b", second)])
    assert service.bus._reactions == {Ping: (first, second)}
    for modules_listed in ([reacting("a", first), reacting("b", first)], [reacting("a", first, first)]):
        with pytest.raises(DuplicateRegistration, match="a reaction to Ping is registered twice"):
            _assemble(modules_listed)
