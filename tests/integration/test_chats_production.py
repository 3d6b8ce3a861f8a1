"""The assistant as production runs it: ``istmo serve`` (gunicorn, ISTMO_ENV=production) and
``istmo worker`` as separate processes, the relay on Redis, the instance's OpenAI key and base URL
pointing at a local server through the real SDK. A message sent to ``/chats/current/stream`` is
answered by the worker, with the deltas and tool calls relayed across processes."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from adapters.auth.jwt import HmacJwtVerifier
from tests.integration.chats_support import results_after_last_user
from tests.integration.test_production_server import JWT_SECRET, ROOT, _environment, _free_port, _istmo
from tests.providers.llm import Call, FakeLlm, Said, Step
from tests.providers.server import ProviderServer, provider_server  # noqa: F401 - fixture

REDIS_URL = "redis://127.0.0.1:6379/14"


def script(conversation: list[Said]) -> Step:
    results = results_after_last_user(conversation)
    if not results:
        return Step(calls=(Call("list_invoices", {"status": "unpaid", "sort": "balance_desc", "limit": 1}),))
    return Step(text=f"Tiene {len(results[0]['invoices'])} facturas sin pagar.")


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            assert time.monotonic() < deadline, "the production server did not start"
            time.sleep(0.2)


def test_a_streamed_chat_in_production(tmp_path: Path, provider_server: ProviderServer) -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis is not reachable: {error}")
    FakeLlm(provider_server, script).install()
    env = _environment(
        tmp_path, ISTMO_OPENAI_API_KEY="sk-instance-prod", ISTMO_OPENAI_BASE_URL=f"{provider_server.url}/v1",
        ISTMO_CHATS_PROVIDER="OPENAI", ISTMO_CHATS_MODEL="gpt-test", ISTMO_REDIS_URL=REDIS_URL,
    )
    for command in (("db", "upgrade"), ("tenants", "create", "acme", "--name", "Acme S.A.")):
        done = _istmo(*command, env=env)
        assert done.returncode == 0, done.stderr
    port = _free_port()
    processes = [
        subprocess.Popen([sys.executable, "-m", "entrypoints.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
                         env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE),
        subprocess.Popen([sys.executable, "-m", "entrypoints.cli", "worker"], env=env, cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE),
    ]
    try:
        _wait_for_port(port, processes[0])
        token = HmacJwtVerifier(JWT_SECRET).issue(tenant="acme", subject="owner@acme.pa", role="owner", ttl_seconds=600)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request("POST", "/chats/current/stream", body=json.dumps({"message": "¿Facturas sin pagar?"}).encode(),
                           headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        assert response.status == 200 and response.getheader("Content-Type").startswith("text/event-stream")
        body = response.read().decode()
        connection.close()
        kinds = [line[7:] for line in body.splitlines() if line.startswith("event: ")]
        assert kinds[0] == "message" and kinds[-1] == "done", body
        assert "tool_started" in kinds and "tool_finished" in kinds and "delta" in kinds
        deltas = "".join(json.loads(line[6:])["text"] for line in body.splitlines() if line.startswith("data: ") and '"delta"' in line)
        assert deltas == "Tiene 0 facturas sin pagar."
        assert provider_server.requests[-1].header("Authorization") == "Bearer sk-instance-prod"
    finally:
        for process in processes:
            process.terminate()
            process.wait(30)
