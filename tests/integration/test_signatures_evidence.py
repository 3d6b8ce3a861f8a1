"""Evidence, tampered with on purpose, on SQLite and PostgreSQL: an audit row edited, deleted,
swapped or cut off the end is named by the chain check; a sealed PDF with one byte flipped is
INVALID (GraphQL and the public route); a seal carries the local TSA's RFC 3161 timestamp."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.signing.pyhanko_sealer import PyHankoDocumentSealer
from tests.integration.api import upload
from tests.integration.signatures_support import (
    FOR_ENTITY,
    IDENTITY,
    VERIFY_CHAIN,
    VERIFY_DOCUMENT,
    add_with_upload,
    audit_rows,
    build,
    file_bytes,
    invoice,
    later,
    ok,
    png,
    pyhanko_status,
    run_jobs,
    sql,
)
from tests.providers.server import ProviderServer, provider_server  # noqa: F401 - the fixture
from tests.providers.tsa import serve_tsa


@pytest.fixture
def world(make_service: Any, weasyprint_renderer: Any) -> Any:
    return build(make_service, weasyprint_renderer)


def signed_and_sealed(service: Any, clock: Any, headers: dict[str, str]) -> tuple[dict[str, Any], bytes]:
    entity, _ = invoice(service, headers)
    add_with_upload(service, headers, entity, png(), signerName="Ana")
    add_with_upload(service, headers, entity, png(80, 30), signerName="Beto")
    later(clock, seconds=5)
    run_jobs(service)
    sealed = ok(service, headers, FOR_ENTITY, "getSignaturesForEntity", t="INVOICE", i=entity["entityId"])["sealedFile"]
    return sealed, file_bytes(service, service.tenant("acme"), sealed["sha256"])


def chain(service: Any, headers: dict[str, str]) -> dict[str, Any]:
    return ok(service, headers, VERIFY_CHAIN, "verifySignatureAuditChain")["check"]


def test_an_intact_chain_then_each_kind_of_tampering_is_named(world: Any) -> None:
    service, clock = world
    acme = service.headers("acme")
    tenant = service.tenant("acme")
    for _ in range(2):
        signed_and_sealed(service, clock, acme)
    rows = audit_rows(service, tenant)
    assert [r["event"] for r in rows] == ["SIGNED", "SIGNED", "SEALED"] * 2  # one seal per set of signatures
    assert [r["seq"] for r in rows] == list(range(1, 7))
    intact = chain(service, acme)
    assert (intact["intact"], intact["entries"], intact["headHash"]) == (True, 6, rows[-1]["entry_hash"])
    assert intact["firstBadSeq"] is None

    sql(service, "UPDATE signature_audit SET actor = 'user:mallory' WHERE tenant_id = :t AND seq = 3", t=tenant)
    edited = chain(service, acme)
    assert (edited["intact"], edited["firstBadSeq"], edited["firstBadId"]) == (False, 3, rows[2]["id"])
    assert "edited" in edited["problem"]
    sql(service, "UPDATE signature_audit SET actor = :a WHERE tenant_id = :t AND seq = 3", a=rows[2]["actor"], t=tenant)
    assert chain(service, acme)["intact"]

    sql(service, "UPDATE signature_audit SET seq = 100 WHERE tenant_id = :t AND seq = 5", t=tenant)
    sql(service, "UPDATE signature_audit SET seq = 5 WHERE tenant_id = :t AND seq = 6", t=tenant)
    sql(service, "UPDATE signature_audit SET seq = 6 WHERE tenant_id = :t AND seq = 100", t=tenant)
    swapped = chain(service, acme)
    assert (swapped["intact"], swapped["firstBadSeq"], swapped["firstBadId"]) == (False, 5, rows[5]["id"])
    assert "does not follow" in swapped["problem"]
    sql(service, "UPDATE signature_audit SET seq = 100 WHERE tenant_id = :t AND seq = 5", t=tenant)
    sql(service, "UPDATE signature_audit SET seq = 5 WHERE tenant_id = :t AND seq = 6", t=tenant)
    sql(service, "UPDATE signature_audit SET seq = 6 WHERE tenant_id = :t AND seq = 100", t=tenant)
    assert chain(service, acme)["intact"]

    sql(service, "DELETE FROM signature_audit WHERE tenant_id = :t AND seq = 4", t=tenant)
    removed = chain(service, acme)
    assert (removed["intact"], removed["firstBadSeq"]) == (False, 5) and "entry 4 is missing" in removed["problem"]


def test_cutting_off_the_last_entries_is_caught_by_the_recorded_head(world: Any) -> None:
    service, clock = world
    acme = service.headers("acme")
    tenant = service.tenant("acme")
    signed_and_sealed(service, clock, acme)
    sql(service, "DELETE FROM signature_audit WHERE tenant_id = :t AND seq = 3", t=tenant)
    cut = chain(service, acme)
    assert (cut["intact"], cut["entries"], cut["firstBadSeq"]) == (False, 2, 3)
    assert "entry 3 is missing" in cut["problem"]


def test_another_tenants_chain_is_its_own(world: Any) -> None:
    service, clock = world
    acme, globex = service.headers("acme"), service.headers("globex")
    signed_and_sealed(service, clock, acme)
    theirs = chain(service, globex)
    assert (theirs["intact"], theirs["entries"]) == (True, 0)
    sql(service, "UPDATE signature_audit SET ip = '6.6.6.6' WHERE seq = 1")
    assert chain(service, globex)["intact"] and not chain(service, acme)["intact"]


def test_a_flipped_byte_makes_the_sealed_pdf_invalid_with_the_reason(world: Any) -> None:
    service, clock = world
    acme = service.headers("acme")
    _, pdf = signed_and_sealed(service, clock, acme)
    good = upload(service, VERIFY_DOCUMENT, pdf, filename="sellado.pdf", headers=acme).get_json()
    verification = good["data"]["verifySignedDocument"]["verification"]
    assert (verification["status"], verification["tenantDocument"], verification["sealedBy"]) == (
        "VALID", True, "Organization: Istmo, Common Name: Istmo test sealing",
    )
    assert [e["event"] for e in verification["events"]] == ["SIGNED", "SIGNED", "SEALED"]
    at = pdf.index(b"/Contents", len(pdf) // 2) - 400  # inside the signed revision, before the signature
    tampered = bytearray(pdf)
    tampered[at] = ord("A") if tampered[at] != ord("A") else ord("B")
    bad = upload(service, VERIFY_DOCUMENT, bytes(tampered), filename="sellado.pdf", headers=acme).get_json()
    refused = bad["data"]["verifySignedDocument"]["verification"]
    assert (refused["status"], refused["intact"], refused["tenantDocument"]) == ("INVALID", False, False)
    assert refused["reason"]
    public = service.client.post("/sign/verify", data={"file": (__import__("io").BytesIO(bytes(tampered)), "x.pdf")})
    assert public.get_json()["status"] == "INVALID" and public.get_json()["reason"]
    original = service.client.post("/sign/verify", data={"file": (__import__("io").BytesIO(pdf), "x.pdf")})
    assert (original.get_json()["status"], original.get_json()["trusted"]) == ("VALID", True)
    appended = upload(service, VERIFY_DOCUMENT, pdf + b"\n% added later\n", filename="x.pdf", headers=acme).get_json()
    assert appended["data"]["verifySignedDocument"]["verification"]["status"] == "INVALID"


def test_the_seal_carries_an_rfc3161_timestamp_from_the_configured_tsa(
    world: Any, provider_server: ProviderServer  # noqa: F811 - the fixture
) -> None:
    service, clock = world
    serve_tsa(provider_server)
    from dependency_injector import providers

    sealer = PyHankoDocumentSealer(IDENTITY, tsa_url=f"{provider_server.url}/tsa")
    service.container.signatures.document_sealer.override(providers.Object(sealer))
    acme = service.headers("acme")
    _, pdf = signed_and_sealed(service, clock, acme)
    asked = provider_server.received("POST", "/tsa")
    assert asked and {r.header("Content-Type") for r in asked} == {"application/timestamp-query"}
    status = pyhanko_status(pdf)
    assert status.intact and status.timestamp_validity is not None and status.timestamp_validity.intact
    check = sealer.verify(pdf)
    assert check.intact and check.timestamped_at is not None


def test_the_daily_job_timestamps_each_chain_head_once_and_only_with_a_tsa(
    world: Any, provider_server: ProviderServer  # noqa: F811 - the fixture
) -> None:
    import base64

    from asn1crypto import cms, tsp
    from dependency_injector import providers

    from application.signatures.commands import TimestampChainHeads

    service, clock = world
    acme = service.headers("acme")
    signed_and_sealed(service, clock, acme)
    bus = service.container.bus()
    assert bus.handle(TimestampChainHeads(actor=None)) == 0  # no TSA configured: nothing to do
    assert sql(service, "SELECT count(*) FROM signature_chain_stamps").scalar_one() == 0
    serve_tsa(provider_server)
    sealer = PyHankoDocumentSealer(IDENTITY, tsa_url=f"{provider_server.url}/tsa")
    service.container.signatures.document_sealer.override(providers.Object(sealer))
    service.container.service.reset()  # the bus is rebuilt around the sealer with a TSA
    bus = service.container.bus()
    assert bus.handle(TimestampChainHeads(actor=None)) == 1
    assert bus.handle(TimestampChainHeads(actor=None)) == 0  # this head has its timestamp
    row = sql(service, "SELECT seq, head_hash, token FROM signature_chain_stamps").one()
    rows = audit_rows(service, service.tenant("acme"))
    assert (row.seq, row.head_hash) == (rows[-1]["seq"], rows[-1]["entry_hash"])
    token = cms.ContentInfo.load(base64.b64decode(row.token))
    info = token["content"]["encap_content_info"]["content"].parsed
    assert isinstance(info, tsp.TSTInfo)
    assert info["message_imprint"]["hashed_message"].native == bytes.fromhex(row.head_hash)
