"""Webhook ingestion (issue 6, section 6): Polar-signed deliveries into the service under gunicorn.

The service runs as ``istmo serve`` does in production (``ISTMO_ENV=production``, gunicorn, 2
workers of 4 threads) on a fresh PostgreSQL database. The load generator is ``wrk`` on loopback
(``CONNECTIONS`` keep-alive connections over ``WRK_THREADS`` threads, with ``webhooks.lua``): it
sends ``DELIVERIES`` distinct deliveries, each signed beforehand with the Standard Webhooks
scheme, once each, and stops (or at ``DEADLINE`` seconds). wrk is C: a load generator written in
Python spends more CPU per request than the service does, on the same two cores. Every delivery is
verified, stored with its processing job in one transaction, and answered; the rows are counted
afterwards, and the rate is stored rows over wrk's wall time. The CPU the service's processes and
PostgreSQL's backends spent per delivery is read from /proc. Beside it, in the same run and on
the same database: a bare ``INSERT`` + ``COMMIT`` loop on one connection, the database's own
floor for one durable write at a time.

Run alone: ``python -m bench.webhooks`` (prints one JSON line) - ``make bench`` prints it as figures.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.common import ROOT, migrate, postgres_database, postgres_unavailable

DELIVERIES = int(os.environ.get("ISTMO_BENCH_WEBHOOKS", "12000"))
WARMUP = 500
CONNECTIONS = 16  # requests in flight
WRK_THREADS = 2
DEADLINE = 90  # seconds: wrk stops after this even if deliveries are left
INSERT_LOOP = 2000
SECRET = "whsec_" + "YmVuY2gtd2ViaG9vay1zZWNyZXQta2V5LTMyYnl0ZXM="
RATE_TARGET = 1000.0
P99_TARGET_MS = 50.0
SCRIPT = Path(__file__).with_name("webhooks.lua")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _write_deliveries(path: Path, count: int, prefix: str) -> None:
    """One delivery per line, signed now (Standard Webhooks allow 5 minutes): id, timestamp, signature, body."""
    from tests.webhook_signing import polar_headers

    with path.open("w") as out:
        for index in range(count):
            body = json.dumps(
                {
                    "type": "order.created",
                    "timestamp": "2026-12-01T10:00:00Z",
                    "data": {"id": f"ord_{prefix}_{index}", "amount": 4900, "currency": "usd", "customer": {"external_id": "acme"}},
                }
            )
            headers = polar_headers(SECRET, body.encode(), msg_id=f"msg_{prefix}_{index}")
            out.write(f"{headers['webhook-id']}\t{headers['webhook-timestamp']}\t{headers['webhook-signature']}\t{body}\n")


def _wrk(port: int, deliveries: Path) -> dict[str, Any]:
    """Run wrk until every thread has had all its deliveries answered (then SIGINT: wrk reports)."""
    finished = deliveries.with_suffix(".finished-")
    command = [
        "wrk", "-t", str(WRK_THREADS), "-c", str(CONNECTIONS), "-d", f"{DEADLINE}s", "--timeout", "10s",
        "-s", str(SCRIPT), f"http://127.0.0.1:{port}",
        "--", str(WRK_THREADS), str(deliveries), "/webhooks/polar", str(finished),
    ]
    wrk = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    markers = [Path(f"{finished}{thread}") for thread in range(WRK_THREADS)]
    while wrk.poll() is None and not all(marker.exists() for marker in markers):
        time.sleep(0.005)
    wrk.send_signal(signal.SIGINT)
    out, err = wrk.communicate(timeout=60)
    for marker in markers:
        marker.unlink(missing_ok=True)
    lines = out.strip().splitlines()
    if not lines or not lines[-1].startswith("{"):
        raise RuntimeError(f"wrk printed no figures: {err.strip()[-500:]}")
    return dict(json.loads(lines[-1]))


def _cpu_seconds(server_pid: int) -> dict[str, float]:
    """CPU seconds so far of the server's processes (gunicorn's arbiter and workers) and of PostgreSQL's."""
    tick = os.sysconf("SC_CLK_TCK")
    totals = {"service": 0.0, "postgres": 0.0}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        seconds = (int(fields[11]) + int(fields[12])) / tick
        if int(stat.parent.name) == server_pid or int(fields[1]) == server_pid:
            totals["service"] += seconds
        elif name.startswith("postgres"):
            totals["postgres"] += seconds
    return totals


