"""What the signatures tests share: the service with a warm renderer, a fake clock and a sealer
under a test certificate; invoices to sign; PNG images; GraphQL helpers; pyHanko's own check."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from dependency_injector import providers
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import text

from adapters.signing.certificate import SealingIdentity, self_signed_identity
from adapters.signing.pyhanko_sealer import PyHankoDocumentSealer
from entrypoints.config import Variables
from tests.fakes.clock import FakeClock
from tests.integration.api import data, gql, upload

START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ERROR = "error { code message field }"
SIGNATURE = """id entityType entityId status documentFileId documentSha256 imageFileId typedName signerUserId
  signerName signerEmail reason requestId signedAt revokedAt revokedBy revokeReason"""
REQUEST = """id entityType entityId documentSha256 documentName channel recipientName recipientEmail recipientPhone
  status createdAt expiresAt closedAt declineReason signatureId outboundMessageId"""

ADD_SIGNATURE = f"""mutation($entity: SignedEntityInput!, $f: Upload, $imageFileId: ID, $signerName: String, $reason: String) {{
  addSignature(entity: $entity, image: $f, imageFileId: $imageFileId, signerName: $signerName, reason: $reason) {{
    signature {{ {SIGNATURE} }} {ERROR} }} }}"""
REMOVE_SIGNATURE = f"""mutation($id: ID!, $reason: String!) {{
  removeSignature(id: $id, reason: $reason) {{ signature {{ {SIGNATURE} }} {ERROR} }} }}"""
FOR_ENTITY = f"""query($t: String!, $i: String!) {{ getSignaturesForEntity(entityType: $t, entityId: $i) {{
  signatures {{ {SIGNATURE} }} currentSha256 sealedFile {{ id name sha256 }} {ERROR} }} }}"""
BY_ID = f"query($id: ID!) {{ getSignatureById(id: $id) {{ signature {{ {SIGNATURE} }} {ERROR} }} }}"
SEND_EMAIL = f"""mutation($entity: SignedEntityInput!, $email: String!, $name: String!, $message: String, $expiresIn: Int) {{
  sendSignatureApprovalEmail(entity: $entity, recipientEmail: $email, recipientName: $name, message: $message,
    expiresIn: $expiresIn) {{ signatureRequest {{ {REQUEST} }} link {ERROR} }} }}"""
SEND_WHATSAPP = f"""mutation($entity: SignedEntityInput!, $phone: String!, $recipient: String!, $template: String) {{
  sendSignatureApprovalWhatsapp(entity: $entity, recipientPhone: $phone, recipientName: $recipient, template: $template) {{
    signatureRequest {{ {REQUEST} }} link {ERROR} }} }}"""
CANCEL = f"mutation($id: ID!) {{ cancelSignatureRequest(id: $id) {{ signatureRequest {{ {REQUEST} }} {ERROR} }} }}"
REQUESTS = f"query($status: String) {{ signatureRequests(status: $status) {{ signatureRequests {{ {REQUEST} }} {ERROR} }} }}"
VERIFY_CHAIN = f"""query {{ verifySignatureAuditChain {{ check {{ intact entries headHash firstBadSeq firstBadId problem }}
  {ERROR} }} }}"""
VERIFY_DOCUMENT = f"""query($f: Upload, $fileId: ID) {{ verifySignedDocument(file: $f, fileId: $fileId) {{
  verification {{ status intact trusted reason sealedBy sealedAt timestampedAt sha256 tenantDocument entityType entityId
    events {{ seq event actor ip userAgent occurredAt documentSha256 }} }} {ERROR} }} }}"""
CREATE_CLIENT = "mutation($input: ClientInput!) { createClient(input: $input) { client { id name } error { code } } }"
UPDATE_CLIENT = "mutation($id: ID!, $input: ClientInput!) { updateClient(id: $id, input: $input) { client { id } error { code } } }"
CREATE_INVOICE = """mutation($input: CreateInvoiceInput!) {
  createInvoice(input: $input) { invoice { id number } error { code message } } }"""
RENDER_INVOICE = "mutation($id: ID!) { renderInvoicePdf(invoiceId: $id) { file { id sha256 } error { code } } }"
CLIENT = {"name": "Constructora Las Cumbres, S.A.", "taxpayerType": "JURIDICO", "ruc": "8-123-4567", "dv": "12",
          "address": "Calle 50, Obarrio"}


def png(width: int = 120, height: int = 40) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    raw = b"".join(b"\x00" + b"\x10\x30\x90" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def padded_png(size: int) -> bytes:
    """A valid PNG of exactly ``size`` bytes (a private ancillary chunk pads it)."""
    base = png(4, 4)
    pad = size - len(base) - 12
    assert pad >= 0
    body = b"\0" * pad
    chunk = struct.pack(">I", pad) + b"ruSt" + body + struct.pack(">I", zlib.crc32(b"ruSt" + body))
    return base[:-12] + chunk + base[-12:]


IDENTITY: SealingIdentity = self_signed_identity("Istmo test sealing")


def trust_root() -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(pem.unarmor(IDENTITY.cert_pem)[2])


def pyhanko_status(pdf: bytes) -> Any:
    """pyHanko's own validation of the last signature, against the test certificate."""
    reader = PdfFileReader(io.BytesIO(pdf))
    return validate_pdf_signature(
        reader.embedded_signatures[-1], ValidationContext(trust_roots=[trust_root()], allow_fetching=False)
    )


