"""Production behind its reverse proxy (issue 19, item 3): gunicorn (``ISTMO_ENV=production``, one
worker of four threads, on a unix socket) behind nginx run with the shipped ``deploy/nginx.conf``.

Forty connections that declare a large body and trickle it byte by byte to a webhook route would
hold all four threads of a bare gunicorn; behind nginx they are held by nginx (32 of them, the
per-address cap; the other 8 refused with 429), and every normal request from another address is
answered. nginx overwrites X-Forwarded-For, so a client cannot pick its rate-limit address."""

from __future__ import annotations

import http.client
import json
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from adapters.auth.jwt import HmacJwtVerifier
from tests.integration.test_production_server import (
    JWT_SECRET,
    POLAR_SECRET,
    ROOT,
    _environment,
    _free_port,
    _istmo,
)
from tests.nginx_proxy import PER_ADDRESS, nginx_command, nginx_unavailable
from tests.webhook_signing import polar_headers

# The module's production stack (its own database, gunicorn, worker...) is built once: its tests run on one xdist worker.
pytestmark = pytest.mark.xdist_group("production-proxy")

SLOW = 40
DECLARED = 500_000  # under the webhook routes' 1 MiB


@dataclass
class Proxied:
    port: int
    token: str

    def request(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
                *, source: str = "127.0.0.2") -> tuple[int, dict[str, str], dict[str, Any]]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60, source_address=(source, 0))
        try:
            connection.request(method, path, body=body or None, headers=headers or {})
            response = connection.getresponse()
            raw = response.read()
            return response.status, dict(response.getheaders()), json.loads(raw) if raw else {}
        finally:
            connection.close()


