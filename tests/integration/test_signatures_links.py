"""Requests to sign and the public signing page, through HTTP, on SQLite and PostgreSQL: the
link by e-mail, the page and its headers, CSRF, signing once, declining, cancelled, expired
and guessed links (and their rate limit), the sealed result with the signer's events."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest

from tests.integration.api import data
from tests.integration.signatures_support import (
    CANCEL,
    FOR_ENTITY,
    REQUESTS,
    SEND_EMAIL,
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
    refused,
    run_jobs,
    sql,
)

UA = "Mozilla/5.0 (Linux; Android 14) Firma/1.0"


@pytest.fixture
def world(make_service: Any, weasyprint_renderer: Any) -> Any:
    return build(make_service, weasyprint_renderer, SIGNATURES_GUESS_LIMIT="3")


def send(service: Any, headers: dict[str, str], entity: dict[str, str], **extra: Any) -> dict[str, Any]:
    variables = {"entity": entity, "email": "cliente@cumbres.com.pa", "name": "María Cumbres", **extra}
    return ok(service, headers, SEND_EMAIL, "sendSignatureApprovalEmail", **variables)


def path_of(link: str) -> str:
    assert link.startswith("http://localhost/sign/")
    return link[len("http://localhost"):]


def open_page(web: Any, path: str) -> tuple[Any, str]:
    """GET the page with one test client (``web``: it keeps the CSRF cookie); the form's CSRF token."""
    response = web.get(path, headers={"User-Agent": UA})
    html = response.get_data(as_text=True)
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    return response, found.group(1) if found else ""


def post(web: Any, path: str, **form: str) -> Any:
    return web.post(path, data=form, headers={"User-Agent": UA})


def state(response: Any) -> str:
    found = re.search(r'data-state="([A-Z]+)"', response.get_data(as_text=True))
    return found.group(1) if found else ""


def drawn() -> str:
    return "data:image/png;base64," + base64.b64encode(png(300, 100)).decode()


def count(service: Any, table: str) -> int:
    return int(sql(service, f"SELECT count(*) FROM {table}").scalar_one())


def test_the_link_by_email_opens_a_secure_page_and_signs_once_then_the_seal_lists_the_signers_events(world: Any) -> None:
    service, clock = world
    web = service.client
    acme = service.headers("acme")
    tenant = service.tenant("acme")
    entity, _ = invoice(service, acme)
    sent = send(service, acme, entity, message="Por favor firme la factura.")
    request, link = sent["signatureRequest"], sent["link"]
    assert (request["status"], request["channel"], request["recipientEmail"]) == ("PENDING", "EMAIL", "cliente@cumbres.com.pa")
    token = link.rsplit("/", 1)[1]
    stored = sql(service, "SELECT token_hash FROM signature_requests").scalar_one()
    assert token not in stored and len(stored) == 64  # only the hash is kept
    body = sql(service, "SELECT html, text, kind FROM email_messages").one()
    assert link in body.text and body.kind == "SIGNATURE_APPROVAL"

    path = path_of(link)
    page, csrf = open_page(web, path)
    assert page.status_code == 200 and csrf
    html = page.get_data(as_text=True)
    assert "María Cumbres" in html and request["documentName"] in html and "Acme" not in html
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<script>" not in html and page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["Cache-Control"] == "no-store"

    document = web.get(path + "/document", headers={"User-Agent": UA})
    assert document.mimetype == "application/pdf"
    assert document.data == file_bytes(service, tenant, request["documentSha256"])

    assert post(web, path, action="sign", consent="yes", signature=drawn()).status_code == 403  # no CSRF token
    assert post(web, path, csrf="0" * 64, action="sign", consent="yes", signature=drawn()).status_code == 403
    no_consent = post(web, path, csrf=csrf, action="sign", signature=drawn())
    assert no_consent.status_code == 400 and "electrónicamente" in no_consent.get_data(as_text=True)
    assert count(service, "signatures") == 0

    later(clock, minutes=3)
    signed = post(web, path, csrf=csrf, action="sign", consent="yes", signature=drawn())
    assert (signed.status_code, state(signed)) == (200, "SIGNED")
    twice = post(web, path, csrf=csrf, action="sign", consent="yes", signature=drawn())
    assert state(twice) == "SIGNED" and count(service, "signatures") == 1
    assert state(web.get(path)) == "SIGNED"
    assert state(web.get(path + "/document")) == "SIGNED"

    later(clock, seconds=5)
    run_jobs(service)
    found = ok(service, acme, FOR_ENTITY, "getSignaturesForEntity", t="INVOICE", i=entity["entityId"])
    (signature,) = found["signatures"]
    assert (signature["signerName"], signature["signerEmail"], signature["requestId"]) == (
        "María Cumbres", "cliente@cumbres.com.pa", request["id"],
    )
    sealed = found["sealedFile"]
    assert pyhanko_status(file_bytes(service, tenant, sealed["sha256"])).intact
    verified = ok(service, acme, VERIFY_DOCUMENT, "verifySignedDocument", fileId=sealed["id"])["verification"]
    assert (verified["status"], verified["tenantDocument"], verified["entityId"]) == ("VALID", True, entity["entityId"])
    events = [(e["event"], e["ip"], e["userAgent"]) for e in verified["events"]]
    assert ("LINK_OPENED", "127.0.0.1", UA) in events and ("DOCUMENT_VIEWED", "127.0.0.1", UA) in events
    assert ("SIGNED", "127.0.0.1", UA) in events and events[0][0] == "REQUEST_CREATED"
    kinds = [event for event, _, _ in events]
    assert kinds.count("LINK_OPENED") == 1  # one visit; posting the form is not another
    listed = ok(service, acme, REQUESTS, "signatureRequests", status="SIGNED")["signatureRequests"]
    assert [r["id"] for r in listed] == [request["id"]]


