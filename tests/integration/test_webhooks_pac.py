"""POST /webhooks/pac/{company_id} end to end on SQLite and PostgreSQL, with Alanube played by
``tests/providers/server.py``: verification (shared secret, HMAC mode), the legal status applied
through the inbox, the document fetched and its PDF kept once (webhook, retry and poller racing),
unknown companies and documents, bad content, failures retried until DEAD and replayed."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from adapters.db.files.tables import file_entities, files
from adapters.db.invoicing.tables import invoices, pac_settings
from adapters.db.jobs.tables import jobs
from application.invoicing.commands import CreateInvoice
from application.webhooks.commands import ReplayWebhookEvent
from application.invoicing.pac import SyncPacDocument, pac_actor
from application.invoicing.pac_settings import ConfigurePac
from domain.invoicing.lines import LineInput
from domain.tenancy.model import Actor, Role
from tests.conftest import Service
from tests.integration.api import blobs, data
from tests.integration.webhooks_helpers import count, events, make_jobs_due, process_jobs, run_jobs
from tests.providers.server import ProviderServer, Recorded, Reply, provider_server  # noqa: F401 - fixture

PDF = b"%PDF-1.7\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
XML = b'<?xml version="1.0" encoding="UTF-8"?>\n<rFE xmlns="http://dgi-fep.mef.gob.pa"><dVerForm>1.00</dVerForm></rFE>\n'
SECRET = "alanube-shared-secret"
API_KEY = "alanube-api-key-123"


class Alanube:
    """The PAC as the tests play it: each document's state, its PDF, and faults on demand."""

    def __init__(self, server: ProviderServer) -> None:
        self.server = server
        self.documents: dict[str, dict[str, Any]] = {}
        self.failures = 0
        server.route("GET", r"/pan/v1/(?:invoices|credit-notes)/(?P<id>[^/]+)", self._document)
        server.route("GET", r"/pdf/(?P<id>[^/]+)\.pdf", self._pdf)
        server.route("GET", r"/xml/(?P<id>[^/]+)\.xml", self._xml)

    def authorise(self, document_id: str, status: str = "PAC_AUTHORIZED") -> None:
        self.documents[document_id] = {
            "id": document_id, "legalStatus": status, "cufe": f"FE-{document_id}",
            "pdf": f"{self.server.url}/pdf/{document_id}.pdf?X-Amz-Signature=short-lived",
            "xml": f"{self.server.url}/xml/{document_id}.xml",
            "qr": f"https://dgi-fep.mef.gob.pa/Consultas/FacturasPorQR?chFE=FE-{document_id}",
            "authorizationProtocol": f"P-{document_id}", "authorizationDate": "2026-12-01T10:00:05-05:00",
        }

    def _document(self, request: Recorded) -> Reply:
        if self.failures > 0:
            self.failures -= 1
            return Reply.json({"error": "maintenance"}, status=503)
        if request.header("Authorization") != f"Bearer {API_KEY}":
            return Reply.json({"error": "unauthorized"}, status=401)
        document = self.documents.get(request.path.rsplit("/", 1)[-1])
        if document is None:
            return Reply.json({"error": "not found"}, status=404)
        return Reply.json({"document": document})

    def _pdf(self, request: Recorded) -> Reply:
        return Reply(200, PDF, {"Content-Type": "application/pdf"})

    def _xml(self, request: Recorded) -> Reply:
        return Reply(200, XML, {"Content-Type": "application/xml"})

    def fetches(self) -> list[Recorded]:
        """The documents asked for: invoices and credit notes."""
        return self.server.received("GET", r"/pan/v1/(?:invoices|credit-notes)/.+")


@pytest.fixture
def alanube(provider_server: ProviderServer) -> Alanube:
    return Alanube(provider_server)


@pytest.fixture
def pac(make_service: Callable[..., Service], provider_server: ProviderServer) -> Service:
    return make_service(pac_base_url=provider_server.url, job_max_attempts=3)


def admin(service: Service, slug: str = "acme") -> Actor:
    return Actor(tenant_id=service.tenant(slug), user_id=f"owner@{slug}", role=Role.OWNER)


def configure(service: Service, slug: str = "acme", company: str = "comp-1", **kw: Any) -> Actor:
    actor = admin(service, slug)
    fields = {"webhook_secret": SECRET, "api_key": API_KEY, **kw}
    service.container.bus().handle(ConfigurePac(actor=actor, company_id=company, **fields))
    return actor


