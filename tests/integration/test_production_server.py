"""The service as production runs it: ``istmo serve`` (gunicorn) with ``ISTMO_ENV=production`` read
from the environment, over HTTP. Variables, uploads, the cost and mutation limits, masked
suggestions and a signed webhook; and a production start refused for a short secret."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.auth.jwt import HmacJwtVerifier
from tests.conftest import TEST_SECRET_KEY
from tests.integration.api import ADD_FILE, multipart_body
from tests.webhook_signing import polar_headers

# The module's production stack (its own database, gunicorn, worker...) is built once: its tests run on one xdist worker.
pytestmark = pytest.mark.xdist_group("production-server")

ROOT = Path(__file__).resolve().parents[2]
JWT_SECRET = "production-jwt-secret-of-forty-characters!"
POLAR_SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
UUID = "00000000-0000-4000-8000-000000000000"
QBO_VERIFIER = "production-qbo-verifier-token"


def _environment(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ISTMO_")}
    env.update(
        ISTMO_ENV="production", ISTMO_DATA_DIR=str(data_dir), ISTMO_DATABASE_URL=f"sqlite:///{data_dir / 'istmo.db'}",
        ISTMO_JWT_SECRET=JWT_SECRET, ISTMO_SIGNING_SECRET="s" * 40, ISTMO_SECRET_KEYS=TEST_SECRET_KEY,
        ISTMO_POLAR_WEBHOOK_SECRET=POLAR_SECRET, ISTMO_LOG_LEVEL="WARNING", ISTMO_PDF_PROCESSES="1",
        ISTMO_QBO_WEBHOOK_VERIFIER=QBO_VERIFIER,
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    )
    env.update(extra)
    return env


def _sealing_identity(data_dir: Path) -> dict[str, str]:
    """Production seals signed documents only with a configured certificate (ISTMO_SIGNING_CERT/KEY)."""
    from adapters.signing.certificate import self_signed_identity

    identity = self_signed_identity("Istmo production test sealing")
    (data_dir / "seal-cert.pem").write_bytes(identity.cert_pem)
    (data_dir / "seal-key.pem").write_bytes(identity.key_pem)
    return {"ISTMO_SIGNING_CERT": str(data_dir / "seal-cert.pem"), "ISTMO_SIGNING_KEY": str(data_dir / "seal-key.pem")}


def _istmo(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "entrypoints.cli", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    def __init__(self, port: int, token: str, env: dict[str, str] | None = None) -> None:
        self.port, self.token, self.env = port, token, env or {}

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, json.loads(response.read() or b"{}")
        finally:
            connection.close()

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        return self.post("/graphql", body, {"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"})


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("production")
    env = _environment(data_dir, **_sealing_identity(data_dir))
    for command in (("db", "upgrade"), ("tenants", "create", "acme", "--name", "Acme S.A.")):
        done = _istmo(*command, env=env)
        assert done.returncode == 0, done.stderr
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "entrypoints.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the production server did not start"
                time.sleep(0.2)
        token = HmacJwtVerifier(JWT_SECRET).issue(tenant="acme", subject="owner@acme.pa", role="owner", ttl_seconds=600)
        yield Server(port, token, env)
    finally:
        process.terminate()
        process.wait(30)


def test_operations_with_variables_run(server: Server) -> None:
    status, payload = server.graphql("query($i: ID!) { getInvoiceById(id: $i) { error { code } } }", {"i": UUID})
    assert (status, payload) == (200, {"data": {"getInvoiceById": {"error": {"code": "NOT_FOUND"}}}})


def test_an_upload_through_a_variable_is_kept(server: Server) -> None:
    operations = json.dumps({"query": ADD_FILE, "variables": {"f": None, "name": "factura.pdf"}}).encode()
    body = multipart_body([("operations", None, operations), ("map", None, b'{"0": ["variables.f"]}'),
                           ("0", "factura.pdf", b"%PDF-1.4 factura de prueba")])
    status, payload = server.post("/graphql", body, {
        "Content-Type": "multipart/form-data; boundary=istmo-boundary", "Authorization": f"Bearer {server.token}",
        "GraphQL-Preflight": "1",
    })
    assert status == 200 and payload["data"]["addFile"]["error"] is None, payload
    assert payload["data"]["addFile"]["file"]["name"] == "factura.pdf"


def test_costs_and_the_mutation_cap_apply(server: Server) -> None:
    renders = " ".join(f'r{i}: renderInvoicePdf(invoiceId: "{UUID}") {{ error {{ code }} }}' for i in range(10))
    status, payload = server.graphql(f"mutation {{ {renders} }}")
    assert status == 400 and "exceeds the maximum cost of 5000" in payload["errors"][0]["message"], payload
    deletes = " ".join(f'd{i}: deleteFile(id: "{UUID}") {{ error {{ code }} }}' for i in range(21))
    status, payload = server.graphql(f"mutation {{ {deletes} }}")
    assert status == 400 and payload["errors"][0]["message"].startswith("a request may run at most 20 mutations")


def test_an_unknown_field_suggests_nothing(server: Server) -> None:
    status, payload = server.graphql("{ me { tenantIdd } }")
    assert status == 400 and "Did you mean" not in json.dumps(payload), payload


def test_a_signed_webhook_is_stored(server: Server) -> None:
    body = b'{"type":"order.created","timestamp":"2026-12-01T10:00:00Z","data":{}}'
    status, payload = server.post("/webhooks/polar", body, polar_headers(POLAR_SECRET, body, msg_id="prod-1"))
    assert status == 200 and payload["received"] is True and payload["duplicate"] is False, payload


def test_a_signed_quickbooks_notification_is_stored_and_the_connection_read(server: Server) -> None:
    from adapters.webhooks.quickbooks import sign

    body = b'[{"specversion":"1.0","id":"prod-qbo-1","type":"qbo.invoice.updated.v1","intuitaccountid":"1","data":{}}]'
    status, payload = server.post("/webhooks/quickbooks", body, {"intuit-signature": sign(QBO_VERIFIER, body)})
    assert status == 200 and payload["received"] is True, payload
    status, payload = server.post("/webhooks/quickbooks", body, {"intuit-signature": sign("forged", body)})
    assert status == 401, payload
    status, payload = server.graphql("{ getQuickbooksConnection { connection { status } error { code } } }")
    assert (status, payload) == (200, {"data": {"getQuickbooksConnection": {"connection": None, "error": None}}})
def test_the_fiscal_profile_and_a_credit_note_in_production(server: Server) -> None:
    """Issue 18's main path under gunicorn: the profile, an invoice, a credit note that reduces it."""
    status, payload = server.graphql(
        "mutation($p: TenantProfileInput!) { updateTenantProfile(input: $p) { profile { ruc } error { code } } }",
        {"p": {"legalName": "Acme, S.A.", "taxpayerType": "JURIDICO", "ruc": "155612345-2-2021", "dv": "45",
               "address": "Calle 50"}},
    )
    assert status == 200 and payload["data"]["updateTenantProfile"] == {"profile": {"ruc": "155612345-2-2021"}, "error": None}
    status, payload = server.graphql(
        "mutation($i: CreateInvoiceInput!) { createInvoice(input: $i) { invoice { id } error { code } } }",
        {"i": {"clientName": "Consumidor final", "lines": [{"description": "x", "quantity": "1", "unitPrice": "100", "taxRate": 7}]}},
    )
    invoice_id = payload["data"]["createInvoice"]["invoice"]["id"]
    status, payload = server.graphql(
        "mutation($c: CreateCreditNoteInput!) { createCreditNote(input: $c) { creditNote { number total } invoice { balance } error { code } } }",
        {"c": {"invoiceId": invoice_id, "reason": "Anulación", "full": True}},
    )
    assert status == 200 and payload["data"]["createCreditNote"] == {
        "creditNote": {"number": "NC-000001", "total": "107.00"}, "invoice": {"balance": "0.00"}, "error": None,
    }, payload


