"""The Aurinko handlers through the bus with in-memory fakes: who may connect, single-use states
consumed before any exchange, the token sealed per connection, and the sync's control flow
(ready:false, paging, 410 restarts, bad pages, dead tokens, storing once)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.secrets.fernet import FernetSecretBox
from application.modules import build_message_bus
from application.files.commands import FilePolicy
from application.integrations.aurinko import commands as c
from application.integrations.aurinko.handlers import SYNC_JOB, SyncNotReady, system_actor
from application.integrations.aurinko.oauth_state import OAuthStateCodec
from application.integrations.aurinko.ports import (
    OAuthGrant,
    ProviderUnavailable,
    SyncPage,
    SyncStart,
    SyncTokenExpired,
    TokenRejected,
)
from domain.integrations.aurinko.connection import ConnectionStatus, InvalidOAuthState
from domain.integrations.aurinko.inbox import InboundMessage, MailAddress
from domain.shared.errors import PermissionDenied
from domain.tenancy.model import Actor, Role
from tests.fakes.aurinko import FakeAurinkoStore, FakeAurinkoUnitOfWork, FakeInboxProvider, FakeOAuthProvider
from tests.fakes.clock import FakeClock

KEY = "YJ4oQ9bX2tN7vR1cW5zL8kP3mF6hS0dG4aE7uB2nT9s="
ADMIN = Actor(tenant_id="t1", user_id="u1", role=Role.ADMIN)


class World:
    def __init__(self) -> None:
        self.store = FakeAurinkoStore()
        self.clock = FakeClock(datetime(2026, 11, 24, 12, 0, tzinfo=UTC))
        self.oauth = FakeOAuthProvider()
        self.inbox = FakeInboxProvider()
        self.box = FernetSecretBox([KEY])
        self.bus = build_message_bus(
            uow_factory=lambda tenant_id: FakeAurinkoUnitOfWork(self.store, tenant_id),  # type: ignore[arg-type,return-value]
            storage=None,  # type: ignore[arg-type]
            mime=None,  # type: ignore[arg-type]
            clock=self.clock,
            file_policy=FilePolicy(max_upload_bytes=1, tmp_file_ttl=timedelta(hours=1), gc_grace=timedelta(0),
                                   max_url_ttl=1),
            secrets=self.box,
            aurinko_oauth=self.oauth,
            inbox_provider=self.inbox,
            oauth_states=OAuthStateCodec(b"s" * 32),
            aurinko_policy=c.AurinkoPolicy(configured=True, return_url="https://app/cb"),
        )

    def state(self, actor: Actor = ADMIN) -> str:
        url = self.bus.handle(c.GetAurinkoAuthorizationUrl(actor=actor, service_type="Google")).url
        return url.split("state=")[1]

    def connect(self, token: str = "tok-1", account: str = "8001") -> Any:
        self.oauth.grants["code"] = OAuthGrant(account_id=account, access_token=token)
        return self.bus.handle(c.ConnectAurinko(actor=ADMIN, code="code", state=self.state()))

    def sync(self) -> Any:
        connection = self.store.connections["t1"]
        return self.bus.handle(c.RunInboxSync(actor=system_actor("t1"), connection_id=connection.id))


def message(n: int, **kw: Any) -> InboundMessage:
    fields: dict[str, Any] = dict(
        provider_id=f"m{n}", thread_id="t", internet_message_id=f"<{n}@x>", subject=f"s{n}",
        sender=MailAddress(address="a@x.pa"), to=(), cc=(), bcc=(), received_at=None, sent_at=None,
        snippet=None, body=None, has_attachments=False, labels=(), in_reply_to=None,
    )
    fields.update(kw)
    return InboundMessage(**fields)


def page(records: tuple[Any, ...], *, next_page: str | None = None, delta: str | None = None) -> SyncPage[Any]:
    return SyncPage(records=records, next_page_token=next_page, next_delta_token=delta)


@pytest.fixture
def world() -> World:
    return World()


def test_only_owners_and_admins_connect(world: World) -> None:
    member = Actor(tenant_id="t1", user_id="u2", role=Role.MEMBER)
    with pytest.raises(PermissionDenied):
        world.bus.handle(c.GetAurinkoAuthorizationUrl(actor=member, service_type="Google"))
    with pytest.raises(PermissionDenied):
        world.bus.handle(c.ConnectAurinko(actor=member, code="x", state=world.state()))
    assert world.oauth.calls == []


def test_connecting_seals_the_token_for_this_connection_and_queues_the_first_sync(world: World) -> None:
    view = world.connect(token="tok-secret")

    stored = world.store.connections["t1"]
    assert view.status is ConnectionStatus.ACTIVE and stored.token_sealed and "tok-secret" not in stored.token_sealed
    assert world.box.open(stored.token_sealed, context=f"aurinko:t1:{stored.id}") == "tok-secret"
    assert [(j["kind"], j["payload"]) for j in world.store.jobs] == [(SYNC_JOB, {"connection_id": stored.id})]
    assert "tok-secret" not in repr(view)


def test_a_state_is_consumed_before_the_exchange_even_when_the_exchange_fails(world: World) -> None:
    state = world.state()
    world.oauth.failure = ProviderUnavailable("down")
    with pytest.raises(Exception):
        world.bus.handle(c.ConnectAurinko(actor=ADMIN, code="code", state=state))
    world.oauth.failure = None
    world.oauth.grants["code"] = OAuthGrant(account_id="1", access_token="t")

    with pytest.raises(InvalidOAuthState):
        world.bus.handle(c.ConnectAurinko(actor=ADMIN, code="code", state=state))
    assert world.oauth.calls == [("exchange", "code")], "the replay never reached Aurinko"
    assert world.store.connections == {}


def test_a_sync_pages_to_the_delta_token_then_the_deletions(world: World) -> None:
    world.connect()
    world.inbox.starts = [SyncStart(ready=True, updated_token="U0", deleted_token="D0")]
    world.inbox.updated_pages = [page((message(1), message(2)), next_page="P1"), page((message(3),), delta="U1")]
    world.inbox.deleted_pages = [page(("m2",), delta="D1")]

    report = world.sync()

    assert (report.inserted, report.deleted, report.pages) == (3, 1, 3)
    assert world.inbox.calls == [("start", None, None), ("updated", "U0", None), ("updated", None, "P1"),
                                 ("deleted", "D0", None)]
    connection = world.store.connections["t1"]
    assert (connection.sync_updated_token, connection.sync_deleted_token) == ("U1", "D1")
    assert connection.sync_lease_until is None and connection.last_sync_at == world.clock.now()


def test_ready_false_raises_for_the_runner_and_keeps_nothing(world: World) -> None:
    world.connect()
    world.inbox.starts = [SyncStart(ready=False, updated_token=None, deleted_token=None)]

    with pytest.raises(SyncNotReady) as error:
        world.sync()

    assert error.value.retry_after == timedelta(seconds=15)
    assert world.store.connections["t1"].sync_lease_until is None, "the lease is given back"


def test_an_expired_delta_token_restarts_once_and_twice_is_transient(world: World) -> None:
    world.connect()
    world.inbox.starts = [SyncStart(ready=True, updated_token="U0", deleted_token="D0")] * 2
    world.inbox.updated_pages = [SyncTokenExpired("410"), page((message(1),), delta="U1")]
    world.inbox.deleted_pages = [page((), delta="D1")]
    assert world.sync().restarted

    world.store.connections["t1"].sync_updated_token = None
    world.inbox.starts = [SyncStart(ready=True, updated_token="U0", deleted_token="D0")] * 2
    world.inbox.updated_pages = [SyncTokenExpired("410"), SyncTokenExpired("410")]
    with pytest.raises(ProviderUnavailable, match="expired twice"):
        world.sync()


def test_a_page_with_neither_token_is_a_provider_failure(world: World) -> None:
    world.connect()
    world.inbox.starts = [SyncStart(ready=True, updated_token="U0", deleted_token="D0")]
    world.inbox.updated_pages = [page((message(1),))]

    with pytest.raises(ProviderUnavailable, match="neither"):
        world.sync()
    assert world.store.connections["t1"].last_sync_error


def test_a_dead_token_marks_the_connection_and_later_runs_skip_it(world: World) -> None:
    world.connect()
    world.inbox.starts = [TokenRejected("401", code="token.dead")]

    with pytest.raises(TokenRejected):
        world.sync()

    connection = world.store.connections["t1"]
    assert connection.status is ConnectionStatus.NEEDS_RECONNECT and connection.reconnect_reason == "token.dead"
    assert world.sync().skipped


def test_the_same_message_twice_is_written_once_and_unchanged_after(world: World) -> None:
    world.connect()
    world.inbox.starts = [SyncStart(ready=True, updated_token="U0", deleted_token="D0")]
    world.inbox.updated_pages = [page((message(1), message(1)), delta="U1")]
    world.inbox.deleted_pages = [page((), delta="D1")]
    assert world.sync().inserted == 1

    world.inbox.updated_pages = [page((message(1), message(9, internet_message_id="<1@x>")), delta="U2")]
    world.inbox.deleted_pages = [page((), delta="D2")]
    report = world.sync()

    assert (report.inserted, report.updated, report.unchanged) == (0, 0, 2)
    [row] = world.store.messages.values()
    assert row["writes"] == 1