def invoice(service: Service, actor: Actor, document_id: str) -> str:
    line = LineInput(description="Servicio", quantity="1", unit_price="100", tax_rate=7)
    return service.container.bus().handle(
        CreateInvoice(actor=actor, client_name="Consumidor final", lines=(line,), pac_document_id=document_id)
    ).id


def notify(service: Service, body: Any, *, company: str = "comp-1", signature: str | None = SECRET, **headers: str) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    if signature is not None:
        headers["X-Pac-Signature"] = signature
    return service.client.post(f"/webhooks/pac/{company}", data=raw, headers={"Content-Type": "application/json", **headers})


def invoice_row(service: Service, invoice_id: str) -> dict[str, Any]:
    with service.container.engine().connect() as connection:
        return dict(connection.execute(select(invoices).where(invoices.c.id == invoice_id)).mappings().one())


def kept_files(service: Service, entity_id: str, mime: str, entity_type: str = "INVOICE") -> list[dict[str, Any]]:
    """The files of this ``mime`` linked to the document (the PAC's PDF or XML)."""
    with service.container.engine().connect() as connection:
        rows = connection.execute(
            select(files.c.id, files.c.sha256, files.c.mime, files.c.status, files.c.name)
            .join(file_entities, file_entities.c.file_id == files.c.id)
            .where(
                file_entities.c.entity_type == entity_type, file_entities.c.entity_id == entity_id,
                files.c.mime == mime,
            )
        ).mappings()
        return [dict(row) for row in rows]


def pdf_files(service: Service, invoice_id: str) -> list[dict[str, Any]]:
    return kept_files(service, invoice_id, "application/pdf")


def xml_files(service: Service, invoice_id: str) -> list[dict[str, Any]]:
    return kept_files(service, invoice_id, "application/xml")


# --- the flow ------------------------------------------------------------------------------------


def test_an_authorisation_is_applied_its_document_fetched_and_its_pdf_kept(pac: Service, alanube: Alanube) -> None:
    acme = configure(pac)
    invoice_id = invoice(pac, acme, "doc-1")
    alanube.authorise("doc-1")
    response = notify(pac, {"id": "doc-1", "legalStatus": "PAC_AUTHORIZED", "cufe": "FE-doc-1"}, **{"X-User-Id": "u-77"})
    assert response.status_code == 200 and response.get_json()["duplicate"] is False
    [event] = events(pac)
    assert (event["provider"], event["provider_event_id"], event["tenant_id"]) == ("pac", "comp-1:doc-1:PAC_AUTHORIZED", acme.tenant_id)
    assert "x-pac-signature" not in event["headers"] and event["headers"]["x-user-id"] == "u-77"
    run_jobs(pac)
    [event] = events(pac)
    assert event["status"] == "PROCESSED", event["last_error"]
    row = invoice_row(pac, invoice_id)
    assert (row["legal_status"], row["cufe"], row["authorization_protocol"]) == ("PAC_AUTHORIZED", "FE-doc-1", "P-doc-1")
    assert row["qr_url"].startswith("https://dgi-fep.mef.gob.pa/")
    assert row["authorized_at"] == datetime(2026, 12, 1, 15, 0, 5, tzinfo=UTC)
    [fetch] = alanube.fetches()
    assert fetch.query == {"idCompany": "comp-1", "documents": "pdf"}
    assert fetch.header("Authorization") == f"Bearer {API_KEY}"
    [pdf] = pdf_files(pac, invoice_id)
    assert (pdf["sha256"], pdf["mime"], pdf["status"]) == (hashlib.sha256(PDF).hexdigest(), "application/pdf", "READY")
    [xml] = xml_files(pac, invoice_id)  # the DGI's signed XML, kept beside it
    assert (xml["sha256"], xml["status"], xml["name"]) == (hashlib.sha256(XML).hexdigest(), "READY", "Factura F-000001 (PAC).xml")

    alanube.authorise("doc-1", "DGI_AUTHORIZED")
    notify(pac, {"id": "doc-1", "legalStatus": "DGI_AUTHORIZED"})
    notify(pac, {"id": "doc-1", "legalStatus": "DGI_AUTHORIZED"})  # Alanube sends it twice
    run_jobs(pac)
    assert invoice_row(pac, invoice_id)["legal_status"] == "DGI_AUTHORIZED"
    assert len(events(pac)) == 2 and len(pdf_files(pac, invoice_id)) == 1 and len(blobs(pac)) == 2
    # a late PAC_AUTHORIZED replayed after DGI_AUTHORIZED changes nothing
    first = events(pac)[0]
    pac.container.bus().handle(ReplayWebhookEvent(actor=None, event_id=first["id"]))
    run_jobs(pac)
    assert invoice_row(pac, invoice_id)["legal_status"] == "DGI_AUTHORIZED"
    assert len(pdf_files(pac, invoice_id)) == 1 and count(pac, "files") == 2


