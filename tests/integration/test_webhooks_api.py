"""The inbox through GraphQL (owners/admins) and the CLI, and a processor failure retried until
DEAD then replayed, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner
from dependency_injector import providers

from application.jobs.errors import TransientJobError
from application.webhooks.commands import ReceiveWebhook
from application.webhooks.ports import WebhookOutcome
from application.webhooks.views import WebhookEventView
from tests.conftest import Service
from tests.integration.api import data, gql
from tests.integration.webhooks_helpers import POLAR_SECRET, events, make_jobs_due, process_jobs, run_jobs
from tests.webhook_signing import polar_headers

EVENTS = """
query($provider: String, $status: String, $from: DateTime, $to: DateTime, $cursor: String, $first: Int) {
  webhookEvents(provider: $provider, status: $status, from: $from, to: $to, cursor: $cursor, first: $first) {
    edges { cursor node { id provider providerEventId eventType status attempts lastError replays receivedAt processedAt headers body bodySize } }
    pageInfo { endCursor hasNextPage }
    error { code message field }
  }
}
"""

REPLAY = """
mutation($id: ID!) { replayWebhookEvent(id: $id) { event { id status replays attempts lastError } error { code message field } } }
"""


def receive(service: Service, event_id: str, *, tenant_id: str | None, provider: str = "flaky", body: bytes = b"{}") -> str:
    return service.container.bus().handle(
        ReceiveWebhook(actor=None, provider=provider, provider_event_id=event_id, tenant_id=tenant_id, body=body,
                       headers={"Content-Type": "application/json"}, event_type="test.event")
    ).event_id


class Flaky:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def __call__(self, event: WebhookEventView) -> WebhookOutcome:
        self.calls += 1
        if self.calls <= self.failures:
            raise TransientJobError(f"provider unavailable (call {self.calls})")
        return WebhookOutcome.processed("done")


@pytest.fixture
def flaky_service(make_service: Callable[..., Service]) -> tuple[Service, Flaky]:
    service = make_service(job_max_attempts=3, polar_webhook_secret=POLAR_SECRET)
    flaky = Flaky(failures=3)
    service.container.webhooks.webhook_processors.override(providers.Object({"flaky": flaky}))
    service.container.service.reset()  # assembled again, with the processors overridden
    return service, flaky


def test_a_failing_processor_is_retried_then_dead_then_replayed_through_graphql(flaky_service: tuple[Service, Flaky]) -> None:
    service, flaky = flaky_service
    tenant_id = service.tenant("acme")
    event_id = receive(service, "evt-1", tenant_id=tenant_id)
    for _ in range(3):
        run_jobs(service)
        make_jobs_due(service)
    [event] = events(service)
    assert (event["status"], event["attempts"], event["last_error"]) == ("DEAD", 3, "provider unavailable (call 3)")
    [job] = process_jobs(service)
    assert job["status"] == "DEAD"

    headers = service.headers("acme", role="admin")
    replay = data(service, REPLAY, {"id": event_id}, headers=headers)["replayWebhookEvent"]
    assert replay["error"] is None and replay["event"] == {
        "id": event_id, "status": "RECEIVED", "replays": 1, "attempts": 0, "lastError": None,
    }
    run_jobs(service)
    [event] = events(service)
    assert (event["status"], event["attempts"], event["last_error"]) == ("PROCESSED", 1, "done")
    assert flaky.calls == 4


def test_owners_list_their_events_with_filters_and_a_cursor(flaky_service: tuple[Service, Flaky]) -> None:
    service, _ = flaky_service
    acme, globex = service.tenant("acme"), service.tenant("globex")
    mine = [receive(service, f"a-{i}", tenant_id=acme, body=json.dumps({"n": i}).encode()) for i in range(3)]
    receive(service, "g-1", tenant_id=globex)
    receive(service, "p-1", tenant_id=acme, provider="other")
    headers = service.headers("acme")
    page = data(service, EVENTS, {"provider": "flaky", "first": 2}, headers=headers)["webhookEvents"]
    assert page["error"] is None and page["pageInfo"]["hasNextPage"] is True
    rest = data(service, EVENTS, {"provider": "flaky", "cursor": page["pageInfo"]["endCursor"]}, headers=headers)["webhookEvents"]
    seen = [edge["node"]["id"] for edge in page["edges"] + rest["edges"]]
    assert sorted(seen) == sorted(mine) and len(seen) == 3 and rest["pageInfo"]["hasNextPage"] is False
    node = page["edges"][0]["node"]
    assert node["provider"] == "flaky" and node["status"] == "RECEIVED" and node["eventType"] == "test.event"
    assert json.loads(node["headers"]) == {"content-type": "application/json"} and node["bodySize"] == len(node["body"])
    other = data(service, EVENTS, {"provider": "other", "status": "RECEIVED"}, headers=headers)["webhookEvents"]
    assert len(other["edges"]) == 1
    none = data(service, EVENTS, {"status": "DEAD"}, headers=headers)["webhookEvents"]
    assert none["edges"] == []
    later = data(service, EVENTS, {"from": "2999-01-01T00:00:00Z"}, headers=headers)["webhookEvents"]
    assert later["edges"] == []


@pytest.mark.parametrize(
    ("variables", "code", "field"),
    [({"status": "LOST"}, "INVALID_INPUT", "status"), ({"cursor": "bogus"}, "INVALID_INPUT", "cursor"),
     ({"first": 1000}, "INVALID_INPUT", "first"),
     ({"from": "2026-12-02T00:00:00Z", "to": "2026-12-01T00:00:00Z"}, "INVALID_INPUT", "to")],
)
def test_bad_list_arguments_are_business_errors_naming_the_field(
    service: Service, variables: dict[str, Any], code: str, field: str
) -> None:
    result = data(service, EVENTS, variables, headers=service.headers("acme"))["webhookEvents"]
    assert result["edges"] == [] and (result["error"]["code"], result["error"]["field"]) == (code, field)


def test_members_and_other_tenants_cannot_see_or_replay(flaky_service: tuple[Service, Flaky]) -> None:
    service, _ = flaky_service
    acme = service.tenant("acme")
    event_id = receive(service, "a-1", tenant_id=acme)
    run_jobs(service)
    member = data(service, EVENTS, headers=service.headers("acme", role="member"))["webhookEvents"]
    assert member["error"]["code"] == "PERMISSION_DENIED"
    replay = data(service, REPLAY, {"id": event_id}, headers=service.headers("acme", role="member"))["replayWebhookEvent"]
    assert replay["error"]["code"] == "PERMISSION_DENIED"
    other = data(service, REPLAY, {"id": event_id}, headers=service.headers("globex"))["replayWebhookEvent"]
    assert other["error"]["code"] == "WEBHOOK_EVENT_NOT_FOUND" and other["event"] is None
    assert gql(service, EVENTS, expect_status=401) is not None  # no token, no events


def test_a_received_event_cannot_be_replayed_until_it_is_finished(service: Service) -> None:
    acme = service.tenant("acme")
    event_id = receive(service, "a-1", tenant_id=acme)
    replay = data(service, REPLAY, {"id": event_id}, headers=service.headers("acme"))["replayWebhookEvent"]
    assert replay["error"]["code"] == "WEBHOOK_EVENT_BUSY"
    assert len(process_jobs(service)) == 1


# --- the CLI -------------------------------------------------------------------------------------


def test_istmo_webhooks_list_and_replay(flaky_service: tuple[Service, Flaky], monkeypatch: pytest.MonkeyPatch) -> None:
    service, _ = flaky_service
    settings = service.container.settings()
    monkeypatch.setenv("ISTMO_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("ISTMO_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("ISTMO_LOG_LEVEL", "WARNING")
    from entrypoints.cli import main

    body = b'{"type":"order.created","timestamp":"2026-12-01T10:00:00Z","data":{}}'
    service.client.post("/webhooks/polar", data=body, headers=polar_headers(POLAR_SECRET, body, msg_id="cli-1"))
    runner = CliRunner()
    listed = runner.invoke(main, ["webhooks", "list", "--provider", "polar"], catch_exceptions=False)
    assert listed.exit_code == 0, listed.output
    [row] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert (row["provider"], row["providerEventId"], row["status"]) == ("polar", "cli-1", "RECEIVED")
    assert "body" not in row and "headers" not in row
    busy = runner.invoke(main, ["webhooks", "replay", row["id"]])
    assert busy.exit_code != 0 and "WEBHOOK_EVENT_BUSY" in busy.output
    service.container.webhooks.webhook_processors.reset_override()
    run_jobs(service)
    replay = runner.invoke(main, ["webhooks", "replay", row["id"]], catch_exceptions=False)
    assert replay.exit_code == 0, replay.output
    again = [json.loads(line) for line in runner.invoke(main, ["webhooks", "list", "--status", "received"]).stdout.splitlines()]
    assert [(r["id"], r["replays"]) for r in again] == [(row["id"], 1)]
    missing = runner.invoke(main, ["webhooks", "replay", "00000000-0000-0000-0000-000000000000"])
    assert missing.exit_code != 0 and "WEBHOOK_EVENT_NOT_FOUND" in missing.output
    bad = runner.invoke(main, ["webhooks", "list", "--status", "LOST"])
    assert bad.exit_code != 0 and "status" in bad.output


def test_istmo_webhooks_pages_through_any_number_and_replays_an_outage_in_one_command(
    flaky_service: tuple[Service, Flaky], monkeypatch: pytest.MonkeyPatch
) -> None:
    import entrypoints.cli as cli

    service, flaky = flaky_service
    settings = service.container.settings()
    monkeypatch.setenv("ISTMO_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("ISTMO_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("ISTMO_LOG_LEVEL", "WARNING")
    monkeypatch.setattr(cli, "_PAGE", 3)  # pages of 3: seven events take three
    ids = [receive(service, f"evt-{n}", tenant_id=None) for n in range(7)]
    runner = CliRunner()

    def listed(*args: str) -> tuple[list[str], str]:
        result = runner.invoke(cli.main, ["webhooks", "list", *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return [json.loads(line)["providerEventId"] for line in result.stdout.splitlines()], result.stderr

    newest_first = [f"evt-{n}" for n in reversed(range(7))]
    everything, note = listed("--limit", "5000")  # past the old cap of 1,000
    assert everything == newest_first and note == ""
    first, note = listed("--limit", "4")
    assert first == newest_first[:4] and note.startswith("more may follow: --after ")
    rest, _ = listed("--after", note.split("--after ")[1].strip())
    assert rest == newest_first[4:]

    flaky.failures = 10**6
    for _ in range(3):  # the processor fails until the events are DEAD: an outage's events
        run_jobs(service)
        make_jobs_due(service)
    assert {row["status"] for row in events(service)} == {"DEAD"}
    flaky.failures = 0
    refused = runner.invoke(cli.main, ["webhooks", "replay"])
    assert refused.exit_code != 0 and "EVENT_ID" in refused.output
    replayed = runner.invoke(cli.main, ["webhooks", "replay", "--status", "DEAD"], catch_exceptions=False)
    assert replayed.exit_code == 0 and replayed.stderr.strip().splitlines()[-1] == "replayed 7/7", replayed.output
    run_jobs(service)
    assert sorted(row["id"] for row in events(service) if row["status"] == "PROCESSED") == sorted(ids)