def test_production_refuses_to_start_with_a_short_secret(tmp_path: Path) -> None:
    refused = _istmo("db", "upgrade", env=_environment(tmp_path, ISTMO_SIGNING_SECRET="bench-signing-secret"))
    assert refused.returncode != 0
    assert "ISTMO_SIGNING_SECRET must be at least 32 characters in production (it has 20)" in refused.stderr
    assert "bench-signing-secret" not in refused.stderr


def test_a_statement_uploaded_with_ingest_is_imported_by_a_production_worker(server: Server) -> None:
    from decimal import Decimal

    from tests.intake_documents import camt053, lines, total

    items = lines(3)
    statement = camt053(items, opening=Decimal("10.00"), closing=Decimal("10.00") + total(items))
    query = "mutation($f: Upload!) { addFile(file: $f, ingest: true) { intake { id status } error { code } } }"
    operations = json.dumps({"query": query, "variables": {"f": None}}).encode()
    body = multipart_body([("operations", None, operations), ("map", None, b'{"0": ["variables.f"]}'),
                           ("0", "extracto.xml", statement)])
    status, payload = server.post("/graphql", body, {
        "Content-Type": "multipart/form-data; boundary=istmo-boundary", "Authorization": f"Bearer {server.token}",
        "GraphQL-Preflight": "1",
    })
    assert status == 200 and payload["data"]["addFile"]["intake"]["status"] == "PENDING", payload
    intake_id = payload["data"]["addFile"]["intake"]["id"]
    worker = subprocess.Popen(
        [sys.executable, "-m", "entrypoints.cli", "worker", "--concurrency", "1"],
        env=server.env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            _, answer = server.graphql(
                "query($i: ID!) { getDocumentIntakeById(id: $i) { intake { status strategy } } }", {"i": intake_id}
            )
            intake = answer["data"]["getDocumentIntakeById"]["intake"]
            if intake["status"] != "PENDING" or time.monotonic() > deadline:
                break
            time.sleep(0.3)
    finally:
        worker.terminate()
        worker.wait(30)
    assert intake == {"status": "PARSED", "strategy": "camt.053"}
def test_a_pdf_is_signed_sealed_verified_and_its_signing_page_served(server: Server) -> None:
    import io

    from pypdf import PdfWriter

    from tests.integration.signatures_support import ADD_SIGNATURE, SEND_EMAIL, VERIFY_DOCUMENT, png

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    pdf = io.BytesIO()
    writer.write(pdf)
    headers = {"Content-Type": "multipart/form-data; boundary=istmo-boundary", "Authorization": f"Bearer {server.token}",
               "GraphQL-Preflight": "1"}

    def multipart(query: str, variables: dict[str, Any], name: str, content: bytes) -> dict[str, Any]:
        operations = json.dumps({"query": query, "variables": {**variables, "f": None}}).encode()
        body = multipart_body([("operations", None, operations), ("map", None, b'{"0": ["variables.f"]}'),
                               ("0", name, content)])
        status, payload = server.post("/graphql", body, headers)
        assert status == 200, payload
        return payload["data"]

    file_id = multipart(ADD_FILE, {"name": "contrato.pdf"}, "contrato.pdf", pdf.getvalue())["addFile"]["file"]["id"]
    entity = {"entityType": "FILE", "entityId": file_id}
    signed = multipart(ADD_SIGNATURE, {"entity": entity}, "firma.png", png())["addSignature"]
    assert signed["error"] is None and signed["signature"]["status"] == "VALID", signed
    status, payload = server.graphql(
        "mutation($e: SignedEntityInput!) { sealSignedDocument(entity: $e) { file { id } error { code message } } }",
        {"e": entity},
    )
    sealed = payload["data"]["sealSignedDocument"]
    assert status == 200 and sealed["error"] is None, payload
    status, payload = server.graphql(VERIFY_DOCUMENT, {"fileId": sealed["file"]["id"]})
    verification = payload["data"]["verifySignedDocument"]["verification"]
    assert (verification["status"], verification["tenantDocument"]) == ("VALID", True), payload
    status, payload = server.graphql(SEND_EMAIL, {"entity": entity, "email": "cliente@cumbres.com.pa", "name": "María"})
    link = payload["data"]["sendSignatureApprovalEmail"]["link"]
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request("GET", "/sign/" + link.rsplit("/", 1)[1])
        response = connection.getresponse()
        page = response.read().decode()
        assert response.status == 200 and "María" in page
        assert "frame-ancestors 'none'" in (response.getheader("Content-Security-Policy") or "")
    finally:
        connection.close()
def test_a_chat_message_costs_a_model_turn_and_the_stream_route_answers(server: Server) -> None:
    sends = " ".join(f'c{i}: sendChatMessage(message: "hola") {{ error {{ code }} }}' for i in range(11))
    status, payload = server.graphql(f"mutation {{ {sends} }}")
    assert status == 400 and "exceeds the maximum cost of 5000" in payload["errors"][0]["message"], payload
    status, payload = server.graphql('mutation { sendChatMessage(message: "hola") { error { code } } }')
    assert status == 200 and payload["data"]["sendChatMessage"]["error"]["code"] == "PROVIDER_NOT_CONFIGURED"
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {server.token}"}
    status, payload = server.post(f"/chats/{UUID}/stream", json.dumps({"message": "hola"}).encode(), headers)
    assert status == 404 and payload["error"]["code"] == "NOT_FOUND"
