"""The message bus: routing, units of work, events after commit, errors that propagate."""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
from dataclasses import dataclass
from typing import Any

import pytest

from adapters.storage.mime import SniffingMimeDetector
from application.modules import build_message_bus
from application.files import commands as file_messages
from application.files.commands import FilePolicy
from application.shared.bus import REACTION_ROUNDS, MessageBus
from application.shared.messages import Command, Query
from application.tenancy import handlers as tenancy_messages
from application.tenancy.handlers import CreateTenant
from domain.files.model import EntityType, File, FileAdded, FileLinked
from domain.tenancy.model import Actor, Role
from tests.fakes.clock import FakeClock
from tests.fakes.storage import FakeFileStorage
from tests.fakes.uow import FakeStore, FakeUnitOfWork, fake_uow_factory


@dataclass(frozen=True, slots=True, kw_only=True)
class Touch(Command):
    content: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Peek(Query):
    pass


class Recorder:
    """A uow factory that remembers every unit of work it built."""

    def __init__(self, store: FakeStore, clock: FakeClock) -> None:
        self._factory = fake_uow_factory(store, clock)
        self.built: list[FakeUnitOfWork] = []

    def __call__(self, tenant_id: str | None) -> FakeUnitOfWork:
        uow = self._factory(tenant_id)
        self.built.append(uow)
        return uow


# src/application/shared/bus.py:54 logs with ``log.debug("event.dispatch", event=...)``; structlog's
# first parameter is itself named ``event``, so dispatching any event to a registered handler
# raises TypeError ("got multiple values for argument 'event'").


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def uows(store: FakeStore, clock: FakeClock) -> Recorder:
    return Recorder(store, clock)


@pytest.fixture
def actor(store: FakeStore, clock: FakeClock) -> Actor:
    bus = MessageBus(
        fake_uow_factory(store, clock), {CreateTenant: tenancy_messages.CreateTenantHandler(clock)}
    )
    created = bus.handle(CreateTenant(actor=None, slug="acme", name="Acme"))
    return Actor(tenant_id=created.tenant_id, user_id="ana@acme.pa", role=Role.OWNER)


def new_file(actor: Actor, content: bytes, clock: FakeClock) -> File:
    return File.add(
        tenant_id=actor.tenant_id,
        name="f.txt",
        sha256=hashlib.sha256(content).hexdigest(),
        mime="text/plain",
        size=len(content),
        created_by=actor.user_id,
        now=clock.now(),
    )


def keep_and_commit(clock: FakeClock, log: list[str]) -> Any:
    def handler(cmd: Touch, uow: FakeUnitOfWork) -> str:
        with uow:
            file = new_file(cmd.actor, cmd.content, clock)
            uow.files.add(file)
            uow.commit()
        log.append("handler returns")
        return file.id

    return handler


# --- routing --------------------------------------------------------------------------------


def test_the_registered_handler_gets_the_message_and_its_result_is_returned(
    uows: Recorder, actor: Actor
) -> None:
    seen: list[Any] = []

    def handler(message: Peek, uow: FakeUnitOfWork) -> str:
        seen.append(message)
        return "the answer"

    message = Peek(actor=actor)
    assert MessageBus(uows, {Peek: handler}).handle(message) == "the answer"
    assert seen == [message]


def test_each_message_type_goes_to_its_own_handler(uows: Recorder, actor: Actor) -> None:
    bus = MessageBus(uows, {Peek: lambda m, u: "peek", Touch: lambda m, u: "touch"})
    assert bus.handle(Touch(actor=actor, content=b"x")) == "touch"
    assert bus.handle(Peek(actor=actor)) == "peek"


def test_the_handler_gets_a_unit_of_work_bound_to_the_actors_tenant(uows: Recorder, actor: Actor) -> None:
    given: list[FakeUnitOfWork] = []
    MessageBus(uows, {Peek: lambda m, uow: given.append(uow)}).handle(Peek(actor=actor))
    assert given == uows.built
    assert given[0].tenant_id == actor.tenant_id