def test_a_rejection_is_terminal_and_needs_no_document(pac: Service, alanube: Alanube) -> None:
    acme = configure(pac)
    invoice_id = invoice(pac, acme, "doc-2")
    notify(pac, {"id": "doc-2", "legalStatus": "PAC_REJECTED", "message": "RUC del receptor inválido"})
    run_jobs(pac)
    row = invoice_row(pac, invoice_id)
    assert (row["legal_status"], row["legal_message"]) == ("PAC_REJECTED", "RUC del receptor inválido")
    assert alanube.fetches() == [] and pdf_files(pac, invoice_id) == []
    alanube.authorise("doc-2")
    notify(pac, {"id": "doc-2", "legalStatus": "PAC_AUTHORIZED"})  # stale: a terminal state is never left
    run_jobs(pac)
    assert invoice_row(pac, invoice_id)["legal_status"] == "PAC_REJECTED"


def test_webhook_retry_and_poller_racing_leave_one_pdf(pac: Service, alanube: Alanube) -> None:
    acme = configure(pac)
    invoice_id = invoice(pac, acme, "doc-3")
    alanube.authorise("doc-3")
    bus = pac.container.bus()
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def sync(notice: str | None) -> None:
        try:
            barrier.wait()
            bus.handle(SyncPacDocument(actor=pac_actor(acme.tenant_id), document_id="doc-3", notice_status=notice))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=sync, args=(notice,)) for notice in ("PAC_AUTHORIZED", "PAC_AUTHORIZED", None, None)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(pdf_files(pac, invoice_id)) == 1 and len(xml_files(pac, invoice_id)) == 1
    assert count(pac, "files") == 2 and len(blobs(pac)) == 2
    assert invoice_row(pac, invoice_id)["legal_status"] == "PAC_AUTHORIZED"


def test_the_poller_asks_the_pac_about_invoices_still_waiting(pac: Service, alanube: Alanube) -> None:
    acme = configure(pac)
    waiting = invoice(pac, acme, "doc-4")
    fresh = invoice(pac, acme, "doc-5")
    done = invoice(pac, acme, "doc-6")
    with pac.container.engine().begin() as connection:
        old = datetime.now(UTC) - timedelta(hours=1)
        connection.execute(update(invoices).where(invoices.c.id.in_([waiting, done])).values(created_at=old))
        connection.execute(update(invoices).where(invoices.c.id == done).values(legal_status="DGI_AUTHORIZED"))
    alanube.authorise("doc-4", "DGI_AUTHORIZED")
    from application.invoicing.pac import QueueStalePacDocuments

    assert pac.container.bus().handle(QueueStalePacDocuments(actor=None, slot="s1")) == 1
    assert pac.container.bus().handle(QueueStalePacDocuments(actor=None, slot="s1")) == 1  # same slot: one job
    with pac.container.engine().connect() as connection:
        sync_jobs = connection.execute(select(jobs).where(jobs.c.kind == "pac.sync")).mappings().all()
    assert len(sync_jobs) == 1 and sync_jobs[0]["payload"] == {"document_id": "doc-4"}
    run_jobs(pac)
    assert invoice_row(pac, waiting)["legal_status"] == "DGI_AUTHORIZED"
    assert len(pdf_files(pac, waiting)) == 1
    assert invoice_row(pac, fresh)["legal_status"] == "NONE"  # not waiting long enough yet
    # the scheduled pac.poll of this slot may have asked again: only ever about doc-4
    assert {r.path for r in alanube.fetches()} == {"/pan/v1/invoices/doc-4"}


# --- verification ----------------------------------------------------------------------------------