def _wait_for(connect: Any, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, f"{what} stopped: {process.stderr.read().decode() if process.stderr else ''}"
        try:
            connect().close()
            return
        except OSError:
            assert time.monotonic() < deadline, f"{what} did not start"
            time.sleep(0.2)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxied]:
    reason = nginx_unavailable()
    if reason:
        pytest.skip(reason)
    tmp = tmp_path_factory.mktemp("proxy")
    env = _environment(tmp, ISTMO_PROXY_HOPS="1", ISTMO_RATE_LIMIT_WEBHOOK_IP="10/minute")
    for command in (("db", "upgrade"), ("tenants", "create", "acme", "--name", "Acme S.A.")):
        done = _istmo(*command, env=env)
        assert done.returncode == 0, done.stderr
    upstream, port = tmp / "gunicorn.sock", _free_port()
    try:
        nginx = nginx_command(tmp, port=port, upstream=f"unix:{upstream}")
    except RuntimeError as error:
        pytest.skip(str(error))
    gunicorn = subprocess.Popen(
        [sys.executable, "-m", "entrypoints.cli", "serve", "--unix-socket", str(upstream), "--workers", "1"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    proxy = None
    try:
        def at_socket() -> socket.socket:
            client = socket.socket(socket.AF_UNIX)
            try:
                client.connect(str(upstream))
            except OSError:
                client.close()
                raise
            return client

        _wait_for(at_socket, gunicorn, "gunicorn")
        proxy = subprocess.Popen(nginx, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _wait_for(lambda: socket.create_connection(("127.0.0.1", port), timeout=1), proxy, "nginx")
        token = HmacJwtVerifier(JWT_SECRET).issue(tenant="acme", subject="owner@acme.pa", role="owner", ttl_seconds=600)
        yield Proxied(port, token)
    finally:
        if proxy is not None:
            _stop(proxy)
        _stop(gunicorn)


class SlowBodies:
    """Connections that declare ``DECLARED`` bytes and send one more every second or so."""

    def __init__(self, port: int, count: int) -> None:
        self.sockets: list[socket.socket] = []
        self.sent: dict[socket.socket, int] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        head = (f"POST /webhooks/polar HTTP/1.1\r\nHost: istmo\r\nContent-Type: application/json\r\n"
                f"Content-Length: {DECLARED}\r\n\r\n{{").encode()
        for _ in range(count):
            slow = socket.create_connection(("127.0.0.1", port), timeout=30)
            slow.sendall(head)
            self.sockets.append(slow)
            self.sent[slow] = 1
        self._trickle = threading.Thread(target=self._run, daemon=True)
        self._trickle.start()

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            with self._lock:
                for slow in list(self.sockets):
                    try:
                        slow.sendall(b" ")
                        self.sent[slow] += 1
                    except OSError:
                        self.sockets.remove(slow)

    def complete(self, slow: socket.socket) -> None:
        """Send the rest of ``slow``'s declared body at once."""
        with self._lock:
            self.sockets.remove(slow)
        slow.sendall(b" " * (DECLARED - self.sent[slow]))

    def answered(self) -> list[socket.socket]:
        readable, _, _ = select.select(list(self.sent), [], [], 0)
        return readable

    def close(self) -> None:
        self._stop.set()
        self._trickle.join(10)
        for slow in self.sent:
            slow.close()


def _status(sock: socket.socket) -> tuple[int, bytes]:
    sock.settimeout(30)
    answer = b""
    while b"\r\n\r\n" not in answer or len(answer) < 12:
        chunk = sock.recv(65536)
        if not chunk:
            break
        answer += chunk
    return int(answer.split(b" ", 2)[1]), answer


def test_slow_bodies_are_held_by_nginx_and_normal_requests_are_answered(proxied: Proxied) -> None:
    slow = SlowBodies(proxied.port, SLOW)
    try:
        body = b'{"type":"order.created","timestamp":"2026-12-01T10:00:00Z","data":{}}'
        for n in range(3):
            status, _, payload = proxied.request("POST", "/webhooks/polar", body, polar_headers(POLAR_SECRET, body, msg_id=f"p{n}"))
            assert (status, payload.get("received")) == (200, True), payload
        graphql = json.dumps({"query": "{ me { tenantId } }"}).encode()
        for _ in range(5):
            status, _, payload = proxied.request("POST", "/graphql", graphql, {
                "Content-Type": "application/json", "Authorization": f"Bearer {proxied.token}"})
            assert status == 200 and payload["data"]["me"]["tenantId"], payload
        for _ in range(10):
            assert proxied.request("GET", "/healthz")[0] == 200

        # the per-address cap: 8 of the 40 were refused by nginx at once, the other 32 are held
        deadline = time.monotonic() + 60
        while len(slow.answered()) < SLOW - PER_ADDRESS:
            assert time.monotonic() < deadline, f"only {len(slow.answered())} slow connections answered"
            time.sleep(0.1)
        refused = slow.answered()
        assert len(refused) == SLOW - PER_ADDRESS
        assert {_status(sock)[0] for sock in refused} == {429}
        held = [sock for sock in slow.sent if sock not in refused]
        assert len(held) == PER_ADDRESS
        assert select.select(held, [], [], 0)[0] == []  # no answer (nor a close) for a body still coming

        # a held body, once complete, reaches the service: unsigned, it is refused there
        finished = held[0]
        slow.complete(finished)
        status, answer = _status(finished)
        assert status == 401 and b'"INVALID_SIGNATURE"' in answer, answer
    finally:
        slow.close()


def test_a_body_over_the_webhook_limit_is_refused_by_nginx(proxied: Proxied) -> None:
    status, _, payload = proxied.request("POST", "/webhooks/polar", b"x" * (1024 * 1024 + 1),
                                         {"Content-Type": "application/json"}, source="127.0.0.4")
    assert (status, payload["error"]["code"]) == (413, "REQUEST_TOO_LARGE")


def test_a_client_cannot_choose_its_address_with_x_forwarded_for(proxied: Proxied) -> None:
    """ISTMO_RATE_LIMIT_WEBHOOK_IP=10/minute: ten requests from 127.0.0.3, each claiming another
    address, pass; the eleventh is 429, counted apart from 127.0.0.2's requests above."""
    for n in range(10):
        status, _, payload = proxied.request("POST", "/webhooks/polar", b"{}", {
            "Content-Type": "application/json", "X-Forwarded-For": f"198.51.100.{n}"}, source="127.0.0.3")
        assert (status, payload["error"]["code"]) == (401, "INVALID_SIGNATURE"), payload
    status, headers, payload = proxied.request("POST", "/webhooks/polar", b"{}", {
        "Content-Type": "application/json", "X-Forwarded-For": "198.51.100.99"}, source="127.0.0.3")
    assert (status, payload["error"]["code"]) == (429, "RATE_LIMITED"), payload
    assert 1 <= int(headers["Retry-After"]) <= 60
