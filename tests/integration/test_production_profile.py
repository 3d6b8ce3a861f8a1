"""The production profile (issue 19): the service as production runs it, on PostgreSQL, gunicorn
(``ISTMO_ENV=production``) on a unix socket behind nginx with ``deploy/nginx.conf``, and a
separate ``istmo worker``; the main flows over HTTP through the proxy: an upload through a
variable, client -> invoice -> PDF -> e-mail delivered by the worker to a local SMTP server with
the PDF attached, and a signed webhook stored once."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from adapters.auth.jwt import HmacJwtVerifier
from tests.conftest import POSTGRES_ADMIN_URL, _postgres_unavailable_reason
from tests.integration.api import ADD_FILE, multipart_body
from tests.integration.test_api_pdf import CREATE_CLIENT, CREATE_INVOICE, RENDER_INVOICE
from tests.integration.test_production_proxy import Proxied, _stop, _wait_for
from tests.integration.test_production_server import (
    JWT_SECRET,
    POLAR_SECRET,
    ROOT,
    _environment,
    _free_port,
    _istmo,
)
from tests.nginx_proxy import nginx_command, nginx_unavailable
from tests.smtpserver import SmtpServer
from tests.webhook_signing import polar_headers

# The module's production stack (its own database, gunicorn, worker...) is built once: its tests run on one xdist worker.
pytestmark = pytest.mark.xdist_group("production-profile")

SEND_PDF = """mutation($id: ID!, $to: [String!]) {
  sendPdfEmail(entityType: "INVOICE", entityId: $id, to: $to) { emailMessage { id status } error { code message } } }"""
MESSAGE = "query($id: ID!) { getEmailMessageById(id: $id) { emailMessage { status to } error { code } } }"


class Profile(Proxied):
    smtp: SmtpServer

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        status, _, payload = self.request("POST", "/graphql", body, {
            "Content-Type": "application/json", "Authorization": f"Bearer {self.token}"})
        assert status == 200 and not payload.get("errors"), payload
        return dict(payload["data"])


def _eventually(condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + 180  # generous: only a broken flow reaches it
    while not (value := condition()):
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.25)
    return value


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Profile]:
    reason = nginx_unavailable() or _postgres_unavailable_reason()
    if reason:
        pytest.skip(reason)
    tmp = tmp_path_factory.mktemp("profile")
    name = f"istmo_profile_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with SmtpServer() as smtp:
            env = _environment(tmp, ISTMO_DATABASE_URL=url, ISTMO_SMTP_URL=smtp.url(starttls="false"), ISTMO_PROXY_HOPS="1")
            for command in (("db", "upgrade"), ("tenants", "create", "acme", "--name", "Acme S.A.")):
                done = _istmo(*command, env=env)
                assert done.returncode == 0, done.stderr
            upstream, port = tmp / "gunicorn.sock", _free_port()
            nginx = nginx_command(tmp, port=port, upstream=f"unix:{upstream}")
            started = {
                "gunicorn": [sys.executable, "-m", "entrypoints.cli", "serve", "--unix-socket", str(upstream), "--workers", "1"],
                "worker": [sys.executable, "-m", "entrypoints.cli", "worker"],
            }
            for argv in started.values():
                processes.append(subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
            _wait_for(lambda: _unix(upstream), processes[0], "gunicorn")
            processes.append(subprocess.Popen(nginx, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
            _wait_for(lambda: socket.create_connection(("127.0.0.1", port), timeout=1), processes[-1], "nginx")
            token = HmacJwtVerifier(JWT_SECRET).issue(tenant="acme", subject="owner@acme.pa", role="owner", ttl_seconds=900)
            running = Profile(port, token)
            running.smtp = smtp
            yield running
    finally:
        for process in reversed(processes):
            _stop(process)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _unix(path: Path) -> socket.socket:
    client = socket.socket(socket.AF_UNIX)
    try:
        client.connect(str(path))
    except OSError:
        client.close()
        raise
    return client


def test_an_upload_through_a_variable_passes_the_proxy(profile: Profile) -> None:
    operations = json.dumps({"query": ADD_FILE, "variables": {"f": None, "name": "factura.pdf"}}).encode()
    body = multipart_body([("operations", None, operations), ("map", None, b'{"0": ["variables.f"]}'),
                           ("0", "factura.pdf", b"%PDF-1.4 factura de prueba")])
    status, _, payload = profile.request("POST", "/graphql", body, {
        "Content-Type": "multipart/form-data; boundary=istmo-boundary", "Authorization": f"Bearer {profile.token}",
        "GraphQL-Preflight": "1",
    })
    assert status == 200 and payload["data"]["addFile"]["error"] is None, payload
    assert payload["data"]["addFile"]["file"]["name"] == "factura.pdf"


def test_client_invoice_pdf_and_email_delivered_by_the_worker(profile: Profile) -> None:
    client = profile.graphql(CREATE_CLIENT, {"input": {
        "name": "Constructora Las Cumbres, S.A.", "taxpayerType": "JURIDICO", "ruc": "8-123-4567", "dv": "12",
        "address": "Calle 50, Obarrio"}})["createClient"]["client"]
    lines = [{"description": "Cemento gris 42.5 kg", "quantity": "10", "unitPrice": "8.50", "taxRate": 7}]
    invoice = profile.graphql(CREATE_INVOICE, {"input": {"clientId": client["id"], "lines": lines}})["createInvoice"]
    assert invoice["error"] is None, invoice
    rendered = profile.graphql(RENDER_INVOICE, {"invoiceId": invoice["invoice"]["id"]})["renderInvoicePdf"]
    assert rendered["error"] is None and rendered["file"]["mime"] == "application/pdf", rendered
    sent = profile.graphql(SEND_PDF, {"id": invoice["invoice"]["id"], "to": ["compras@cumbres.pa"]})["sendPdfEmail"]
    assert sent["error"] is None, sent

    [received] = _eventually(lambda: profile.smtp.received, "the worker delivered the e-mail")
    assert received.rcpt_tos == ["compras@cumbres.pa"]
    [attachment] = list(email.message_from_bytes(received.data, policy=email.policy.default).iter_attachments())
    assert attachment.get_content_type() == "application/pdf" and attachment.get_content().startswith(b"%PDF-")
    message_id = sent["emailMessage"]["id"]
    _eventually(lambda: profile.graphql(MESSAGE, {"id": message_id})["getEmailMessageById"]["emailMessage"]["status"] == "SENT",
                "the message marked SENT")


def test_a_signed_webhook_is_stored_once(profile: Profile) -> None:
    body = b'{"type":"order.created","timestamp":"2026-12-01T10:00:00Z","data":{}}'
    headers = polar_headers(POLAR_SECRET, body, msg_id="profile-1")
    first = profile.request("POST", "/webhooks/polar", body, headers)
    again = profile.request("POST", "/webhooks/polar", body, headers)
    assert (first[0], first[2]["duplicate"], again[0], again[2]["duplicate"]) == (200, False, 200, True)
    assert first[2]["id"] == again[2]["id"]