def _hmac(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_the_shared_secret_matrix(pac: Service, alanube: Alanube) -> None:
    configure(pac)
    body = json.dumps({"id": "doc-x", "legalStatus": "PAC_AUTHORIZED"}).encode()
    cases = [
        ("valid", SECRET, 200), ("wrong secret", "not-the-secret", 401), ("secret with a suffix", SECRET + "x", 401),
        ("missing header", None, 401), ("empty header", "", 401), ("an HMAC where the secret is expected", _hmac(body), 401),
    ]
    for case, signature, status in cases:
        before = count(pac, "webhook_events")
        response = notify(pac, body, signature=signature)
        assert response.status_code == status, (case, response.get_json())
        assert count(pac, "webhook_events") == before + (1 if status == 200 else 0), case
        if status == 401:
            assert response.get_json()["error"]["code"] == "INVALID_SIGNATURE"


def test_the_hmac_mode_matrix(pac: Service, alanube: Alanube) -> None:
    configure(pac, signature_mode="HMAC")
    body = json.dumps({"id": "doc-y", "legalStatus": "PAC_AUTHORIZED"}).encode()
    cases = [
        ("valid", _hmac(body), body, 200),
        ("tampered body", _hmac(body), body.replace(b"doc-y", b"doc-w"), 401),
        ("wrong secret", _hmac(body, "other"), body, 401),
        ("the bare secret", SECRET, body, 401),
        ("malformed header", "zz-not-hex", body, 401),
        ("missing header", None, body, 401),
    ]
    for case, signature, sent, status in cases:
        before = count(pac, "webhook_events")
        response = notify(pac, sent, signature=signature)
        assert response.status_code == status, (case, response.get_json())
        assert count(pac, "webhook_events") == before + (1 if status == 200 else 0), case
    prefixed = json.dumps({"id": "doc-z", "legalStatus": "PAC_REJECTED"}).encode()
    assert notify(pac, prefixed, signature="sha256=" + _hmac(prefixed).upper()).status_code == 200


def test_the_secret_is_sealed_at_rest(pac: Service) -> None:
    configure(pac)
    with pac.container.engine().connect() as connection:
        row = connection.execute(select(pac_settings)).mappings().one()
    assert SECRET not in json.dumps({k: str(v) for k, v in row.items()})
    assert API_KEY not in json.dumps({k: str(v) for k, v in row.items()})
    assert row["webhook_secret_sealed"] and row["api_key_sealed"]


# --- bad input ------------------------------------------------------------------------------------


def test_an_unknown_company_is_404_without_an_instance_secret_and_stored_unmatched_with_one(
    make_service: Callable[..., Service], provider_server: ProviderServer
) -> None:
    plain = make_service(pac_base_url=provider_server.url)
    response = notify(plain, {"id": "d", "legalStatus": "PAC_AUTHORIZED"}, company="nobody")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "UNKNOWN_PAC_COMPANY"
    assert count(plain, "webhook_events") == 0
    instance = make_service(pac_base_url=provider_server.url, pac_webhook_secret="instance-secret")
    assert notify(instance, {"id": "d", "legalStatus": "PAC_AUTHORIZED"}, company="nobody", signature="wrong").status_code == 401
    ok = notify(instance, {"id": "d", "legalStatus": "PAC_AUTHORIZED"}, company="nobody", signature="instance-secret")
    assert ok.status_code == 200
    run_jobs(instance)
    [event] = events(instance)
    assert event["status"] == "UNMATCHED" and "nobody" in event["last_error"] and event["tenant_id"] is None


def test_an_unknown_document_is_unmatched_and_replayed_once_the_invoice_exists(pac: Service, alanube: Alanube) -> None:
    acme = configure(pac)
    assert notify(pac, {"id": "doc-later", "legalStatus": "PAC_AUTHORIZED"}).status_code == 200
    run_jobs(pac)
    [event] = events(pac)
    assert event["status"] == "UNMATCHED" and "doc-later" in event["last_error"]
    invoice_id = invoice(pac, acme, "doc-later")
    alanube.authorise("doc-later")
    headers = pac.headers("acme")
    replay = data(pac, 'mutation($id: ID!) { replayWebhookEvent(id: $id) { event { status } error { code } } }', {"id": event["id"]}, headers=headers)
    assert replay["replayWebhookEvent"] == {"event": {"status": "RECEIVED"}, "error": None}
    run_jobs(pac)
    assert invoice_row(pac, invoice_id)["legal_status"] == "PAC_AUTHORIZED" and len(pdf_files(pac, invoice_id)) == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"", "not JSON"), (b"<xml/>", "not JSON"), (b'{"legalStatus": "PAC_AUTHORIZED"}', "id is missing"),
     (b'{"id": "doc-1"}', "legalStatus is missing"), (b'{"id": "doc-1", "legalStatus": "MAYBE"}', "legalStatus")],
    ids=["empty", "not-json", "no-id", "no-status", "unknown-status"],
)
def test_a_signed_notice_that_cannot_be_processed_is_kept_failed(pac: Service, body: bytes, reason: str) -> None:
    configure(pac)
    assert notify(pac, body).status_code == 200
    run_jobs(pac)
    [event] = events(pac)
    assert event["status"] == "FAILED" and reason in event["last_error"], event["last_error"]
    assert bytes(event["body"]) == body


