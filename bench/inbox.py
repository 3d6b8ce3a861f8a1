"""Inbox sync target (issue 4, section 6): 10,000 messages from the local Aurinko server in <= 15 s,
and a second run writes nothing.

The local Aurinko (``tests/providers/aurinko.py`` on ``tests/providers/server.py``: real HTTP on
loopback, Aurinko's wire format) holds 10,000 messages, served 100 per page. A tenant connects
through the API (``getAurinkoAuthorizationUrl`` + ``connectAurinko``), then one sync run goes
through the bus exactly as the ``aurinko.sync`` job runs it: start, page ``/sync/updated`` and
``/sync/deleted`` to their delta tokens, store. Then two more runs: by delta token (nothing new),
and from the start (the delta token expired, 410: every message comes again). Writes are the
INSERT/UPDATE/DELETE statements on the inbox tables, counted on the engine.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from bench.common import build_service, count_statements

MESSAGES = 10_000
PAGE_SIZE = 100
TARGET_SECONDS = 15.0
SECRET_KEY = "YmVuY2gtc2VjcmV0LWtleS0zMi1ieXRlcy1sb25nISE="  # a Fernet key for the bench only

AUTH_URL = "query { getAurinkoAuthorizationUrl(serviceType: \"Google\") { authorization { url } error { code } } }"
CONNECT = (
    "mutation($code: String!, $state: String!) { connectAurinko(code: $code, state: $state) "
    "{ connection { id } error { code message } } }"
)
INBOX_TABLES = ("inbox_messages", "inbox_message_addresses")


def _writes(statements: list[str]) -> int:
    return sum(
        1
        for statement in statements
        if statement.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE")
        and any(table in statement for table in INBOX_TABLES)
    )


def _connect(service: Any, fake: Any) -> tuple[str, str]:
    client, headers = service.app.test_client(), service.headers("bench-inbox")
    url = client.post("/graphql", json={"query": AUTH_URL}, headers=headers).get_json()
    state = parse_qs(urlparse(url["data"]["getAurinkoAuthorizationUrl"]["authorization"]["url"]).query)["state"][0]
    code = fake.issue_code("bench-code", account_id="9001", token="bench-token")
    answer = client.post("/graphql", json={"query": CONNECT, "variables": {"code": code, "state": state}},
                         headers=headers).get_json()
    connection = answer["data"]["connectAurinko"]
    assert connection["error"] is None, connection
    return service.tenant("bench-inbox"), connection["connection"]["id"]


def run(database_url: str | None = None) -> dict[str, Any]:
    from sqlalchemy import func, select

    from adapters.db.integrations.aurinko.tables import inbox_messages
    from application.integrations.aurinko.commands import RunInboxSync
    from application.integrations.aurinko.handlers import system_actor
    from tests.providers.aurinko import CLIENT_ID, CLIENT_SECRET, FakeAurinko, record
    from tests.providers.server import ProviderServer

    server = ProviderServer().start()
    senders = [f"cliente{n}@empresa{n % 40}.com.pa" for n in range(200)]
    fake = FakeAurinko(server, page_size=PAGE_SIZE)
    fake.add(*(record(n, sender=senders[n % len(senders)], to=("ventas@pyme.pa", f"c{n % 7}@pyme.pa"))
               for n in range(MESSAGES)))
    with tempfile.TemporaryDirectory(prefix="istmo-bench-inbox-") as tmp:
        service = build_service(
            Path(tmp), database_url, secret_keys=(SECRET_KEY,), aurinko_base_url=server.url,
            aurinko_client_id=CLIENT_ID, aurinko_client_secret=CLIENT_SECRET,
        )
        try:
            tenant_id, connection_id = _connect(service, fake)
            bus, engine = service.container.bus(), service.container.engine()

            def sync() -> tuple[Any, float, int]:
                with count_statements(engine) as statements:
                    started = time.perf_counter()
                    report = bus.handle(RunInboxSync(actor=system_actor(tenant_id), connection_id=connection_id))
                    elapsed = time.perf_counter() - started
                return report, elapsed, _writes(statements)

            first, first_s, first_writes = sync()
            with engine.connect() as connection:
                rows = connection.execute(select(func.count()).select_from(inbox_messages)).scalar_one()
            delta, delta_s, delta_writes = sync()
            fake.expire_tokens.add(f"u:{MESSAGES}")  # 410 syncToken.expired: everything comes again
            again, again_s, again_writes = sync()
            requests = len(server.requests)
        finally:
            service.close()
            server.stop()
    return {
        "first": first, "first_s": first_s, "first_writes": first_writes, "rows": rows,
        "delta": delta, "delta_s": delta_s, "delta_writes": delta_writes,
        "again": again, "again_s": again_s, "again_writes": again_writes, "requests": requests,
    }


def section(database_url: str | None, label: str) -> None:
    from bench.common import header, line

    header(f"[{label}] inbox sync: {MESSAGES:,} messages from the local Aurinko server, {PAGE_SIZE} a page")
    out = run(database_url)
    first = out["first"]
    line("first sync: messages stored", f"{out['rows']} rows", f"{MESSAGES}", out["rows"] == MESSAGES)
    line("first sync: wall time", f"{out['first_s']:.2f} s", "<= 15 s", out["first_s"] <= TARGET_SECONDS)
    line("first sync: throughput", f"{MESSAGES / out['first_s']:.0f} msg/s")
    line("first sync: pages fetched", f"{first.pages} pages")
    delta = out["delta"]
    line("second run (delta token): new/changed", f"{delta.inserted + delta.updated}", "0",
         delta.inserted + delta.updated == 0)
    line("second run (delta token): writes to the inbox tables", f"{out['delta_writes']} statements", "0",
         out["delta_writes"] == 0)
    line("second run (delta token): wall time", f"{out['delta_s']:.2f} s")
    again = out["again"]
    line("third run (410, from the start): unchanged", f"{again.unchanged} msgs", f"{MESSAGES}",
         again.unchanged == MESSAGES and again.restarted)
    line("third run (410, from the start): writes to the inbox tables", f"{out['again_writes']} statements", "0",
         out["again_writes"] == 0)
    line("third run (410, from the start): wall time", f"{out['again_s']:.2f} s")
    line("HTTP requests the local Aurinko answered (all runs)", f"{out['requests']}")


if __name__ == "__main__":
    import sys

    section(sys.argv[1] if len(sys.argv) > 1 else None, "inbox")
