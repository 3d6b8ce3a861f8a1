"""The access token of a company: used while fresh, refreshed under the row lock only when still
expired (or still the one the API refused), the rotated pair stored before use, ``invalid_grant``
-> NEEDS_RECONNECT with nothing retried, Intuit away -> nothing changed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.secrets.fernet import FernetSecretBox
from application.integrations.quickbooks.ports import QboUnavailable
from application.integrations.quickbooks.tokens import AccessTokens, seal_grant
from domain.integrations.quickbooks.connection import (
    ConnectionStatus,
    QuickbooksConnection,
    QuickbooksNeedsReconnect,
    QuickbooksNotConnected,
)
from tests.conftest import TEST_SECRET_KEY
from tests.fakes.clock import FakeClock
from tests.fakes.quickbooks import FakeConnectionsStore, FakeConnectionsUnitOfWork, FakeIntuitOAuth

TENANT = "0b8f3e1c-59b2-4f7e-9f1e-5d2c7a3e9b10"


@pytest.fixture
def world() -> tuple[AccessTokens, FakeConnectionsStore, FakeIntuitOAuth, FakeClock]:
    box, clock, oauth, store = FernetSecretBox([TEST_SECRET_KEY]), FakeClock(), FakeIntuitOAuth(), FakeConnectionsStore()
    connection_id = "c1"
    tokens = seal_grant(box, connection_id, TENANT, oauth.issue(), clock.now())
    store.connections[TENANT] = QuickbooksConnection.connect(
        id=connection_id, tenant_id=TENANT, realm_id="123", company_name=None, tokens=tokens, user_id="u", now=clock.now()
    )
    return AccessTokens(oauth, box, clock), store, oauth, clock


def test_a_fresh_token_is_used_without_a_lock_or_a_refresh(world: tuple) -> None:  # type: ignore[type-arg]
    tokens, store, oauth, _ = world
    uow = FakeConnectionsUnitOfWork(store, TENANT)

    assert tokens.current(uow)[:2] == ("123", "at-1")
    assert oauth.refreshes == [] and uow.locks == 0 and store.commits == 0


def test_a_token_within_two_minutes_of_expiry_is_refreshed_and_the_new_pair_stored(world: tuple) -> None:  # type: ignore[type-arg]
    tokens, store, oauth, clock = world
    clock.advance(timedelta(hours=1) - timedelta(minutes=2))
    uow = FakeConnectionsUnitOfWork(store, TENANT)

    realm, token, _, _ = tokens.current(uow)

    assert (realm, token) == ("123", "at-2") and oauth.refreshes == ["rt-1"] and uow.locks == 1
    stored = store.connections[TENANT]
    box = FernetSecretBox([TEST_SECRET_KEY])
    assert box.open(stored.refresh_sealed or "", context=stored.context("refresh")) == "rt-2", "the rotated one"
    assert stored.access_expires_at == clock.now() + timedelta(hours=1)
    assert tokens.current(FakeConnectionsUnitOfWork(store, TENANT))[1] == "at-2" and oauth.refreshes == ["rt-1"]


def test_a_token_the_api_refused_is_refreshed_even_if_not_expired_but_only_once(world: tuple) -> None:  # type: ignore[type-arg]
    tokens, store, oauth, _ = world
    uow = FakeConnectionsUnitOfWork(store, TENANT)

    assert tokens.refreshed(uow, rejected="at-1") == ("123", "at-2")
    assert tokens.refreshed(uow, rejected="at-1") == ("123", "at-2"), "another job refreshed it meanwhile"
    assert oauth.refreshes == ["rt-1"]


def test_invalid_grant_marks_the_connection_and_says_connect_again(world: tuple) -> None:  # type: ignore[type-arg]
    tokens, store, oauth, clock = world
    oauth.live.clear()
    clock.advance(timedelta(hours=2))

    with pytest.raises(QuickbooksNeedsReconnect):
        tokens.current(FakeConnectionsUnitOfWork(store, TENANT))
    with pytest.raises(QuickbooksNeedsReconnect):
        tokens.current(FakeConnectionsUnitOfWork(store, TENANT))

    stored = store.connections[TENANT]
    assert stored.status == ConnectionStatus.NEEDS_RECONNECT and "invalid_grant" in (stored.reconnect_reason or "")
    assert stored.access_sealed is None and len(oauth.refreshes) == 1, "nothing retried into the wall"


def test_intuit_away_changes_nothing(world: tuple) -> None:  # type: ignore[type-arg]
    tokens, store, oauth, clock = world
    oauth.failure = QboUnavailable("Intuit answered 503 to refresh the token")
    clock.advance(timedelta(hours=2))
    before = store.connections[TENANT].refresh_sealed

    with pytest.raises(QboUnavailable):
        tokens.current(FakeConnectionsUnitOfWork(store, TENANT))

    assert store.connections[TENANT].refresh_sealed == before and store.commits == 0
    assert store.connections[TENANT].status == ConnectionStatus.CONNECTED


def test_no_connection_or_a_disconnected_one_is_not_connected(world: tuple) -> None:  # type: ignore[type-arg]
    tokens, store, _, clock = world
    store.connections[TENANT].disconnect(now=clock.now())

    with pytest.raises(QuickbooksNotConnected):
        tokens.current(FakeConnectionsUnitOfWork(store, TENANT))
    with pytest.raises(QuickbooksNotConnected):
        tokens.current(FakeConnectionsUnitOfWork(FakeConnectionsStore(), TENANT))