def _insert_loop(database_url: str) -> float:
    """Rows per second of one connection doing INSERT + COMMIT, one row at a time."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as connection:
        connection.execute(text("CREATE TABLE bench_inserts (id varchar(36) PRIMARY KEY, body bytea NOT NULL)"))
        connection.commit()
        body = b'{"type":"order.created","data":{"id":"ord_1"}}' * 4
        started = time.perf_counter()
        for _ in range(INSERT_LOOP):
            connection.execute(text("INSERT INTO bench_inserts (id, body) VALUES (:id, :body)"), {"id": str(uuid.uuid4()), "body": body})
            connection.commit()
        rate = INSERT_LOOP / (time.perf_counter() - started)
        connection.execute(text("DROP TABLE bench_inserts"))
        connection.commit()
    engine.dispose()
    return rate


def _count(database_url: str, sql: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as connection:
        value = int(connection.execute(text(sql)).scalar_one())
    engine.dispose()
    return value


def _wait_ready(port: int, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not answer /healthz in time")


def _server_env(data_dir: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ISTMO_")}
    env.update(
        {
            "ISTMO_ENV": "production",
            "ISTMO_DATA_DIR": str(data_dir),
            "ISTMO_DATABASE_URL": database_url,
            "ISTMO_JWT_SECRET": "bench-jwt-secret-that-is-long-enough-for-hs256",
            "ISTMO_SIGNING_SECRET": "bench-signing-secret-long-enough-for-production",
            "ISTMO_POLAR_WEBHOOK_SECRET": SECRET,
            "ISTMO_LOG_LEVEL": "INFO",
            "ISTMO_RATE_LIMIT_WEBHOOK_IP": "100000000/minute",  # counted (its cost is in the figure), never reached
            "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        }
    )
    try:
        from cryptography.fernet import Fernet

        env["ISTMO_SECRET_KEYS"] = Fernet.generate_key().decode()
    except ImportError:
        pass
    return env


def run() -> dict[str, Any]:
    reason = postgres_unavailable()
    if reason:
        return {"skipped": f"PostgreSQL not reachable ({reason})"}
    if shutil.which("wrk") is None:
        return {"skipped": "wrk is not installed (make bench installs it as root: apt-get install wrk)"}
    with postgres_database() as url, tempfile.TemporaryDirectory(prefix="istmo-bench-webhooks-") as tmp:
        migrate(url)
        insert_rate_before = _insert_loop(url)
        warmup, deliveries = Path(tmp) / "warmup.tsv", Path(tmp) / "deliveries.tsv"
        _write_deliveries(warmup, WARMUP, "warm")
        _write_deliveries(deliveries, DELIVERIES, "run")
        port = _free_port()
        istmo = str(Path(sys.executable).with_name("istmo"))
        command = [istmo, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
        if not Path(istmo).exists():
            command = [sys.executable, "-m", "entrypoints.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
        log = open(Path(tmp) / "server.log", "wb")  # noqa: SIM115 - closed below
        server = subprocess.Popen(command, env=_server_env(Path(tmp), url), stdout=log, stderr=log, cwd=ROOT)
        try:
            _wait_ready(port, server)
            _wrk(port, warmup)  # workers' first requests: imports, pools, prepared statements
            cpu_before = _cpu_seconds(server.pid)
            measured = _wrk(port, deliveries)
            cpu_after = _cpu_seconds(server.pid)
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
            log.close()
        insert_rate_after = _insert_loop(url)
        stored = _count(url, "SELECT count(*) FROM webhook_events WHERE provider_event_id LIKE 'msg_run_%'")
        queued = _count(url, "SELECT count(*) FROM jobs WHERE kind = 'webhooks.process' AND idempotency_key LIKE 'webhook:polar:msg_run_%'")
    wall = measured["duration_us"] / 1e6
    return {
        "deliveries": DELIVERIES,
        "requests": measured["requests"],
        "non_2xx": measured["non_2xx"],
        "socket_errors": measured["socket_errors"],
        "wall_seconds": wall,
        "per_second": stored / wall if wall else 0.0,
        "p50_ms": measured["p50_us"] / 1000,
        "p90_ms": measured["p90_us"] / 1000,
        "p99_ms": measured["p99_us"] / 1000,
        "max_ms": measured["max_us"] / 1000,
        "stored": stored,
        "queued": queued,
        "cpu_ms_per_delivery": {
            name: (cpu_after[name] - cpu_before[name]) * 1000 / max(stored, 1) for name in cpu_after
        },
        "insert_commit_per_second": (insert_rate_before + insert_rate_after) / 2,
        "insert_commit_runs": [insert_rate_before, insert_rate_after],
        "connections": CONNECTIONS,
    }


def section(label: str) -> None:
    from bench.common import header, line

    header(
        f"[{label}] webhooks: {DELIVERIES} Polar-signed deliveries to /webhooks/polar, gunicorn (production, "
        f"2 workers x 4 threads) on PostgreSQL, wrk with {CONNECTIONS} keep-alive connections on loopback"
    )
    out = run()
    if "skipped" in out:
        print(f"  skipped: {out['skipped']}", flush=True)
        return
    line("events stored / processing jobs queued", f"{out['stored']} / {out['queued']} of {out['deliveries']}")
    line(
        "requests answered / not 2xx / socket errors",
        f"{out['requests']} / {out['non_2xx']} / {out['socket_errors']}",
    )
    print(f"    ({out['requests'] - out['deliveries']} of them GET /healthz on connections left idle at the end)", flush=True)
    line(
        "verified and persisted webhooks per second",
        f"{out['per_second']:.0f} /s",
        ">= 1000 /s",
        out["per_second"] >= RATE_TARGET,
    )
    line("latency p50 / p90", f"{out['p50_ms']:.1f} ms / {out['p90_ms']:.1f} ms")
    line("latency p99", f"{out['p99_ms']:.1f} ms", "<= 50 ms", out["p99_ms"] <= P99_TARGET_MS)
    cpu = out["cpu_ms_per_delivery"]
    line("CPU per delivery: service / PostgreSQL", f"{cpu['service']:.2f} ms / {cpu['postgres']:.2f} ms")
    rate = out["insert_commit_per_second"]
    line("bare INSERT + COMMIT loop, one connection, same database", f"{rate:.0f} /s")
    runs = out["insert_commit_runs"]
    print(f"    (before the load {runs[0]:.0f} /s, after it {runs[1]:.0f} /s; service / bare loop: {out['per_second'] / rate:.2f}x)", flush=True)


if __name__ == "__main__":
    result = run()
    result.pop("latencies", None)
    print(json.dumps(result))