def test_system_commands_without_actor_get_a_unit_of_work_without_tenant(uows: Recorder) -> None:
    def handler(cmd: Touch, uow: FakeUnitOfWork) -> None:
        with uow:
            with pytest.raises(PermissionError):
                uow.files.get("any")

    MessageBus(uows, {Touch: handler}).handle(Touch(actor=None, content=b""))
    assert [uow.tenant_id for uow in uows.built] == [None]


def test_an_unknown_message_raises_lookup_error_naming_it_and_opens_nothing(
    uows: Recorder, actor: Actor
) -> None:
    bus = MessageBus(uows, {Peek: lambda m, u: None})
    with pytest.raises(LookupError, match="Touch"):
        bus.handle(Touch(actor=actor, content=b"x"))
    assert uows.built == []


def test_a_subclass_of_a_registered_message_is_not_routed_to_its_parents_handler(
    uows: Recorder, actor: Actor
) -> None:
    @dataclass(frozen=True, slots=True, kw_only=True)
    class SpecialPeek(Peek):
        pass

    with pytest.raises(LookupError):
        MessageBus(uows, {Peek: lambda m, u: None}).handle(SpecialPeek(actor=actor))


def _messages(module: Any) -> list[type]:
    return [
        value
        for _, value in inspect.getmembers(module, inspect.isclass)
        if issubclass(value, (Command, Query))
        and value not in (Command, Query)
        and value.__module__ == module.__name__
    ]


def test_build_message_bus_registers_one_handler_for_every_files_and_tenancy_message(
    store: FakeStore, clock: FakeClock, actor: Actor
) -> None:
    storage = FakeFileStorage(clock)
    bus = build_message_bus(
        uow_factory=fake_uow_factory(store, clock),
        storage=storage,
        mime=SniffingMimeDetector(),
        clock=clock,
        file_policy=FilePolicy(),
    )
    messages = _messages(file_messages) + _messages(tenancy_messages)
    assert len(messages) >= 15
    for message_type in messages:
        # An empty instance: the handler may fail on it, but the bus must have routed it.
        message = message_type.__new__(message_type)
        object.__setattr__(message, "actor", actor if issubclass(message_type, Query) else None)
        for f in dataclasses.fields(message_type):
            if f.name != "actor":
                object.__setattr__(message, f.name, None)
        try:
            bus.handle(message)
        except LookupError as error:
            assert "no handler registered" not in str(error), f"{message_type.__name__} has no handler"
        except Exception:
            pass


# --- events after commit --------------------------------------------------------------------


def test_events_are_dispatched_after_the_handler_committed_and_returned(
    uows: Recorder, store: FakeStore, clock: FakeClock, actor: Actor
) -> None:
    log: list[str] = []
    received: list[FileAdded] = []

    def on_added(event: FileAdded, uow: FakeUnitOfWork) -> None:
        log.append("event handled")
        received.append(event)
        assert event.file_id in store.files, "the event must not run before the commit is visible"

    bus = MessageBus(uows, {Touch: keep_and_commit(clock, log)}, {FileAdded: [on_added]})
    file_id = bus.handle(Touch(actor=actor, content=b"hello"))
    assert log == ["handler returns", "event handled"]
    assert received == [
        FileAdded(tenant_id=actor.tenant_id, file_id=file_id, sha256=hashlib.sha256(b"hello").hexdigest())
    ]


def test_no_event_is_dispatched_when_the_handler_leaves_without_commit(
    uows: Recorder, store: FakeStore, clock: FakeClock, actor: Actor
) -> None:
    received: list[Any] = []

    def handler(cmd: Touch, uow: FakeUnitOfWork) -> None:
        with uow:
            uow.files.add(new_file(cmd.actor, cmd.content, clock))

    bus = MessageBus(uows, {Touch: handler}, {FileAdded: [lambda e, u: received.append(e)]})
    bus.handle(Touch(actor=actor, content=b"hello"))
    assert received == []
    assert store.files == {}