def test_a_huge_notice_is_413(make_service: Callable[..., Service], provider_server: ProviderServer) -> None:
    service = make_service(pac_base_url=provider_server.url, webhook_max_bytes=512)
    configure(service)
    assert notify(service, {"id": "d", "legalStatus": "PAC_AUTHORIZED", "pad": "x" * 1000}).status_code == 413
    assert count(service, "webhook_events") == 0


def test_the_pac_down_is_retried_then_dead_then_replayed(pac: Service, alanube: Alanube) -> None:
    acme = configure(pac)
    invoice_id = invoice(pac, acme, "doc-7")
    alanube.authorise("doc-7")
    alanube.failures = 3  # every attempt of the job (ISTMO_JOB_MAX_ATTEMPTS=3)
    notify(pac, {"id": "doc-7", "legalStatus": "PAC_AUTHORIZED"})
    for _ in range(3):
        run_jobs(pac)
        make_jobs_due(pac)
    [event] = events(pac)
    assert (event["status"], event["attempts"]) == ("DEAD", 3) and "HTTP 503" in event["last_error"]
    assert invoice_row(pac, invoice_id)["legal_status"] == "PAC_AUTHORIZED"  # the notice itself was applied
    assert pdf_files(pac, invoice_id) == []
    pac.container.bus().handle(ReplayWebhookEvent(actor=None, event_id=event["id"]))
    run_jobs(pac)
    [event] = events(pac)
    assert event["status"] == "PROCESSED" and len(pdf_files(pac, invoice_id)) == 1
    assert [job["status"] for job in process_jobs(pac)].count("SUCCEEDED") == 1


def test_sending_the_authorised_invoice_is_queued_once_and_dispatched(pac: Service, alanube: Alanube) -> None:
    from dependency_injector import providers

    from application.invoice_delivery.module import send_job
    from application.invoicing.pac import SEND_JOB

    sent: list[tuple[str, str]] = []
    container = pac.container
    handlers = dict(container.job_handlers())
    handlers[SEND_JOB] = send_job(lambda actor, invoice_id: sent.append((actor.tenant_id, invoice_id)))
    container.job_handlers.override(providers.Object(handlers))
    acme = configure(pac, send_authorized_invoice=True)
    invoice_id = invoice(pac, acme, "doc-8")
    other = invoice(pac, acme, "doc-9")
    alanube.authorise("doc-8", "DGI_AUTHORIZED")
    notify(pac, {"id": "doc-8", "legalStatus": "PAC_AUTHORIZED"})
    notify(pac, {"id": "doc-8", "legalStatus": "DGI_AUTHORIZED"})
    notify(pac, {"id": "doc-9", "legalStatus": "PAC_REJECTED"})
    run_jobs(pac)
    sends = container.job_queue().find(kind="pac.send_authorized_invoice")
    assert len(sends) == 1 and sends[0].tenant_id == acme.tenant_id and sends[0].payload == {"invoice_id": invoice_id}
    assert sent == []  # it waits 30 s, so the PAC's PDF is kept first
    make_jobs_due(pac)
    run_jobs(pac)
    assert sent == [(acme.tenant_id, invoice_id)] and other not in {i for _, i in sent}
    assert container.job_queue().get(sends[0].id).status.value == "SUCCEEDED"


def test_without_the_setting_nothing_is_sent(pac: Service, alanube: Alanube) -> None:
    acme = configure(pac)
    invoice(pac, acme, "doc-10")
    alanube.authorise("doc-10")
    notify(pac, {"id": "doc-10", "legalStatus": "PAC_AUTHORIZED"})
    run_jobs(pac)
    assert pac.container.job_queue().find(kind="pac.send_authorized_invoice") == []


