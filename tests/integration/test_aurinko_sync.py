"""Inbox sync against the local Aurinko server, through the real adapters, on SQLite and PostgreSQL:
paging to the delta token, ``ready: false`` retried by the job runner, 410 restarts, deletions,
idempotent storage (a second run writes nothing), 401 ``token.dead``, 429/5xx/malformed answers,
the periodic job, and the ``inboxMessages`` query with its client links."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from adapters.db.integrations.aurinko.tables import aurinko_connections, inbox_message_addresses, inbox_messages
from application.integrations.aurinko.commands import RunInboxSync
from application.integrations.aurinko.handlers import SyncNotReady, system_actor
from application.integrations.aurinko.ports import TokenRejected
from application.integrations.aurinko.views import SyncReport
from domain.jobs.model import JobStatus
from tests.fakes.clock import FakeClock
from tests.integration.api import data
from tests.integration.aurinko_api import GET_CONNECTION, INBOX, SYNC_INBOX, aurinko_settings, connect
from tests.providers.aurinko import FakeAurinko, record
from tests.providers.server import ProviderServer, Reply, provider_server  # noqa: F401  (fixture)

TOKEN = "tok-live-1"


class Inbox:
    def __init__(self, service: Any, fake: FakeAurinko, clock: FakeClock) -> None:
        self.service, self.fake, self.clock = service, fake, clock
        self.headers = service.headers("acme", role="admin")
        self.connection = connect(service, self.headers, fake, token=TOKEN)
        self.tenant_id = self._scalar(select(aurinko_connections.c.tenant_id))

    def _scalar(self, statement: Any) -> Any:
        with self.service.container.engine().connect() as connection:
            return connection.execute(statement).scalar_one()

    def run(self) -> SyncReport:
        """One sync run, straight through the bus (what the ``aurinko.sync`` job does)."""
        return self.service.container.bus().handle(
            RunInboxSync(actor=system_actor(self.tenant_id), connection_id=self.connection["id"])
        )

    def jobs(self) -> int:
        """Run the queued jobs (without the schedules: only what the test queued)."""
        return self.service.container.worker(schedules=()).run_once()

    def count(self, table: Any = inbox_messages) -> int:
        return int(self._scalar(select(func.count()).select_from(table)))

    def messages(self, **variables: Any) -> dict[str, Any]:
        return data(self.service, INBOX, variables, headers=self.headers)["inboxMessages"]

    def snapshot(self) -> list[tuple[Any, ...]]:
        with self.service.container.engine().connect() as connection:
            return [tuple(r) for r in connection.execute(select(inbox_messages).order_by(inbox_messages.c.id))]


@pytest.fixture
def fake(provider_server: ProviderServer) -> FakeAurinko:
    return FakeAurinko(provider_server, page_size=50)


@pytest.fixture
def inbox(make_service: Callable[..., Any], fake: FakeAurinko) -> Inbox:
    service = make_service(**aurinko_settings(fake))
    clock = FakeClock()
    service.container.clock.override(clock)
    return Inbox(service, fake, clock)


def test_the_first_sync_pages_to_the_delta_token_and_stores_every_message_once(
    inbox: Inbox, capfd: pytest.CaptureFixture[str]
) -> None:
    inbox.fake.add(*(record(n) for n in range(120)))

    report = inbox.run()

    assert (report.inserted, report.updated, report.pages) == (120, 0, 3 + 1)  # 3 updated pages, 1 deleted page
    assert inbox.count() == 120
    [start] = inbox.fake.server.received("POST", r"/v1/email/sync")
    assert start.query == {"daysWithin": "30"} and start.header("Authorization") == f"Bearer {TOKEN}"
    pages = inbox.fake.server.received("GET", r"/v1/email/sync/updated")
    assert [p.query for p in pages] == [{"deltaToken": "u:0"}, {"pageToken": "p:u:0:50"}, {"pageToken": "p:u:0:100"}]
    with inbox.service.container.engine().connect() as connection:
        row = connection.execute(select(aurinko_connections)).one()._mapping
    assert (row["sync_updated_token"], row["sync_deleted_token"]) == ("u:120", "d:0")
    assert row["last_sync_at"] == inbox.clock.now() and row["last_sync_error"] is None
    page = inbox.messages(first=5)
    assert [e["node"]["subject"] for e in page["edges"]] == [f"Factura pendiente {n}" for n in range(119, 114, -1)]
    assert page["edges"][0]["node"]["threadId"] == "thread-39"
    inbox.fake.dead_tokens.add(TOKEN)
    inbox.jobs()  # and a failing run, logged
    logged = capfd.readouterr()
    assert TOKEN not in logged.out + logged.err and "Bearer" not in logged.err


def test_a_second_run_writes_nothing_whether_by_delta_or_from_the_start(inbox: Inbox) -> None:
    inbox.fake.add(*(record(n) for n in range(60)))
    inbox.run()
    before = inbox.snapshot()

    by_delta = inbox.run()
    assert (by_delta.inserted, by_delta.updated, by_delta.unchanged) == (0, 0, 0)
    inbox.fake.expire_tokens.add("u:60")  # the delta token is too old: the sync starts over
    inbox.clock.advance(timedelta(minutes=1))
    restarted = inbox.run()

    assert restarted.restarted and (restarted.inserted, restarted.updated, restarted.unchanged) == (0, 0, 60)
    assert inbox.snapshot() == before, "not a row rewritten"


def test_new_changed_and_deleted_messages_arrive_with_the_next_delta(inbox: Inbox) -> None:
    inbox.fake.add(*(record(n) for n in range(10)))
    inbox.run()
    inbox.fake.add(record(3, subject="RE: Factura pendiente 3"), record(10))
    inbox.fake.delete("msg-4", "msg-unknown")

    report = inbox.run()

    assert (report.inserted, report.updated, report.deleted) == (1, 1, 1)
    assert inbox.count() == 11
    subjects = {e["node"]["subject"] for e in inbox.messages(first=50)["edges"]}
    assert "RE: Factura pendiente 3" in subjects and "Factura pendiente 4" not in subjects
    deleted = [e["node"] for e in inbox.messages(first=50, deleted=True)["edges"] if e["node"]["deletedAt"]]
    assert [d["subject"] for d in deleted] == ["Factura pendiente 4"]


def test_the_same_internet_message_id_under_a_new_provider_id_stays_one_message(inbox: Inbox) -> None:
    inbox.fake.add(record(1))
    inbox.run()
    moved = record(1)
    moved["id"] = "msg-1-moved"
    inbox.fake.add(moved, {**record(2), "internetMessageId": record(1)["internetMessageId"], "id": "dup-in-page"})

    inbox.run()

    assert inbox.count() == 1
    with inbox.service.container.engine().connect() as connection:
        assert connection.execute(select(inbox_messages.c.provider_id)).scalar_one() == "msg-1-moved"


def test_records_without_an_id_are_skipped_and_odd_fields_do_not_break_the_page(inbox: Inbox) -> None:
    inbox.fake.add(
        {"subject": "no id"},
        {"id": "x1", "from": "not an object", "to": "nobody", "receivedAt": "yesterday", "sysLabels": "inbox"},
        record(5),
    )

    report = inbox.run()

    assert (report.inserted, report.skipped_records) == (2, 1)


def test_ready_false_is_retried_by_the_job_runner_not_by_waiting(inbox: Inbox) -> None:
    inbox.fake.not_ready = 2
    inbox.fake.add(record(1))

    with pytest.raises(SyncNotReady):
        inbox.run()
    assert inbox.jobs() >= 1  # the sync queued by connecting runs, and is put back
    [job] = inbox.service.container.job_queue().find(kind="aurinko.sync")
    assert job.status is JobStatus.QUEUED and job.attempts == 1 and "not ready" in (job.last_error or "")
    assert job.run_at >= inbox.clock.now() + timedelta(seconds=15)
    assert inbox.count() == 0

    inbox.clock.advance(timedelta(hours=1))
    inbox.jobs()

    assert inbox.service.container.job_queue().get(job.id).status is JobStatus.SUCCEEDED
    assert inbox.count() == 1


def test_token_dead_marks_the_connection_for_reconnection_and_fails_the_job(inbox: Inbox) -> None:
    inbox.fake.dead_tokens.add(TOKEN)

    inbox.jobs()

    [job] = inbox.service.container.job_queue().find(kind="aurinko.sync")
    assert job.status is JobStatus.FAILED and "token.dead" in (job.last_error or "") and TOKEN not in job.last_error
    connection = data(inbox.service, GET_CONNECTION, headers=inbox.headers)["getAurinkoConnection"]["connection"]
    assert connection["status"] == "NEEDS_RECONNECT" and connection["reconnectReason"] == "token.dead"
    refused = data(inbox.service, SYNC_INBOX, headers=inbox.headers)["syncInbox"]
    assert refused["error"]["code"] == "AURINKO_NEEDS_RECONNECT"
    assert inbox.run().skipped, "a connection that needs reconnecting is not synced"


@pytest.mark.parametrize("code", ["token.refresh.failed", "unauthorized"])
def test_every_401_code_needs_reconnection(inbox: Inbox, code: str) -> None:
    inbox.fake.server.route("POST", r"/v1/email/sync", Reply.json({"code": code}, status=401))

    with pytest.raises(TokenRejected):
        inbox.run()

    connection = data(inbox.service, GET_CONNECTION, headers=inbox.headers)["getAurinkoConnection"]["connection"]
    assert connection["status"] == "NEEDS_RECONNECT" and connection["reconnectReason"] == code


@pytest.mark.parametrize(
    ("reply", "floor"),
    [
        (Reply.json({"code": "rate"}, status=429, headers={"Retry-After": "120"}), timedelta(seconds=120)),
        (Reply.json({"code": "internal"}, status=500), timedelta(0)),
        (Reply.json({}, status=408), timedelta(0)),
        (Reply(status=200, body=b"<html>oops</html>", headers={"Content-Type": "text/html"}), timedelta(0)),
        (Reply.json({"records": "nope"}), timedelta(0)),
    ],
)
def test_transient_failures_are_retried_later_and_recorded_on_the_connection(
    inbox: Inbox, reply: Reply, floor: timedelta
) -> None:
    inbox.fake.add(record(1))
    inbox.fake.server.route("GET", r"/v1/email/sync/updated", reply)

    inbox.jobs()

    [job] = inbox.service.container.job_queue().find(kind="aurinko.sync")
    assert job.status is JobStatus.QUEUED and job.attempts == 1
    assert job.run_at >= inbox.clock.now() + floor
    connection = data(inbox.service, GET_CONNECTION, headers=inbox.headers)["getAurinkoConnection"]["connection"]
    assert connection["status"] == "ACTIVE" and connection["lastSyncError"]
    assert TOKEN not in connection["lastSyncError"]
    assert inbox.count() == 0


def test_a_refused_request_fails_the_job_at_once(inbox: Inbox) -> None:
    inbox.fake.server.route("POST", r"/v1/email/sync", Reply.json({"code": "forbidden"}, status=403))

    inbox.jobs()

    [job] = inbox.service.container.job_queue().find(kind="aurinko.sync")
    assert job.status is JobStatus.FAILED and "403" in (job.last_error or "")


def test_the_schedule_syncs_every_connected_mailbox(make_service: Callable[..., Any], fake: FakeAurinko) -> None:
    service = make_service(**aurinko_settings(fake))
    connect(service, service.headers("acme", role="admin"), fake, code="a", account_id="1", token="tok-a")
    connect(service, service.headers("globex", role="admin"), fake, code="g", account_id="2", token="tok-g")
    fake.add(record(1))
    worker = service.container.worker()

    worker.run_once()

    queue = service.container.job_queue()
    [sync_all] = queue.find(kind="aurinko.sync_all")
    assert sync_all.status is JobStatus.SUCCEEDED
    syncs = queue.find(kind="aurinko.sync")
    assert len(syncs) == 4 and all(j.status is JobStatus.SUCCEEDED for j in syncs)  # 2 on connecting, 2 scheduled
    assert {j.idempotency_key.split(":")[2] for j in syncs} == {"connect", "every"}
    with service.container.engine().connect() as connection:
        per_tenant = connection.execute(
            select(inbox_messages.c.tenant_id, func.count()).group_by(inbox_messages.c.tenant_id)
        ).all()
    assert sorted(n for _, n in per_tenant) == [1, 1]


def test_sync_inbox_queues_a_sync_now(inbox: Inbox) -> None:
    inbox.fake.add(record(7))

    result = data(inbox.service, SYNC_INBOX, headers=inbox.service.headers("acme", role="member"))["syncInbox"]

    assert result["error"] is None and result["jobId"]
    assert inbox.service.container.job_queue().get(result["jobId"]).payload == {"connection_id": inbox.connection["id"]}
    inbox.jobs()
    assert inbox.count() == 1


def test_inbox_messages_link_clients_by_email_and_filter_search_and_page(inbox: Inbox) -> None:
    from tests.integration.test_api_invoicing import create_client

    inbox.fake.add(
        record(1, sender="Pagos@Acme.com.pa"),
        record(2, sender="otro@globex.pa", to=("ventas@pyme.pa", "pagos@acme.com.pa")),
        record(3, sender="spam@example.com", subject="Oferta"),
        record(4, sender="otro@globex.pa", thread="t-x"),
    )
    inbox.run()
    acme = create_client(
        inbox.service, inbox.headers, name="Acme S.A.",
        contacts=[{"name": "Pagos", "email": "pagos@acme.com.pa"}],
    )

    linked = inbox.messages(clientId=acme["id"])
    assert [e["node"]["subject"] for e in linked["edges"]] == ["Factura pendiente 2", "Factura pendiente 1"]
    assert all(e["node"]["clients"] == [{"id": acme["id"], "name": "Acme S.A."}] for e in linked["edges"])
    assert [e["node"]["subject"] for e in inbox.messages(search="ofer")["edges"]] == ["Oferta"]
    assert [e["node"]["subject"] for e in inbox.messages(threadId="t-x")["edges"]] == ["Factura pendiente 4"]
    first = inbox.messages(first=3)
    assert first["pageInfo"]["hasNextPage"] is True
    rest = inbox.messages(first=3, after=first["pageInfo"]["endCursor"])
    assert [e["node"]["subject"] for e in rest["edges"]] == ["Factura pendiente 1"]
    assert rest["pageInfo"]["hasNextPage"] is False
    assert inbox.count(inbox_message_addresses) == 4 + 4 + 1  # every address once per message
    bad = inbox.messages(after="garbage")
    assert bad["error"]["code"] == "INVALID_INPUT" and bad["error"]["field"] == "after"
    other = data(inbox.service, INBOX, {}, headers=inbox.service.headers("globex"))["inboxMessages"]
    assert other["edges"] == [], "another tenant sees none of it"


def test_a_run_holding_the_lease_keeps_others_out_and_renews_it_as_it_pages(inbox: Inbox) -> None:
    from sqlalchemy import update

    from application.integrations.aurinko.handlers import SyncBusy

    engine = inbox.service.container.engine()
    with engine.begin() as connection:
        connection.execute(update(aurinko_connections).values(sync_lease_until=inbox.clock.now() + timedelta(minutes=1)))
    with pytest.raises(SyncBusy):
        inbox.run()
    with engine.begin() as connection:
        connection.execute(update(aurinko_connections).values(sync_lease_until=inbox.clock.now() - timedelta(seconds=1)))

    inbox.fake.add(*(record(n) for n in range(150)))
    leases: list[Any] = []
    serve = inbox.fake._page

    def slow_page(request: Any, kind: str) -> Reply:
        with engine.connect() as connection:
            leases.append(connection.execute(select(aurinko_connections.c.sync_lease_until)).scalar_one())
        inbox.clock.advance(timedelta(minutes=4))  # each page takes 4 minutes of a 10-minute lease
        return serve(request, kind)

    inbox.fake.server.route("GET", r"/v1/email/sync/updated", lambda r: slow_page(r, "u"))
    report = inbox.run()

    assert report.inserted == 150
    assert all(lease is not None for lease in leases) and leases == sorted(leases) and leases[-1] > leases[0]
    with engine.connect() as connection:
        assert connection.execute(select(aurinko_connections.c.sync_lease_until)).scalar_one() is None


def test_inbox_messages_also_link_a_clients_email_defaults(inbox: Inbox) -> None:
    """A client's email defaults (createClientEmail) count as its addresses, as its contacts do."""
    from tests.integration.test_api_emails import CREATE_CLIENT_EMAIL
    from tests.integration.test_api_invoicing import create_client

    inbox.fake.add(record(1, sender="compras@cumbres.com.pa"), record(2, sender="otro@globex.pa"))
    inbox.run()
    cumbres = create_client(inbox.service, inbox.headers, name="Cumbres S.A.")
    assert inbox.messages(clientId=cumbres["id"])["edges"] == []

    data(
        inbox.service, CREATE_CLIENT_EMAIL, {"clientId": cumbres["id"], "email": "Compras@Cumbres.com.pa"},
        headers=inbox.headers,
    )

    linked = inbox.messages(clientId=cumbres["id"])["edges"]
    assert [e["node"]["subject"] for e in linked] == ["Factura pendiente 1"]
    assert linked[0]["node"]["clients"] == [{"id": cumbres["id"], "name": "Cumbres S.A."}]
