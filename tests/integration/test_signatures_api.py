"""Signatures inside the tenant through the HTTP API, with the real renderer and pyHanko sealer,
on SQLite and PostgreSQL: add (image rules at their limits), read with status, revoke with
roles, the sealed PDF checked by pyHanko itself, DOCUMENT_CHANGED after a re-render, tenants apart."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from pypdf import PdfReader

from tests.integration.api import data, staged
from tests.integration.signatures_support import (
    ADD_SIGNATURE,
    BY_ID,
    CLIENT,
    FOR_ENTITY,
    REMOVE_SIGNATURE,
    RENDER_INVOICE,
    UPDATE_CLIENT,
    add_with_upload,
    audit_rows,
    build,
    file_bytes,
    invoice,
    later,
    ok,
    padded_png,
    png,
    pyhanko_status,
    refused,
    run_jobs,
    sql,
)


@pytest.fixture
def world(make_service: Any, weasyprint_renderer: Any) -> Any:
    service, clock = build(make_service, weasyprint_renderer, SIGNATURES_MAX_IMAGE_BYTES="2048",
                           SIGNATURES_MAX_IMAGE_SIDE="4000")
    return service, clock


def count(service: Any, table: str) -> int:
    return int(sql(service, f"SELECT count(*) FROM {table}").scalar_one())


def test_a_signature_on_an_invoice_records_its_exact_pdf_and_the_seal_is_valid_for_pyhanko(world: Any) -> None:
    service, clock = world
    acme = service.headers("acme", subject="ana")
    entity, _ = invoice(service, acme)
    signature = add_with_upload(service, acme, entity, png(), signerName="Ana Pérez", reason="Aprobada")
    assert signature["error"] is None, signature
    signed = signature["signature"]
    rendered = ok(service, acme, RENDER_INVOICE, "renderInvoicePdf", id=entity["entityId"])["file"]
    assert (signed["status"], signed["documentSha256"], signed["documentFileId"]) == ("VALID", rendered["sha256"], rendered["id"])
    assert (signed["signerUserId"], signed["signerName"], signed["reason"]) == ("ana", "Ana Pérez", "Aprobada")

    tenant = service.tenant("acme")
    original = file_bytes(service, tenant, rendered["sha256"])
    assert hashlib.sha256(original).hexdigest() == rendered["sha256"]
    later(clock, seconds=5)
    assert run_jobs(service) >= 1
    found = ok(service, acme, FOR_ENTITY, "getSignaturesForEntity", t="INVOICE", i=entity["entityId"])
    assert found["currentSha256"] == rendered["sha256"] and found["sealedFile"] is not None
    assert [s["status"] for s in found["signatures"]] == ["VALID"]
    sealed = file_bytes(service, tenant, found["sealedFile"]["sha256"])
    assert sealed.startswith(original)  # the original file, unchanged, then one signed revision
    status = pyhanko_status(sealed)
    assert status.intact and status.valid and status.trusted and status.coverage.name == "ENTIRE_FILE"
    pages = PdfReader(io.BytesIO(sealed)).pages
    assert len(pages) == len(PdfReader(io.BytesIO(original)).pages) + 1
    certificate = pages[-1].extract_text()
    assert rendered["sha256"] in certificate and "Ana P" in certificate and "SIGNED" in certificate

    events = [row["event"] for row in audit_rows(service, tenant)]
    assert events == ["SIGNED", "SEALED"]


def test_rerendering_a_changed_invoice_makes_its_signatures_document_changed(world: Any) -> None:
    service, clock = world
    acme = service.headers("acme")
    entity, client_id = invoice(service, acme)
    signed = add_with_upload(service, acme, entity, png())["signature"]
    later(clock, seconds=2)
    changed = {**CLIENT, "address": "Vía España, Edificio Nuevo"}
    assert data(service, UPDATE_CLIENT, {"id": client_id, "input": changed}, headers=acme)["updateClient"]["error"] is None
    again = ok(service, acme, RENDER_INVOICE, "renderInvoicePdf", id=entity["entityId"])["file"]
    assert again["sha256"] != signed["documentSha256"]
    found = ok(service, acme, BY_ID, "getSignatureById", id=signed["id"])["signature"]
    assert found["status"] == "DOCUMENT_CHANGED"


def test_the_image_limits_hold_exactly_at_the_limit_and_refuse_one_past(world: Any) -> None:
    service, _ = world
    acme = service.headers("acme")
    entity, _ = invoice(service, acme)
    assert add_with_upload(service, acme, entity, padded_png(2048))["error"] is None
    too_big = add_with_upload(service, acme, entity, padded_png(2049))["error"]
    assert too_big["code"] == "SIGNATURE_IMAGE_TOO_LARGE" and "2048" in too_big["message"]
    assert add_with_upload(service, acme, entity, png(4000, 1))["error"] is None
    wide = add_with_upload(service, acme, entity, png(4001, 1))["error"]
    assert wide["code"] == "SIGNATURE_IMAGE_TOO_LARGE" and "4001x1" in wide["message"]
    tall = add_with_upload(service, acme, entity, png(1, 4001))["error"]
    assert tall["code"] == "SIGNATURE_IMAGE_TOO_LARGE"


def test_svg_and_disguised_images_are_refused_and_leave_nothing(world: Any) -> None:
    service, _ = world
    acme = service.headers("acme")
    entity, _ = invoice(service, acme)
    ok(service, acme, RENDER_INVOICE, "renderInvoicePdf", id=entity["entityId"])
    before = (count(service, "files"), count(service, "signatures"), count(service, "signature_audit"))
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    error = add_with_upload(service, acme, entity, svg, filename="firma.png")["error"]
    assert (error["code"], error["field"]) == ("BAD_SIGNATURE_IMAGE", "image") and "SVG" in error["message"]
    gif = add_with_upload(service, acme, entity, b"GIF89a" + b"\0" * 50, filename="firma.png")["error"]
    assert gif["code"] == "BAD_SIGNATURE_IMAGE" and "PNG nor JPEG" in gif["message"]
    truncated = add_with_upload(service, acme, entity, png()[:20])["error"]
    assert truncated["code"] == "BAD_SIGNATURE_IMAGE"
    good = png()
    at = good.index(b"IDAT") + 8
    damaged = good[:at] + bytes(b ^ 0x5A for b in good[at:at + 12]) + good[at + 12:]  # the header is fine
    broken = add_with_upload(service, acme, entity, damaged)["error"]
    assert broken["code"] == "BAD_SIGNATURE_IMAGE" and "damaged" in broken["message"]
    assert (count(service, "files"), count(service, "signatures"), count(service, "signature_audit")) == before
    assert staged(service) == []


def test_removing_is_a_revocation_by_the_signer_or_an_admin_never_an_erasure(world: Any) -> None:
    service, _ = world
    ana = service.headers("acme", subject="ana", role="member")
    bob = service.headers("acme", subject="bob", role="member")
    boss = service.headers("acme", subject="boss", role="admin")
    entity, _ = invoice(service, ana)
    first = add_with_upload(service, ana, entity, png())["signature"]
    second = add_with_upload(service, ana, entity, png(60, 20))["signature"]
    denied = refused(service, bob, REMOVE_SIGNATURE, "removeSignature", id=first["id"], reason="no")
    assert denied["code"] == "NOT_YOUR_SIGNATURE"
    missing_reason = refused(service, ana, REMOVE_SIGNATURE, "removeSignature", id=first["id"], reason="  ")
    assert (missing_reason["code"], missing_reason["field"]) == ("INVALID_INPUT", "reason")
    revoked = ok(service, ana, REMOVE_SIGNATURE, "removeSignature", id=first["id"], reason="Error de monto")["signature"]
    assert (revoked["status"], revoked["revokedBy"], revoked["revokeReason"]) == ("REVOKED", "ana", "Error de monto")
    again = refused(service, ana, REMOVE_SIGNATURE, "removeSignature", id=first["id"], reason="otra vez")
    assert again["code"] == "ALREADY_REVOKED"
    by_admin = ok(service, boss, REMOVE_SIGNATURE, "removeSignature", id=second["id"], reason="Anulada")["signature"]
    assert by_admin["status"] == "REVOKED"
    listed = ok(service, ana, FOR_ENTITY, "getSignaturesForEntity", t="INVOICE", i=entity["entityId"])["signatures"]
    assert [s["status"] for s in listed] == ["REVOKED", "REVOKED"]
    events = [row["event"] for row in audit_rows(service, service.tenant("acme"))]
    assert events == ["SIGNED", "SIGNED", "REVOKED", "REVOKED"]


def test_another_tenants_entity_file_and_signature_are_not_found(world: Any) -> None:
    service, _ = world
    acme, globex = service.headers("acme"), service.headers("globex")
    entity, _ = invoice(service, acme)
    signed = add_with_upload(service, acme, entity, png())["signature"]
    theirs = add_with_upload(service, globex, entity, png())["error"]
    assert (theirs["code"], theirs["field"]) == ("NOT_FOUND", "invoiceId")
    by_file = data(service, ADD_SIGNATURE, {"entity": entity, "imageFileId": signed["imageFileId"]}, headers=globex)
    assert by_file["addSignature"]["error"]["code"] == "NOT_FOUND"
    assert refused(service, globex, BY_ID, "getSignatureById", id=signed["id"])["code"] == "SIGNATURE_NOT_FOUND"
    assert refused(service, globex, REMOVE_SIGNATURE, "removeSignature", id=signed["id"], reason="x")["code"] == (
        "SIGNATURE_NOT_FOUND"
    )
    listed = ok(service, globex, FOR_ENTITY, "getSignaturesForEntity", t="INVOICE", i=entity["entityId"])
    assert listed["signatures"] == [] and listed["currentSha256"] is None


def test_an_image_file_of_the_tenant_can_be_reused_and_a_pdf_file_signed_as_file(world: Any) -> None:
    service, _ = world
    acme = service.headers("acme")
    entity, _ = invoice(service, acme)
    first = add_with_upload(service, acme, entity, png())["signature"]
    rendered = ok(service, acme, RENDER_INVOICE, "renderInvoicePdf", id=entity["entityId"])["file"]
    as_file = {"entityType": "FILE", "entityId": rendered["id"]}
    again = ok(service, acme, ADD_SIGNATURE, "addSignature", entity=as_file, imageFileId=first["imageFileId"])
    assert (again["signature"]["documentSha256"], again["signature"]["imageFileId"]) == (
        rendered["sha256"], first["imageFileId"],
    )
    neither = refused(service, acme, ADD_SIGNATURE, "addSignature", entity=as_file)
    assert (neither["code"], neither["field"]) == ("INVALID_INPUT", "image")
    bad_type = refused(service, acme, ADD_SIGNATURE, "addSignature", entity={"entityType": "CLIENT", "entityId": "x"},
                       imageFileId=first["imageFileId"])
    assert bad_type["field"] == "entityType"