def test_the_default_sender_dispatches_send_invoice_to_the_default_channel() -> None:
    from application.invoice_delivery.module import send_invoice_through
    from application.invoice_delivery.sending import SendInvoice

    class Bus:
        messages: list[object] = []

        def handle(self, message: object) -> None:
            self.messages.append(message)

    bus = Bus()
    send_invoice_through(bus)(pac_actor("00000000-0000-0000-0000-000000000001"), "inv-1")  # type: ignore[arg-type]
    [message] = bus.messages
    assert isinstance(message, SendInvoice) and message.invoice_id == "inv-1" and message.channel is None


# --- GraphQL ---------------------------------------------------------------------------------------

CONFIGURE = """
mutation($input: PacSettingsInput!) {
  configurePac(input: $input) { settings { companyId signatureMode hasWebhookSecret hasApiKey sendAuthorizedInvoice } error { code field } }
}
"""
SETTINGS = "{ pacSettings { settings { companyId signatureMode hasWebhookSecret hasApiKey } error { code field } } }"


def test_owners_configure_the_pac_through_graphql_and_secrets_are_write_only(pac: Service) -> None:
    headers = pac.headers("acme")
    empty = data(pac, SETTINGS, headers=headers)["pacSettings"]
    assert empty["settings"] is None and empty["error"]["code"] == "NOT_FOUND"
    made = data(pac, CONFIGURE, {"input": {"companyId": "comp-9", "webhookSecret": "s3", "signatureMode": "hmac"}}, headers=headers)
    assert made["configurePac"] == {"settings": {"companyId": "comp-9", "signatureMode": "HMAC", "hasWebhookSecret": True,
                                                 "hasApiKey": False, "sendAuthorizedInvoice": False}, "error": None}
    kept = data(pac, CONFIGURE, {"input": {"companyId": "comp-9", "apiKey": "k"}}, headers=headers)["configurePac"]
    assert kept["settings"]["hasWebhookSecret"] is True and kept["settings"]["hasApiKey"] is True
    assert kept["settings"]["signatureMode"] == "SECRET"
    assert data(pac, SETTINGS, headers=headers)["pacSettings"]["settings"]["companyId"] == "comp-9"
    for variables, code, field in (
        ({"companyId": "bad id!"}, "INVALID_INPUT", "companyId"),
        ({"companyId": "comp-9", "signatureMode": "RSA"}, "INVALID_INPUT", "signatureMode"),
        ({"companyId": "comp-9", "signatureMode": "HMAC", "webhookSecret": ""}, "INVALID_INPUT", "webhookSecret"),
    ):
        refused = data(pac, CONFIGURE, {"input": variables}, headers=headers)["configurePac"]
        assert (refused["error"]["code"], refused["error"]["field"]) == (code, field)
    taken = data(pac, CONFIGURE, {"input": {"companyId": "comp-9"}}, headers=pac.headers("globex"))["configurePac"]
    assert taken["error"]["code"] == "CONFLICT"
    member = data(pac, CONFIGURE, {"input": {"companyId": "comp-10"}}, headers=pac.headers("acme", role="member"))["configurePac"]
    assert member["error"]["code"] == "PERMISSION_DENIED"
    assert data(pac, SETTINGS, headers=headers)["pacSettings"]["settings"]["companyId"] == "comp-9"


def test_istmo_secrets_rotate_reseals_the_pac_secrets(pac: Service) -> None:
    from cryptography.fernet import Fernet

    from adapters.db.secrets import SEALED_COLUMNS, rotate_sealed_columns
    from adapters.secrets.fernet import FernetSecretBox
    from domain.invoicing.pac import api_key_context, webhook_secret_context

    acme = configure(pac)
    old_keys = list(pac.container.settings().secret_keys)
    new_key = Fernet.generate_key().decode()
    columns = [c for c in SEALED_COLUMNS if c.table.name == "pac_settings"]
    assert {c.sealed_column for c in columns} == {"webhook_secret_sealed", "api_key_sealed"}
    report = rotate_sealed_columns(pac.container.engine(), FernetSecretBox([new_key, *old_keys]), columns)
    assert report.resealed == {"pac_settings.webhook_secret_sealed": 1, "pac_settings.api_key_sealed": 1}
    with pac.container.engine().connect() as connection:
        row = connection.execute(select(pac_settings)).mappings().one()
    only_new = FernetSecretBox([new_key])
    assert only_new.open(row["webhook_secret_sealed"], context=webhook_secret_context(acme.tenant_id)) == SECRET
    assert only_new.open(row["api_key_sealed"], context=api_key_context(acme.tenant_id)) == API_KEY