def test_no_event_is_dispatched_after_an_explicit_rollback(
    uows: Recorder, store: FakeStore, clock: FakeClock, actor: Actor
) -> None:
    received: list[Any] = []

    def handler(cmd: Touch, uow: FakeUnitOfWork) -> None:
        with uow:
            uow.files.add(new_file(cmd.actor, cmd.content, clock))
            uow.rollback()
            uow.commit()

    bus = MessageBus(uows, {Touch: handler}, {FileAdded: [lambda e, u: received.append(e)]})
    bus.handle(Touch(actor=actor, content=b"hello"))
    assert received == []
    assert store.files == {}


def test_only_the_events_of_committed_work_are_dispatched(
    uows: Recorder, store: FakeStore, clock: FakeClock, actor: Actor
) -> None:
    received: list[FileAdded] = []

    def handler(cmd: Touch, uow: FakeUnitOfWork) -> str:
        with uow:
            kept = new_file(cmd.actor, b"kept", clock)
            uow.files.add(kept)
            uow.commit()
            uow.files.add(new_file(cmd.actor, b"dropped", clock))
        return kept.id

    bus = MessageBus(uows, {Touch: handler}, {FileAdded: [lambda e, u: received.append(e)]})
    kept_id = bus.handle(Touch(actor=actor, content=b""))
    assert [event.file_id for event in received] == [kept_id]
    assert list(store.files) == [kept_id]


def test_a_failing_handler_dispatches_no_event_and_its_error_propagates(
    uows: Recorder, store: FakeStore, clock: FakeClock, actor: Actor
) -> None:
    received: list[Any] = []

    class Boom(Exception):
        pass

    def handler(cmd: Touch, uow: FakeUnitOfWork) -> None:
        with uow:
            uow.files.add(new_file(cmd.actor, cmd.content, clock))
            raise Boom("disk on fire")

    bus = MessageBus(uows, {Touch: handler}, {FileAdded: [lambda e, u: received.append(e)]})
    with pytest.raises(Boom, match="disk on fire"):
        bus.handle(Touch(actor=actor, content=b"x"))
    assert received == []
    assert store.files == {}


def test_each_event_handler_gets_its_own_unit_of_work_bound_to_the_events_tenant(
    uows: Recorder, clock: FakeClock, actor: Actor
) -> None:
    given: list[FakeUnitOfWork] = []

    def first(event: FileAdded, uow: FakeUnitOfWork) -> None:
        given.append(uow)

    def second(event: FileAdded, uow: FakeUnitOfWork) -> None:
        given.append(uow)

    bus = MessageBus(uows, {Touch: keep_and_commit(clock, [])}, {FileAdded: [first, second]})
    bus.handle(Touch(actor=actor, content=b"x"))
    command_uow = uows.built[0]
    assert len(given) == 2
    assert given[0] is not given[1]
    assert all(uow is not command_uow for uow in given)
    assert all(uow.tenant_id == actor.tenant_id for uow in given)


def test_event_handlers_run_in_registration_order(uows: Recorder, clock: FakeClock, actor: Actor) -> None:
    order: list[str] = []
    handlers = [lambda e, u, n=n: order.append(n) for n in ("a", "b", "c")]
    bus = MessageBus(uows, {Touch: keep_and_commit(clock, [])}, {FileAdded: handlers})
    bus.handle(Touch(actor=actor, content=b"x"))
    assert order == ["a", "b", "c"]


