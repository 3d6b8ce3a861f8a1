"""Webhook ingestion (issue 6, section 6): Polar-signed deliveries into the service under gunicorn.

The service runs as ``istmo serve`` does in production (``ISTMO_ENV=production``, gunicorn, 2
workers of 4 threads) on a fresh PostgreSQL database. A load generator on loopback (separate
processes, keep-alive connections) sends ``DELIVERIES`` distinct deliveries, each signed
beforehand with the Standard Webhooks scheme, with ``CONNECTIONS`` requests in flight; it is
bounded in count and in time (it stops sending at ``DEADLINE`` seconds). Every delivery is verified,
stored with its processing job in one transaction, and answered; the rows are counted afterwards.
Beside it, in the same run and on the same database: a bare ``INSERT`` + ``COMMIT`` loop on one
connection, the database's own floor for one durable write at a time.

Run alone: ``python -m bench.webhooks`` (prints one JSON line) - ``make bench`` prints it as figures.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from bench.common import ROOT, migrate, percentile, postgres_database, postgres_unavailable

DELIVERIES = int(os.environ.get("ISTMO_BENCH_WEBHOOKS", "6000"))
WARMUP = 300
CONNECTIONS = 16  # requests in flight: CLIENT_PROCESSES x threads
CLIENT_PROCESSES = 2
DEADLINE = 90.0  # seconds: the load generator stops sending after this
INSERT_LOOP = 2000
SECRET = "whsec_" + "YmVuY2gtd2ViaG9vay1zZWNyZXQta2V5LTMyYnl0ZXM="
RATE_TARGET = 1000.0
P99_TARGET_MS = 50.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _signed(count: int, prefix: str) -> list[tuple[bytes, dict[str, str]]]:
    from tests.webhook_signing import polar_headers

    deliveries = []
    for index in range(count):
        msg_id = f"msg_{prefix}_{index}"
        body = json.dumps(
            {
                "type": "order.created",
                "timestamp": "2026-12-01T10:00:00Z",
                "data": {"id": f"ord_{prefix}_{index}", "amount": 4900, "currency": "usd", "customer": {"external_id": "acme"}},
            }
        ).encode()
        deliveries.append((body, polar_headers(SECRET, body, msg_id=msg_id)))
    return deliveries


def _client(port: int, work: list[tuple[bytes, dict[str, str]]], threads: int, deadline: float, out: Any) -> None:
    """One load-generator process: ``threads`` keep-alive connections share ``work``."""
    lock = threading.Lock()
    position = [0]
    latencies: list[float] = []
    failures: list[str] = []

    def run() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.time() < deadline:
            with lock:
                if position[0] >= len(work):
                    break
                body, headers = work[position[0]]
                position[0] += 1
            started = time.perf_counter()
            try:
                connection.request("POST", "/webhooks/polar", body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status = -1
                failures.append(type(error).__name__)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if status != 200:
                    failures.append(f"HTTP {status}")
        connection.close()

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    out.put({"latencies": latencies, "failures": failures[:20], "failed": len(failures)})


def _load(port: int, deliveries: list[tuple[bytes, dict[str, str]]]) -> dict[str, Any]:
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    shares = [deliveries[index::CLIENT_PROCESSES] for index in range(CLIENT_PROCESSES)]
    deadline = time.time() + DEADLINE
    started = time.perf_counter()
    processes = [
        context.Process(target=_client, args=(port, share, CONNECTIONS // CLIENT_PROCESSES, deadline, queue))
        for share in shares
    ]
    for process in processes:
        process.start()
    results = [queue.get(timeout=DEADLINE + 60) for _ in processes]
    wall = time.perf_counter() - started
    for process in processes:
        process.join(timeout=10)
    latencies = [value for result in results for value in result["latencies"]]
    return {
        "sent": len(latencies),
        "failed": sum(result["failed"] for result in results),
        "failures": [f for result in results for f in result["failures"]][:10],
        "wall": wall,
        "latencies": latencies,
    }


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
            "ISTMO_SIGNING_SECRET": "bench-signing-secret",
            "ISTMO_POLAR_WEBHOOK_SECRET": SECRET,
            "ISTMO_LOG_LEVEL": "INFO",
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
    with postgres_database() as url, tempfile.TemporaryDirectory(prefix="istmo-bench-webhooks-") as tmp:
        migrate(url)
        insert_rate_before = _insert_loop(url)
        port = _free_port()
        istmo = str(Path(sys.executable).with_name("istmo"))
        command = [istmo, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
        if not Path(istmo).exists():
            command = [sys.executable, "-m", "entrypoints.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
        log = open(Path(tmp) / "server.log", "wb")  # noqa: SIM115 - closed below
        server = subprocess.Popen(command, env=_server_env(Path(tmp), url), stdout=log, stderr=log, cwd=ROOT)
        try:
            _wait_ready(port, server)
            _load(port, _signed(WARMUP, "warm"))  # workers' first requests: imports, pools
            deliveries = _signed(DELIVERIES, "run")
            measured = _load(port, deliveries)
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
    latencies = measured["latencies"]
    ok = measured["sent"] - measured["failed"]
    return {
        "deliveries": DELIVERIES,
        "sent": measured["sent"],
        "ok": ok,
        "failed": measured["failed"],
        "failures": measured["failures"],
        "wall_seconds": measured["wall"],
        "per_second": ok / measured["wall"] if measured["wall"] else 0.0,
        "p50_ms": percentile(latencies, 0.50) * 1000 if latencies else None,
        "p99_ms": percentile(latencies, 0.99) * 1000 if latencies else None,
        "stored": stored,
        "queued": queued,
        "insert_commit_per_second": (insert_rate_before + insert_rate_after) / 2,
        "insert_commit_runs": [insert_rate_before, insert_rate_after],
        "connections": CONNECTIONS,
    }


def section(label: str) -> None:
    from bench.common import header, line

    header(
        f"[{label}] webhooks: {DELIVERIES} Polar-signed deliveries to /webhooks/polar, gunicorn (production, "
        f"2 workers x 4 threads) on PostgreSQL, {CONNECTIONS} keep-alive connections on loopback"
    )
    out = run()
    if "skipped" in out:
        print(f"  skipped: {out['skipped']}", flush=True)
        return
    line("deliveries answered 200", f"{out['ok']}/{out['deliveries']}")
    line("events stored / processing jobs queued", f"{out['stored']} / {out['queued']}")
    line("failed requests", f"{out['failed']}")
    for failure in out["failures"][:5]:
        print(f"    {failure}", flush=True)
    line(
        "verified and persisted webhooks per second",
        f"{out['per_second']:.0f} /s",
        ">= 1000 /s",
        out["per_second"] >= RATE_TARGET,
    )
    line("latency p50", f"{out['p50_ms']:.1f} ms")
    line("latency p99", f"{out['p99_ms']:.1f} ms", "<= 50 ms", out["p99_ms"] <= P99_TARGET_MS)
    line(
        "bare INSERT + COMMIT loop, one connection, same database",
        f"{out['insert_commit_per_second']:.0f} /s",
    )
    runs = out["insert_commit_runs"]
    print(f"    (before the load {runs[0]:.0f} /s, after it {runs[1]:.0f} /s)", flush=True)


if __name__ == "__main__":
    result = run()
    result.pop("latencies", None)
    print(json.dumps(result))