def test_declining_needs_a_reason_and_closes_the_link(world: Any) -> None:
    service, _ = world
    web = service.client
    acme = service.headers("acme")
    entity, _ = invoice(service, acme)
    path = path_of(send(service, acme, entity)["link"])
    _, csrf = open_page(web, path)
    empty = post(web, path, csrf=csrf, action="decline", reason="   ")
    assert empty.status_code == 400 and "reason is required" in empty.get_data(as_text=True)
    declined = post(web, path, csrf=csrf, action="decline", reason="El monto no coincide con la cotización")
    assert state(declined) == "DECLINED"
    (row,) = ok(service, acme, REQUESTS, "signatureRequests")["signatureRequests"]
    assert (row["status"], row["declineReason"]) == ("DECLINED", "El monto no coincide con la cotización")
    assert state(post(web, path, csrf=csrf, action="sign", consent="yes", signature=drawn())) == "DECLINED"
    assert count(service, "signatures") == 0


def test_a_cancelled_link_gets_a_clear_page_and_cannot_be_cancelled_twice(world: Any) -> None:
    service, _ = world
    web = service.client
    acme, globex = service.headers("acme"), service.headers("globex")
    entity, _ = invoice(service, acme)
    sent = send(service, acme, entity)
    assert refused(service, globex, CANCEL, "cancelSignatureRequest", id=sent["signatureRequest"]["id"])["code"] == (
        "SIGNATURE_REQUEST_NOT_FOUND"
    )
    assert ok(service, globex, REQUESTS, "signatureRequests")["signatureRequests"] == []
    cancelled = ok(service, acme, CANCEL, "cancelSignatureRequest", id=sent["signatureRequest"]["id"])
    assert cancelled["signatureRequest"]["status"] == "CANCELLED"
    again = refused(service, acme, CANCEL, "cancelSignatureRequest", id=sent["signatureRequest"]["id"])
    assert again["code"] == "SIGNATURE_REQUEST_CLOSED"
    page = web.get(path_of(sent["link"]))
    assert (page.status_code, state(page)) == (410, "CANCELLED")


def test_expiry_is_bounded_and_an_expired_link_is_marked_and_recorded(world: Any) -> None:
    service, clock = world
    web = service.client
    acme = service.headers("acme")
    entity, _ = invoice(service, acme)
    too_short = refused(service, acme, SEND_EMAIL, "sendSignatureApprovalEmail", entity=entity,
                        email="a@b.com.pa", name="A", expiresIn=599)
    too_long = refused(service, acme, SEND_EMAIL, "sendSignatureApprovalEmail", entity=entity,
                       email="a@b.com.pa", name="A", expiresIn=30 * 86400 + 1)
    assert too_short["field"] == too_long["field"] == "expiresIn"
    assert count(service, "signature_requests") == 0
    longest = send(service, acme, entity, expiresIn=30 * 86400)["signatureRequest"]
    assert longest["expiresAt"] == "2026-12-31T12:00:00Z"
    sent = send(service, acme, entity, expiresIn=600)
    path = path_of(sent["link"])
    later(clock, seconds=599)
    assert open_page(web, path)[0].status_code == 200
    later(clock, seconds=1)
    page = web.get(path)
    assert (page.status_code, state(page)) == (410, "EXPIRED")
    expired = ok(service, acme, REQUESTS, "signatureRequests", status="EXPIRED")["signatureRequests"]
    assert [r["id"] for r in expired] == [sent["signatureRequest"]["id"]]
    assert "EXPIRED" in [row["event"] for row in audit_rows(service, service.tenant("acme"))]