def test_an_event_handlers_committed_work_is_kept_and_its_events_are_dispatched_too(
    uows: Recorder, store: FakeStore, clock: FakeClock, actor: Actor
) -> None:
    linked: list[FileLinked] = []

    def link_new_files(event: FileAdded, uow: FakeUnitOfWork) -> None:
        with uow:
            file = uow.files.get(event.file_id)
            file.link(EntityType.INVOICE, "inv-1", now=clock.now())
            uow.commit()

    bus = MessageBus(
        uows,
        {Touch: keep_and_commit(clock, [])},
        {FileAdded: [link_new_files], FileLinked: [lambda e, u: linked.append(e)]},
    )
    file_id = bus.handle(Touch(actor=actor, content=b"x"))
    assert [(link.entity_type, link.entity_id) for link in store.files[file_id].links] == [
        (EntityType.INVOICE, "inv-1")
    ]
    assert linked == [
        FileLinked(
            tenant_id=actor.tenant_id, file_id=file_id, entity_type=EntityType.INVOICE, entity_id="inv-1"
        )
    ]


def test_an_event_handler_that_does_not_commit_changes_nothing(
    uows: Recorder, store: FakeStore, clock: FakeClock, actor: Actor
) -> None:
    def forgets_to_commit(event: FileAdded, uow: FakeUnitOfWork) -> None:
        with uow:
            uow.files.get(event.file_id).link(EntityType.INVOICE, "inv-1", now=clock.now())

    bus = MessageBus(uows, {Touch: keep_and_commit(clock, [])}, {FileAdded: [forgets_to_commit]})
    file_id = bus.handle(Touch(actor=actor, content=b"x"))
    assert store.files[file_id].links == []


def test_an_event_handlers_error_propagates_and_the_command_stays_committed(
    uows: Recorder, store: FakeStore, clock: FakeClock, actor: Actor
) -> None:
    after: list[str] = []

    def fails(event: FileAdded, uow: FakeUnitOfWork) -> None:
        raise RuntimeError("mail server down")

    bus = MessageBus(
        uows,
        {Touch: keep_and_commit(clock, [])},
        {FileAdded: [fails, lambda e, u: after.append("second handler")]},
    )
    with pytest.raises(RuntimeError, match="mail server down"):
        bus.handle(Touch(actor=actor, content=b"x"))
    assert len(store.files) == 1
    assert after == []


# --- reactions inside the commit ------------------------------------------------------------


def queue_job(kind: str) -> Any:
    def reaction(event: Any, uow: FakeUnitOfWork) -> None:
        uow.jobs.enqueue(kind, {"file_id": event.file_id})

    return reaction


def test_a_reaction_writes_in_the_transaction_that_recorded_the_event_and_handlers_still_run_after_it(
    uows: Recorder, store: FakeStore, clock: FakeClock, actor: Actor
) -> None:
    log: list[str] = []
    seen_in_reaction: list[bool] = []

    def react(event: FileAdded, uow: FakeUnitOfWork) -> None:
        seen_in_reaction.append(event.file_id in store.files)
        log.append("reaction")
        uow.jobs.enqueue("push", {"file_id": event.file_id})

    def after(event: FileAdded, uow: FakeUnitOfWork) -> None:
        log.append("event handled")
        assert len(store.jobs) == 1, "the reaction's job committed before the event handlers run"

    commits = store.commits
    bus = MessageBus(uows, {Touch: keep_and_commit(clock, log)}, {FileAdded: [after]}, {FileAdded: [react]})
    file_id = bus.handle(Touch(actor=actor, content=b"x"))

    assert seen_in_reaction == [False], "the reaction runs before the commit"
    assert store.commits == commits + 1, "the file and its job: one commit"
    assert [(job.kind, job.payload, job.tenant_id) for job in store.jobs.values()] == [
        ("push", {"file_id": file_id}, actor.tenant_id)
    ]
    assert log == ["reaction", "handler returns", "event handled"]


def test_a_reaction_that_raises_fails_the_commit_and_nothing_of_it_is_written(
    uows: Recorder, store: FakeStore, clock: FakeClock, actor: Actor
) -> None:
    handled: list[Any] = []

    def refuse(event: FileAdded, uow: FakeUnitOfWork) -> None:
        raise RuntimeError("no push today")

    commits = store.commits
    bus = MessageBus(
        uows, {Touch: keep_and_commit(clock, [])}, {FileAdded: [lambda e, u: handled.append(e)]},
        {FileAdded: [queue_job("push"), refuse]},
    )
    with pytest.raises(RuntimeError, match="no push today"):
        bus.handle(Touch(actor=actor, content=b"x"))
    assert (store.files, store.jobs, store.commits, handled) == ({}, {}, commits, [])


