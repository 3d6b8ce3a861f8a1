"""POST /webhooks/workos on SQLite and PostgreSQL: the signature matrix, and organizations, users,
memberships and Directory Sync users into tenants and users, newest updated_at first; a deleted
user (or organization) can no longer authenticate."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from adapters.db.tenancy.tables import tenants, users
from tests.conftest import Service
from tests.integration.webhooks_helpers import WORKOS_SECRET, count, events, run_jobs
from tests.webhook_signing import workos_headers

ME = "{ me { tenantId userId role } }"


@pytest.fixture
def workos(make_service: Callable[..., Service]) -> Service:
    return make_service(workos_webhook_secret=WORKOS_SECRET)


_serial = iter(range(1_000_000))


def envelope(event: str, data: dict[str, Any], *, event_id: str | None = None) -> bytes:
    return json.dumps(
        {"id": event_id or f"event_{next(_serial)}", "event": event, "data": data, "created_at": "2026-12-01T10:00:00.000Z"}
    ).encode()


def deliver(service: Service, body: bytes, **kw: Any) -> Any:
    return service.client.post("/webhooks/workos", data=body, headers=workos_headers(WORKOS_SECRET, body, **kw))


def send(service: Service, event: str, data: dict[str, Any]) -> None:
    response = deliver(service, envelope(event, data))
    assert response.status_code == 200, response.get_json()
    run_jobs(service)


def org(org_id: str, name: str, at: str) -> dict[str, Any]:
    return {"id": org_id, "object": "organization", "name": name, "updated_at": at, "created_at": "2026-12-01T09:00:00Z"}


def membership(user_id: str, org_id: str, at: str, role: str = "member", status: str = "active") -> dict[str, Any]:
    return {"id": f"om_{user_id}", "object": "organization_membership", "user_id": user_id, "organization_id": org_id,
            "role": {"slug": role}, "status": status, "updated_at": at, "created_at": "2026-12-01T09:00:00Z"}


def user(user_id: str, email: str, at: str) -> dict[str, Any]:
    return {"id": user_id, "object": "user", "email": email, "first_name": "Ana", "last_name": "Pérez", "updated_at": at}


def tenant_row(service: Service, org_id: str) -> dict[str, Any]:
    with service.container.engine().connect() as connection:
        return dict(connection.execute(select(tenants).where(tenants.c.external_id == org_id)).mappings().one())


def user_rows(service: Service) -> list[dict[str, Any]]:
    with service.container.engine().connect() as connection:
        return [dict(r) for r in connection.execute(select(users).order_by(users.c.email)).mappings()]


def authenticates(service: Service, slug: str, subject: str) -> int:
    from adapters.auth.jwt import HmacJwtVerifier

    token = HmacJwtVerifier(service.container.settings().jwt_secret).issue(tenant=slug, subject=subject, role="member", ttl_seconds=600)
    response = service.client.post("/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {token}"})
    return response.status_code


# --- the signature --------------------------------------------------------------------------------


def test_the_signature_matrix(workos: Service) -> None:
    now_ms = int(time.time() * 1000)

    def signed(body: bytes, **kw: Any) -> dict[str, str]:
        return workos_headers(WORKOS_SECRET, body, **kw)

    def several(body: bytes) -> dict[str, str]:
        good = signed(body)["WorkOS-Signature"]
        t, v1 = good.split(", ")
        return {"WorkOS-Signature": f"{t}, v1={'0' * 64}, v1=zz, {v1}"}

    cases: list[tuple[str, Callable[[bytes], dict[str, str]], bytes | None, int]] = [
        ("valid", signed, None, 200),
        ("several signatures, one valid", several, None, 200),
        ("tampered body", signed, b'{"id":"evt_x","event":"user.created","data":{}}', 401),
        ("wrong secret", lambda body: workos_headers("not-the-secret", body), None, 401),
        ("too old", lambda body: signed(body, timestamp_ms=now_ms - 181_000), None, 401),
        ("too new", lambda body: signed(body, timestamp_ms=now_ms + 181_000), None, 401),
        ("missing header", lambda body: {}, None, 401),
        ("malformed header", lambda body: {"WorkOS-Signature": "sha256=" + "a" * 64}, None, 401),
        ("no timestamp", lambda body: {"WorkOS-Signature": signed(body)["WorkOS-Signature"].split(", ")[1]}, None, 401),
        ("timestamp in seconds, not ms", lambda body: signed(body, timestamp_ms=int(time.time())), None, 401),
    ]
    for index, (case, sign, sent, status) in enumerate(cases):
        body = envelope("session.created", {"id": f"session_{index}"}, event_id=f"event_m{index}")
        before = count(workos, "webhook_events")
        headers = {"Content-Type": "application/json", **sign(body)}
        response = workos.client.post("/webhooks/workos", data=sent if sent is not None else body, headers=headers)
        assert response.status_code == status, (case, response.get_json())
        assert count(workos, "webhook_events") == before + (1 if status == 200 else 0), case
    run_jobs(workos)
    assert {e["status"] for e in events(workos)} == {"PROCESSED"}  # session.* has nothing to do


def test_a_duplicate_delivery_creates_nothing(workos: Service) -> None:
    body = envelope("organization.created", org("org_1", "Acme", "2026-12-01T10:00:00Z"), event_id="event_dup")
    assert deliver(workos, body).get_json()["duplicate"] is False
    assert deliver(workos, body).get_json()["duplicate"] is True
    assert count(workos, "webhook_events") == 1


# --- organizations ----------------------------------------------------------------------------------


def test_organizations_become_tenants_and_the_newest_update_wins(workos: Service) -> None:
    send(workos, "organization.updated", org("org_1", "Acme Renamed", "2026-12-01T10:05:00Z"))  # arrives first
    send(workos, "organization.created", org("org_1", "Acme", "2026-12-01T10:00:00Z"))
    row = tenant_row(workos, "org_1")
    assert row["name"] == "Acme Renamed" and row["deleted_at"] is None
    assert count(workos, "tenants") == 1
    notes = sorted(e["last_error"] for e in events(workos))
    assert any("ignored" in note for note in notes)
    token_status = authenticates(workos, row["slug"], "someone")
    assert token_status == 200
    send(workos, "organization.deleted", org("org_1", "Acme Renamed", "2026-12-01T11:00:00Z"))
    assert tenant_row(workos, "org_1")["deleted_at"] is not None
    assert authenticates(workos, row["slug"], "someone") == 401
    send(workos, "organization.updated", org("org_1", "Acme Again", "2026-12-01T10:30:00Z"))  # late, older
    assert tenant_row(workos, "org_1")["deleted_at"] is not None


def test_two_organizations_with_the_same_name_get_distinct_slugs(workos: Service) -> None:
    send(workos, "organization.created", org("org_A1", "Ferretería Istmo", "2026-12-01T10:00:00Z"))
    send(workos, "organization.created", org("org_B2", "Ferretería Istmo", "2026-12-01T10:00:00Z"))
    slugs = {tenant_row(workos, "org_A1")["slug"], tenant_row(workos, "org_B2")["slug"]}
    assert len(slugs) == 2 and "ferreteria-istmo" in slugs


# --- users and memberships -----------------------------------------------------------------------------


def test_memberships_and_users_in_any_order_and_a_deleted_user_cannot_authenticate(workos: Service) -> None:
    send(workos, "organization.created", org("org_1", "Acme", "2026-12-01T10:00:00Z"))
    slug = tenant_row(workos, "org_1")["slug"]
    send(workos, "organization_membership.created", membership("user_1", "org_1", "2026-12-01T10:01:00Z", role="admin"))
    [row] = user_rows(workos)
    assert (row["external_id"], row["role"], row["active"]) == ("user_1", "admin", True)
    assert row["email"].endswith("@workos.invalid")  # the user record has not arrived yet
    send(workos, "user.created", user("user_1", "Ana@Acme.pa", "2026-12-01T10:00:30Z"))
    [row] = user_rows(workos)
    assert row["email"] == "ana@acme.pa"
    assert authenticates(workos, slug, "user_1") == 200
    send(workos, "organization_membership.updated", membership("user_1", "org_1", "2026-12-01T09:59:00Z", role="member"))
    assert user_rows(workos)[0]["role"] == "admin"  # older: ignored
    send(workos, "user.deleted", user("user_1", "ana@acme.pa", "2026-12-01T12:00:00Z"))
    assert user_rows(workos)[0]["active"] is False
    assert authenticates(workos, slug, "user_1") == 401
    send(workos, "organization_membership.updated", membership("user_1", "org_1", "2026-12-01T12:30:00Z"))
    assert user_rows(workos)[0]["active"] is False  # a deleted user stays out
    assert authenticates(workos, slug, "user_1") == 401


def test_a_deleted_membership_deactivates_the_user_in_that_tenant(workos: Service) -> None:
    send(workos, "organization.created", org("org_1", "Acme", "2026-12-01T10:00:00Z"))
    send(workos, "user.created", user("user_2", "luis@acme.pa", "2026-12-01T10:00:00Z"))
    send(workos, "organization_membership.created", membership("user_2", "org_1", "2026-12-01T10:01:00Z"))
    slug = tenant_row(workos, "org_1")["slug"]
    assert user_rows(workos)[0]["email"] == "luis@acme.pa" and authenticates(workos, slug, "user_2") == 200
    send(workos, "organization_membership.deleted", membership("user_2", "org_1", "2026-12-01T10:02:00Z"))
    assert authenticates(workos, slug, "user_2") == 401


def test_directory_sync_users_are_provisioned_and_deprovisioned_by_email(workos: Service) -> None:
    send(workos, "organization.created", org("org_1", "Acme", "2026-12-01T10:00:00Z"))
    slug = tenant_row(workos, "org_1")["slug"]
    dsync = {"id": "directory_user_1", "organization_id": "org_1", "state": "active", "updated_at": "2026-12-01T10:00:00Z",
             "emails": [{"primary": False, "value": "alt@acme.pa"}, {"primary": True, "value": "maria@acme.pa"}]}
    send(workos, "dsync.user.created", dsync)
    [row] = user_rows(workos)
    assert (row["email"], row["active"]) == ("maria@acme.pa", True)
    send(workos, "user.created", user("user_3", "maria@acme.pa", "2026-12-01T10:00:00Z"))
    send(workos, "organization_membership.created", membership("user_3", "org_1", "2026-12-01T10:01:00Z"))
    [row] = user_rows(workos)  # the membership adopted the provisioned row
    assert row["external_id"] == "user_3" and authenticates(workos, slug, "user_3") == 200
    send(workos, "dsync.user.updated", {**dsync, "state": "inactive", "updated_at": "2026-12-01T11:00:00Z"})
    assert user_rows(workos)[0]["active"] is False and authenticates(workos, slug, "user_3") == 401
    send(workos, "dsync.user.updated", {**dsync, "state": "active", "updated_at": "2026-12-01T10:30:00Z"})  # older
    assert user_rows(workos)[0]["active"] is False


# --- bad input ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (b"not json", "FAILED", "not JSON"),
        (b"", "FAILED", "not JSON"),
        (json.dumps({"id": "e1", "data": {}}).encode(), "FAILED", "event is missing"),
        (json.dumps({"id": "e2", "event": "organization_membership.created", "data": {"user_id": "u", "updated_at": "2026-12-01T10:00:00Z"}}).encode(), "FAILED", "organization_id is missing"),
        (json.dumps({"id": "e3", "event": "organization_membership.created", "data": membership("u", "org_nowhere", "2026-12-01T10:00:00Z")}).encode(), "UNMATCHED", "org_nowhere"),
        (json.dumps({"id": "e4", "event": "dsync.group.created", "data": {"id": "g"}}).encode(), "PROCESSED", "nothing to do"),
    ],
    ids=["not-json", "empty", "no-event", "missing-field", "unknown-organization", "unhandled-type"],
)
def test_signed_deliveries_are_kept_whatever_their_content(workos: Service, body: bytes, status: str, reason: str) -> None:
    assert deliver(workos, body).status_code == 200
    run_jobs(workos)
    [event] = events(workos)
    assert event["status"] == status and reason in (event["last_error"] or ""), event["last_error"]
    assert bytes(event["body"]) == body