def test_guessed_tokens_are_not_found_then_rate_limited(world: Any) -> None:
    service, _ = world
    web = service.client
    acme = service.headers("acme")
    entity, _ = invoice(service, acme)
    path = path_of(send(service, acme, entity)["link"])
    for guess in ("abc", "x" * 43, "y" * 500):
        page = web.get(f"/sign/{guess}")
        assert (page.status_code, state(page)) == (404, "UNKNOWN")
    limited = web.get("/sign/another-guess")
    assert (limited.status_code, state(limited)) == (429, "LIMITED")
    assert web.get(path).status_code == 429  # the address is limited, whatever it tries


def test_a_bad_address_leaves_no_request_and_a_pending_request_holds_the_seal(world: Any) -> None:
    service, clock = world
    web = service.client
    acme = service.headers("acme")
    entity, _ = invoice(service, acme)
    bad = refused(service, acme, SEND_EMAIL, "sendSignatureApprovalEmail", entity=entity,
                  email="cliente@@cumbres", name="María")
    assert (bad["code"], bad["field"]) == ("INVALID_EMAIL", "recipientEmail")
    assert count(service, "signature_requests") == count(service, "signature_audit") == 0
    path = path_of(send(service, acme, entity)["link"])
    assert add_with_upload(service, acme, entity, png())["error"] is None
    later(clock, seconds=5)
    run_jobs(service)
    assert count(service, "signature_seals") == 0  # someone is still to sign
    _, csrf = open_page(web, path)
    assert state(post(web, path, csrf=csrf, action="sign", consent="yes", typed_name="María Cumbres")) == "SIGNED"
    later(clock, seconds=5)
    run_jobs(service)
    sealed = ok(service, acme, FOR_ENTITY, "getSignaturesForEntity", t="INVOICE", i=entity["entityId"])
    assert sealed["sealedFile"] is not None and len(sealed["signatures"]) == 2
    text = data(service, "query { me { tenantId } }", headers=acme)["me"]["tenantId"]
    assert text == service.tenant("acme")


def test_two_submissions_of_one_link_at_once_sign_once(world: Any) -> None:
    import threading

    from application.signatures.commands import SignByLink, Visitor
    from domain.shared.errors import DomainError

    service, _ = world
    acme = service.headers("acme")
    entity, _ = invoice(service, acme)
    token = send(service, acme, entity)["link"].rsplit("/", 1)[1]
    bus = service.container.bus()
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def submit(n: int) -> None:
        start.wait()
        try:
            bus.handle(SignByLink(actor=None, token=token, consent=True, typed_name=f"María {n}",
                                  visitor=Visitor(ip=f"10.0.0.{n}")))
            outcomes.append("SIGNED")
        except DomainError as refused:
            outcomes.append(refused.code)

    threads = [threading.Thread(target=submit, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["SIGNATURE_REQUEST_CLOSED", "SIGNED"]
    assert count(service, "signatures") == 1
    events = [row["event"] for row in audit_rows(service, service.tenant("acme"))]
    assert events.count("SIGNED") == 1


def test_another_tenant_cannot_verify_or_read_this_tenants_sealed_file(world: Any) -> None:
    service, clock = world
    acme, globex = service.headers("acme"), service.headers("globex")
    entity, _ = invoice(service, acme)
    add_with_upload(service, acme, entity, png())
    later(clock, seconds=5)
    run_jobs(service)
    sealed = ok(service, acme, FOR_ENTITY, "getSignaturesForEntity", t="INVOICE", i=entity["entityId"])["sealedFile"]
    theirs = refused(service, globex, VERIFY_DOCUMENT, "verifySignedDocument", fileId=sealed["id"])
    assert (theirs["code"], theirs["field"]) == ("NOT_FOUND", "fileId")
    neither = refused(service, acme, VERIFY_DOCUMENT, "verifySignedDocument")
    assert neither["field"] == "file"