def test_a_unit_of_work_whose_reaction_failed_starts_again_from_what_is_committed(
    store: FakeStore, clock: FakeClock, actor: Actor
) -> None:
    uow = FakeUnitOfWork(store, actor.tenant_id, clock)
    uow.react_with({FileAdded: [queue_job("push")], FileLinked: [lambda e, u: 1 / 0]})
    with uow:
        file = new_file(actor, b"x", clock)
        uow.files.add(file)
        uow.commit()
        uow.files.get(file.id).link(EntityType.INVOICE, "inv-1", now=clock.now())
        with pytest.raises(ZeroDivisionError):
            uow.commit()
        uow.commit()  # nothing left to write: the failed work was dropped with its events
    assert store.files[file.id].links == [] and len(store.jobs) == 1
    assert [type(e) for e in uow.collect_events()] == [FileAdded]


def test_events_a_reaction_records_are_reacted_to_in_the_same_commit_and_dispatched_after_it(
    uows: Recorder, store: FakeStore, clock: FakeClock, actor: Actor
) -> None:
    linked: list[FileLinked] = []

    def link(event: FileAdded, uow: FakeUnitOfWork) -> None:
        uow.files.get(event.file_id).link(EntityType.INVOICE, "inv-1", now=clock.now())

    commits = store.commits
    bus = MessageBus(
        uows, {Touch: keep_and_commit(clock, [])}, {FileLinked: [lambda e, u: linked.append(e)]},
        {FileAdded: [link], FileLinked: [queue_job("linked")]},
    )
    file_id = bus.handle(Touch(actor=actor, content=b"x"))
    assert store.commits == commits + 1
    assert [(link.entity_type, link.entity_id) for link in store.files[file_id].links] == [(EntityType.INVOICE, "inv-1")]
    assert [job.kind for job in store.jobs.values()] == ["linked"]
    assert [event.file_id for event in linked] == [file_id]


def test_reactions_that_keep_recording_events_are_stopped_and_nothing_is_written(
    uows: Recorder, store: FakeStore, clock: FakeClock, actor: Actor
) -> None:
    rounds: list[int] = []

    def link_again(event: Any, uow: FakeUnitOfWork) -> None:
        rounds.append(1)
        uow.files.get(event.file_id).link(EntityType.INVOICE, f"inv-{len(rounds)}", now=clock.now())

    bus = MessageBus(uows, {Touch: keep_and_commit(clock, [])}, {}, {FileAdded: [link_again], FileLinked: [link_again]})
    with pytest.raises(RuntimeError, match="reaction loop"):
        bus.handle(Touch(actor=actor, content=b"x"))
    assert len(rounds) == REACTION_ROUNDS and store.files == {}


def test_the_units_of_work_of_event_handlers_react_too(
    uows: Recorder, store: FakeStore, clock: FakeClock, actor: Actor
) -> None:
    def link_in_own_uow(event: FileAdded, uow: FakeUnitOfWork) -> None:
        with uow:
            uow.files.get(event.file_id).link(EntityType.INVOICE, "inv-1", now=clock.now())
            uow.commit()

    bus = MessageBus(
        uows, {Touch: keep_and_commit(clock, [])}, {FileAdded: [link_in_own_uow]}, {FileLinked: [queue_job("linked")]}
    )
    file_id = bus.handle(Touch(actor=actor, content=b"x"))
    assert [(job.kind, job.payload) for job in store.jobs.values()] == [("linked", {"file_id": file_id})]
    assert uows.built[1].committed == 1, "the job was written in the event handler's commit"