def build(make_service: Any, renderer: Any, *, sealer: Any = None, **variables: str) -> tuple[Any, FakeClock]:
    service = make_service(variables=Variables({f"ISTMO_{k}": v for k, v in variables.items()}))
    clock = FakeClock(START)
    service.container.clock.override(providers.Object(clock))
    service.container.pdf.pdf_renderer.override(providers.Object(renderer))
    service.container.signatures.document_sealer.override(providers.Object(sealer or PyHankoDocumentSealer(IDENTITY)))
    return service, clock


def ok(service: Any, headers: dict[str, str], query: str, operation: str, **variables: Any) -> dict[str, Any]:
    result = data(service, query, variables, headers=headers)[operation]
    assert result["error"] is None, result
    return result


def refused(service: Any, headers: dict[str, str], query: str, operation: str, **variables: Any) -> dict[str, Any]:
    result = data(service, query, variables, headers=headers)[operation]
    assert result["error"] is not None, result
    return result["error"]


def add_with_upload(service: Any, headers: dict[str, str], entity: dict[str, str], image: bytes,
                    filename: str = "firma.png", **variables: Any) -> dict[str, Any]:
    response = upload(service, ADD_SIGNATURE, image, filename=filename, variables={"entity": entity, **variables},
                      headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["data"]["addSignature"]


def invoice(service: Any, headers: dict[str, str]) -> tuple[dict[str, str], str]:
    """A new invoice (and its client's id): the entity to sign."""
    client = data(service, CREATE_CLIENT, {"input": CLIENT}, headers=headers)["createClient"]["client"]
    lines = [{"description": "Cemento gris 42.5 kg", "quantity": "10", "unitPrice": "8.50", "taxRate": 7}]
    created = data(service, CREATE_INVOICE, {"input": {"clientId": client["id"], "lines": lines}}, headers=headers)
    return {"entityType": "INVOICE", "entityId": created["createInvoice"]["invoice"]["id"]}, client["id"]


def file_bytes(service: Any, tenant_id: str, sha256: str) -> bytes:
    return b"".join(service.container.storage().read(f"{tenant_id}/{sha256}"))


def run_jobs(service: Any) -> int:
    return int(service.container.worker().run_once())


def sql(service: Any, statement: str, **params: Any) -> Any:
    with service.container.engine().begin() as connection:
        return connection.execute(text(statement), params)


def audit_rows(service: Any, tenant_id: str) -> list[dict[str, Any]]:
    with service.container.engine().connect() as connection:
        rows = connection.execute(
            text("SELECT * FROM signature_audit WHERE tenant_id = :t ORDER BY seq"), {"t": tenant_id}
        ).mappings()
        return [dict(row) for row in rows]


def later(clock: FakeClock, **delta: float) -> None:
    clock.advance(timedelta(**delta))


__all__ = ["gql"]
