"""A local HTTP server that plays a provider (Aurinko, the Graph API, Alanube, ...) in tests.

The adapter under test is the production code, pointed at ``server.url``. A test declares the
routes the provider answers (method, path pattern -> handler) and reads back every request that
arrived, to assert on the wire format the adapter spoke::

    server.route("POST", r"/v1/email/messages", lambda req: Reply.json({"id": "m1"}, status=201))
    ...
    assert server.requests[0].json()["subject"] == "Factura F-000001"

A request no route matches is answered 404 (and recorded), so a wrong path fails loudly.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response


@dataclass(frozen=True)
class Recorded:
    """One request as the server received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    form: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[str, str, bytes]] = field(default_factory=dict)  # name -> (filename, type, bytes)

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        return {k.lower(): v for k, v in self.headers.items()}.get(name.lower())


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, payload: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
        return cls(status, json.dumps(payload).encode(), {"Content-Type": "application/json", **(headers or {})})


Handler = Callable[[Recorded], Reply]


class _Quiet(WSGIRequestHandler):
    def setup(self) -> None:
        super().setup()
        self.server.open_connections.add(self.connection)  # type: ignore[attr-defined]

    def finish(self) -> None:
        self.server.open_connections.discard(self.connection)  # type: ignore[attr-defined]
        super().finish()

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class ProviderServer:
    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._lock = threading.Lock()
        self.requests: list[Recorded] = []
        self.keep_alive = True  # False: every answer says ``Connection: close`` (no pooled connection to reuse)
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", 0, self._app, threaded=True, request_handler=_Quiet
        )
        self._server.open_connections = set()  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> ProviderServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop as a provider that goes away does: no more listening, and the kept-alive connections
        closed too (left open, a client's next request on one raced the handler thread's exit)."""
        self._server.shutdown()
        self._server.server_close()
        for connection in list(self._server.open_connections):  # type: ignore[attr-defined]
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def route(self, method: str, path: str, handler: Handler | Reply) -> None:
        """Answer ``method`` on paths fully matching the regex ``path``; later routes win."""
        respond = handler if callable(handler) else (lambda _request, reply=handler: reply)
        with self._lock:
            self._routes.insert(0, (method.upper(), re.compile(path), respond))

    def reset(self) -> None:
        with self._lock:
            self._routes.clear()
            self.requests.clear()

    def received(self, method: str, path: str) -> list[Recorded]:
        pattern = re.compile(path)
        with self._lock:
            return [r for r in self.requests if r.method == method.upper() and pattern.fullmatch(r.path)]

    def _app(self, environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        request = Request(environ)
        body = request.get_data(cache=True)
        files = {
            name: (upload.filename or "", upload.mimetype, upload.read()) for name, upload in request.files.items()
        }
        recorded = Recorded(
            method=request.method,
            path=request.path,
            query=dict(request.args.items()),
            headers=dict(request.headers.items()),
            body=body,
            form=dict(request.form.items()),
            files=files,
        )
        with self._lock:
            self.requests.append(recorded)
            handler = next(
                (h for m, p, h in self._routes if m == request.method and p.fullmatch(request.path)), None
            )
        reply = handler(recorded) if handler else Reply.json({"error": f"no route {request.path}"}, status=404)
        headers = reply.headers if self.keep_alive else {**reply.headers, "Connection": "close"}
        return Response(reply.body, status=reply.status, headers=headers)(environ, start_response)


@pytest.fixture
def provider_server() -> Iterator[ProviderServer]:
    """A fresh provider server per test, stopped afterwards."""
    server = ProviderServer().start()
    try:
        yield server
    finally:
        server.stop()
