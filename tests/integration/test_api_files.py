"""The files domain through the HTTP API: every operation, and every bad input the issue lists.

Each test runs on SQLite and on PostgreSQL (the ``database_url`` parameter of ``make_service``),
against local storage in the test's own directory. A bad input must produce a clear error and
leave no row, blob or staging file behind; ``assert_nothing_left`` checks the last part.
"""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from dependency_injector import providers

from tests.fakes.clock import FakeClock
from tests.integration.api import (
    ADD_FILE,
    UPLOAD_TMP_FILE,
    add_file,
    assert_nothing_left,
    blobs,
    count_rows,
    data,
    gql,
    multipart_body,
    raw_multipart,
    sha256,
    staged,
    upload,
)

PDF = b"%PDF-1.7 factura 0001"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
START = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

FILE_FIELDS = "id name sha256 mime size status createdBy createdAt expiresAt"

# src bug found by these tests: see the report. Everything that sends an input field named
# ``sha256`` (TempFileInput, CreateFileInput) crashes with KeyError before any validation.


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def acme(service: Any) -> dict[str, str]:
    return service.headers("acme")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def timed(make_service: Any, clock: FakeClock) -> Any:
    """A service whose clock the test moves (overridden before anything used the clock)."""
    service = make_service()
    service.container.clock.override(providers.Object(clock))
    return service


def path_of(url: str) -> str:
    parts = urlsplit(url)
    assert parts.scheme == "http" and parts.netloc == "localhost", url
    return parts.path


def error_of(payload: dict[str, Any], operation: str) -> dict[str, Any]:
    assert not payload.get("errors"), payload
    error = payload["data"][operation]["error"]
    assert error is not None, payload
    return error


# --- addFile ------------------------------------------------------------------------------


def test_add_file_with_entity_keeps_sniffed_file_linked_to_the_entity(service: Any, acme: dict) -> None:
    file = add_file(service, acme, PDF, filename="factura.txt", entity=("INVOICE", "inv-1"))

    assert file["name"] == "factura.txt"
    assert file["mime"] == "application/pdf"  # from the bytes, not from the .txt name
    assert file["sha256"] == sha256(PDF) and file["size"] == len(PDF)
    assert file["status"] == "READY" and file["expiresAt"] is None
    assert file["createdBy"] == "user-1"
    assert file["entities"] == [{"entityType": "INVOICE", "entityId": "inv-1"}]
    assert_nothing_left(service, files=1, links=1)


def test_add_file_name_argument_wins_over_the_part_filename(service: Any, acme: dict) -> None:
    file = add_file(service, acme, PDF, filename="scan-0001.pdf", name="Factura enero.pdf")
    assert file["name"] == "Factura enero.pdf"


def test_add_file_takes_the_name_from_the_part_filename_keeping_only_its_last_component(
    service: Any, acme: dict
) -> None:
    assert add_file(service, acme, PDF, filename="factura-0001.pdf")["name"] == "factura-0001.pdf"
    other = add_file(service, acme, b"%PDF-1.7 otra", filename="../docs/2026/otra.pdf")
    assert other["name"] == "otra.pdf"


def test_add_file_sanitises_the_name(service: Any, acme: dict) -> None:
    file = add_file(service, acme, PDF, name="../../secret/..\x00evil.pdf")
    assert file["name"] == "evil.pdf"

    long_name = "x" * 400 + ".pdf"
    capped = add_file(service, acme, b"%PDF-1.7 long", name=long_name)["name"]
    assert len(capped.encode()) <= 255 and capped.endswith(".pdf")


def test_add_file_twice_with_the_same_bytes_is_one_row_and_one_blob(service: Any, acme: dict) -> None:
    first = add_file(service, acme, PDF, filename="a.pdf", entity=("INVOICE", "inv-1"))
    second = add_file(service, acme, PDF, filename="b.pdf", entity=("QUOTE", "q-1"))

    assert second["id"] == first["id"]
    assert {(e["entityType"], e["entityId"]) for e in second["entities"]} == {
        ("INVOICE", "inv-1"),
        ("QUOTE", "q-1"),
    }
    assert_nothing_left(service, files=1, links=2)


def test_the_same_bytes_in_two_tenants_are_two_independent_files(service: Any) -> None:
    acme, globex = service.headers("acme"), service.headers("globex", subject="user-2")
    mine = add_file(service, acme, PDF)
    theirs = add_file(service, globex, PDF)

    assert mine["id"] != theirs["id"]
    assert count_rows(service, "files") == 2 and len(blobs(service)) == 2
    data(
        service, "mutation($id: ID!) { deleteFile(id: $id) { deletedId } }", {"id": mine["id"]}, headers=acme
    )
    found = data(
        service,
        "query($id: ID!) { getFileById(id: $id) { file { id } } }",
        {"id": theirs["id"]},
        headers=globex,
    )
    assert found["getFileById"]["file"] == {"id": theirs["id"]}
    assert len(blobs(service)) == 1


# --- uploadTmpFile, addFileEntity ----------------------------------------------------------


def test_upload_tmp_file_is_temporary_and_expires_after_the_ttl(timed: Any) -> None:
    headers = timed.headers("acme")
    response = upload(timed, UPLOAD_TMP_FILE, PDF, filename="borrador.pdf", headers=headers)
    file = response.get_json()["data"]["uploadTmpFile"]["file"]

    assert file["status"] == "TEMPORARY"
    assert file["expiresAt"] == iso(START + timedelta(hours=24))
    assert file["name"] == "borrador.pdf" and file["mime"] == "application/pdf"
    assert_nothing_left(timed, files=1)


def test_add_file_entity_promotes_a_temporary_file_and_is_idempotent(service: Any, acme: dict) -> None:
    response = upload(service, UPLOAD_TMP_FILE, PDF, headers=acme)
    file_id = response.get_json()["data"]["uploadTmpFile"]["file"]["id"]
    link = """mutation($id: ID!) { addFileEntity(fileId: $id, entityType: "CONTRACT", entityId: "c-7") {
                fileEntity { id fileId entityType entityId createdAt } error { code } } }"""

    first = data(service, link, {"id": file_id}, headers=acme)["addFileEntity"]
    again = data(service, link, {"id": file_id}, headers=acme)["addFileEntity"]

    assert first["error"] is None
    assert first["fileEntity"]["fileId"] == file_id
    assert (first["fileEntity"]["entityType"], first["fileEntity"]["entityId"]) == ("CONTRACT", "c-7")
    assert again["fileEntity"] == first["fileEntity"]
    assert count_rows(service, "file_entities") == 1
    got = data(
        service,
        "query($id: ID!) { getFileById(id: $id) { file { status expiresAt } } }",
        {"id": file_id},
        headers=acme,
    )
    assert got["getFileById"]["file"] == {"status": "READY", "expiresAt": None}


# --- signed URLs and downloads ------------------------------------------------------------


SIGN = """mutation($id: ID!, $inline: Boolean, $ttl: Int) {
  generateSignedUrl(fileId: $id, inline: $inline, expiresIn: $ttl) {
    signedUrl { fileId url expiresAt } error { code message field } } }"""


def sign(service: Any, headers: dict, file_id: str, **variables: Any) -> dict[str, Any]:
    result = data(service, SIGN, {"id": file_id, **variables}, headers=headers)["generateSignedUrl"]
    assert result["error"] is None, result
    return result["signedUrl"]


def test_generate_signed_url_downloads_the_bytes_as_an_attachment_with_safe_headers(
    timed: Any, clock: FakeClock
) -> None:
    headers = timed.headers("acme")
    file = add_file(timed, headers, PDF, name="factura ñ 2026.pdf")
    signed = sign(timed, headers, file["id"], ttl=120)

    assert signed["fileId"] == file["id"]
    assert signed["expiresAt"] == iso(START + timedelta(seconds=120))
    response = timed.client.get(path_of(signed["url"]))
    assert response.status_code == 200
    assert response.data == PDF
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''factura%20%C3%B1%202026.pdf" in disposition
    assert 'filename="factura n 2026.pdf"' in disposition  # ASCII fallback: ñ -> n
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_generate_signed_url_inline(service: Any, acme: dict) -> None:
    file = add_file(service, acme, PDF, name="ver.pdf")
    response = service.client.get(path_of(sign(service, acme, file["id"], inline=True)["url"]))
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Disposition"].startswith("inline;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_signed_url_field_of_a_file_downloads_it(service: Any, acme: dict) -> None:
    file = add_file(service, acme, PDF, entity=("INVOICE", "inv-9"))
    found = data(
        service,
        '{ findFilesByEntity(entityType: "INVOICE", entityId: "inv-9") { files'
        " { id signedUrl(expiresIn: 60, inline: true) } } }",
        headers=acme,
    )["findFilesByEntity"]["files"]
    assert [item["id"] for item in found] == [file["id"]]
    response = service.client.get(path_of(found[0]["signedUrl"]))
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Disposition"].startswith("inline;")


def test_generate_file_urls_signs_each_file_in_order(service: Any, acme: dict) -> None:
    a = add_file(service, acme, PDF, name="a.pdf")
    b = add_file(service, acme, PNG, name="b.png")
    result = data(
        service,
        "mutation($ids: [ID!]!) { generateFileUrls(fileIds: $ids, expiresIn: 300) { signedUrls"
        " { fileId url } error { code } } }",
        {"ids": [b["id"], a["id"]]},
        headers=acme,
    )["generateFileUrls"]

    assert result["error"] is None
    assert [item["fileId"] for item in result["signedUrls"]] == [b["id"], a["id"]]
    downloads = [service.client.get(path_of(item["url"])) for item in result["signedUrls"]]
    assert [(r.status_code, r.data, r.mimetype) for r in downloads] == [
        (200, PNG, "image/png"),
        (200, PDF, "application/pdf"),
    ]


# --- deleteFile ---------------------------------------------------------------------------


DELETE = "mutation($id: ID!) { deleteFile(id: $id) { deletedId error { code message field } } }"


def test_delete_file_removes_the_row_its_links_and_the_blob(service: Any, acme: dict) -> None:
    file = add_file(service, acme, PDF, entity=("INVOICE", "inv-1"))
    data(
        service,
        'mutation($id: ID!) { addFileEntity(fileId: $id, entityType: "CLIENT", entityId: "cl-1") { error'
        " { code } } }",
        {"id": file["id"]},
        headers=acme,
    )
    url = sign(service, acme, file["id"])["url"]
    assert_nothing_left(service, files=1, links=2)

    deleted = data(service, DELETE, {"id": file["id"]}, headers=acme)["deleteFile"]

    assert deleted == {"deletedId": file["id"], "error": None}
    assert_nothing_left(service)
    assert service.client.get(path_of(url)).status_code == 404
    again = data(service, DELETE, {"id": file["id"]}, headers=acme)["deleteFile"]
    assert again["deletedId"] is None
    assert again["error"]["code"] == "NOT_FOUND" and file["id"] in again["error"]["message"]


# --- direct uploads: generateTempFileUrls -> PUT -> createFile --------------------------------


TEMP_URLS = """mutation($files: [TempFileInput!]!) { generateTempFileUrls(files: $files) {
  uploads { name sha256 uploadUrl method headers { name value } expiresAt existingFile { id name } }
  error { code message field } } }"""

CREATE = """mutation($input: CreateFileInput!) { createFile(input: $input) {
  file { id name sha256 mime size status expiresAt entities { entityType entityId } }
  error { code message field } } }"""


def declare(
    service: Any,
    headers: dict,
    content: bytes,
    *,
    name: str = "big.pdf",
    mime: str = "application/pdf",
    sha: str | None = None,
    size: int | None = None,
) -> dict[str, Any]:
    result = data(
        service,
        TEMP_URLS,
        {
            "files": [
                {
                    "name": name,
                    "size": len(content) if size is None else size,
                    "mime": mime,
                    "sha256": sha or sha256(content),
                }
            ]
        },
        headers=headers,
    )["generateTempFileUrls"]
    assert result["error"] is None, result
    return result["uploads"][0]


def mint_upload(service: Any, slug: str, content: bytes, *, mime: str = "application/pdf") -> dict[str, Any]:
    """An upload target made by the service's own storage, as generateTempFileUrls makes it.

    The PUT route's own checks are tested with it, independently of the GraphQL mutation.
    """
    target = service.container.storage().upload_target(
        f"direct/{service.tenant(slug)}/{sha256(content)}", size=len(content), mime=mime, expires_in=3600
    )
    return {
        "uploadUrl": target.url,
        "method": target.method,
        "headers": [{"name": name, "value": value} for name, value in target.headers.items()],
    }


def put(service: Any, target: dict[str, Any], content: bytes, **header_overrides: str) -> Any:
    headers = {item["name"]: item["value"] for item in target["headers"]}
    headers.update(header_overrides)
    content_type = headers.pop("Content-Type", None)
    headers.pop("Content-Length", None)  # the test client sets it from the body
    assert target["method"] == "PUT"
    return service.client.put(
        path_of(target["uploadUrl"]), data=content, headers=headers, content_type=content_type
    )


def test_direct_upload_then_create_file_keeps_the_verified_bytes(service: Any, acme: dict) -> None:
    content = PDF + b" grande" * 50
    target = declare(service, acme, content, name="grande.pdf")
    assert target["existingFile"] is None and target["uploadUrl"]
    assert {h["name"]: h["value"] for h in target["headers"]} == {
        "Content-Type": "application/pdf",
        "Content-Length": str(len(content)),
    }
    assert target["expiresAt"] is not None

    response = put(service, target, content)
    assert response.status_code == 204, response.get_data(as_text=True)
    assert len(staged(service)) == 1 and count_rows(service, "files") == 0

    result = data(
        service,
        CREATE,
        {
            "input": {
                "sha256": sha256(content),
                "name": "grande.pdf",
                "entity": {"entityType": "EXPENSE", "entityId": "exp-3"},
            }
        },
        headers=acme,
    )["createFile"]
    assert result["error"] is None, result
    file = result["file"]
    assert (file["sha256"], file["size"], file["status"]) == (sha256(content), len(content), "READY")
    assert file["name"] == "grande.pdf" and file["mime"] == "application/pdf"
    assert file["entities"] == [{"entityType": "EXPENSE", "entityId": "exp-3"}]
    assert_nothing_left(service, files=1, links=1)
    download = service.client.get(path_of(sign(service, acme, file["id"])["url"]))
    assert download.data == content


def test_generate_temp_file_urls_for_known_bytes_returns_the_existing_file(service: Any, acme: dict) -> None:
    existing = add_file(service, acme, PDF, name="ya.pdf")
    target = declare(service, acme, PDF, name="otra-vez.pdf")

    assert target["existingFile"] == {"id": existing["id"], "name": "ya.pdf"}
    assert target["uploadUrl"] is None and target["method"] is None and target["headers"] == []
    assert_nothing_left(service, files=1)


def test_create_file_keeps_a_temporary_file_with_the_same_bytes(service: Any, acme: dict) -> None:
    tmp = upload(service, UPLOAD_TMP_FILE, PDF, headers=acme).get_json()["data"]["uploadTmpFile"]["file"]
    result = data(service, CREATE, {"input": {"sha256": sha256(PDF)}}, headers=acme)["createFile"]
    assert result["error"] is None
    assert result["file"]["id"] == tmp["id"]
    assert result["file"]["status"] == "READY" and result["file"]["expiresAt"] is None


# --- reads --------------------------------------------------------------------------------


FIND = """query($filter: FileFilterInput, $first: Int, $after: String) {
  findFiles(filter: $filter, first: $first, after: $after) {
    edges { cursor node { id name } } pageInfo { endCursor hasNextPage } error { code message field } } }"""


def find(service: Any, headers: dict, **variables: Any) -> dict[str, Any]:
    result = data(service, FIND, variables, headers=headers)["findFiles"]
    assert result["error"] is None, result
    return result


def names(result: dict[str, Any]) -> list[str]:
    return [edge["node"]["name"] for edge in result["edges"]]


def test_find_files_filters(timed: Any, clock: FakeClock) -> None:
    headers = timed.headers("acme")
    add_file(timed, headers, PDF, name="Factura-Enero.pdf")  # START
    clock.advance(timedelta(hours=1))
    add_file(timed, headers, PNG, name="logo.png", entity=("CLIENT", "cl-1"))  # START + 1h
    clock.advance(timedelta(hours=1))
    add_file(
        timed,
        headers,
        b"fecha,monto\n2026-11-24,10.00\n",
        name="extracto.csv",
        entity=("BANK_STATEMENT", "bs-1"),
    )  # START + 2h

    assert names(find(timed, headers)) == ["extracto.csv", "logo.png", "Factura-Enero.pdf"]
    assert names(find(timed, headers, filter={"nameContains": "FACTURA"})) == ["Factura-Enero.pdf"]
    assert names(find(timed, headers, filter={"mime": "image/png"})) == ["logo.png"]
    assert names(find(timed, headers, filter={"mime": "text/csv"})) == ["extracto.csv"]
    assert names(find(timed, headers, filter={"entityType": "CLIENT"})) == ["logo.png"]
    assert names(find(timed, headers, filter={"entityType": "INVOICE"})) == []
    window = {"createdFrom": iso(START + timedelta(hours=1)), "createdTo": iso(START + timedelta(hours=2))}
    assert names(find(timed, headers, filter=window)) == ["logo.png"]  # from inclusive, to exclusive
    assert names(find(timed, headers, filter={"createdFrom": iso(START + timedelta(minutes=30))})) == [
        "extracto.csv",
        "logo.png",
    ]
    assert names(find(timed, headers, filter={"nameContains": "e", "entityType": "BANK_STATEMENT"})) == [
        "extracto.csv"
    ]


def test_find_files_pages_with_a_cursor(timed: Any, clock: FakeClock) -> None:
    headers = timed.headers("acme")
    for index in range(5):
        add_file(timed, headers, PDF + bytes([index]), name=f"f{index}.pdf")
        clock.advance(timedelta(minutes=1))

    first = find(timed, headers, first=2)
    assert names(first) == ["f4.pdf", "f3.pdf"]
    assert first["pageInfo"] == {"endCursor": first["edges"][-1]["cursor"], "hasNextPage": True}
    second = find(timed, headers, first=2, after=first["pageInfo"]["endCursor"])
    assert names(second) == ["f2.pdf", "f1.pdf"] and second["pageInfo"]["hasNextPage"] is True
    last = find(timed, headers, first=2, after=second["pageInfo"]["endCursor"])
    assert names(last) == ["f0.pdf"] and last["pageInfo"]["hasNextPage"] is False


def test_find_files_pages_deterministically_when_files_share_a_timestamp(timed: Any) -> None:
    headers = timed.headers("acme")  # the clock does not move: every file has the same created_at
    for index in range(5):
        add_file(timed, headers, PDF + bytes([index]), name=f"f{index}.pdf")
    seen: list[str] = []
    after = None
    for _ in range(5):
        page = find(timed, headers, first=2, after=after)
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == 5 and len(set(seen)) == 5


def test_get_file_by_search_is_case_insensitive_and_treats_wildcards_literally(
    service: Any, acme: dict
) -> None:
    add_file(service, acme, PDF, name="Factura-ENERO.pdf")
    add_file(service, acme, PNG, name="logo_empresa.png")
    search = "query($s: String!) { getFileBySearch(search: $s) { files { name } error { code field } } }"

    def hits(text: str) -> list[str]:
        result = data(service, search, {"s": text}, headers=acme)["getFileBySearch"]
        assert result["error"] is None
        return sorted(item["name"] for item in result["files"])

    assert hits("factura-enero") == ["Factura-ENERO.pdf"]
    assert hits("FACTURA") == ["Factura-ENERO.pdf"]
    assert hits("_") == ["logo_empresa.png"]
    assert hits("%") == []
    assert hits("nomatch") == []
    empty = data(service, search, {"s": "   "}, headers=acme)["getFileBySearch"]
    assert empty["error"] == {"code": "INVALID_INPUT", "field": "search"}


def test_find_by_file_name_is_exact(service: Any, acme: dict) -> None:
    add_file(service, acme, PDF, name="Report.pdf")
    add_file(service, acme, PNG, name="Report.pdf.png")
    query = "query($n: String!) { findByFileName(name: $n) { files { name } error { code } } }"

    assert data(service, query, {"n": "Report.pdf"}, headers=acme)["findByFileName"]["files"] == [
        {"name": "Report.pdf"}
    ]
    assert data(service, query, {"n": "report.pdf"}, headers=acme)["findByFileName"]["files"] == []
    assert data(service, query, {"n": "Report"}, headers=acme)["findByFileName"]["files"] == []


def test_find_files_by_entity_and_file_entities(service: Any, acme: dict) -> None:
    a = add_file(service, acme, PDF, entity=("INVOICE", "inv-1"))
    b = add_file(service, acme, PNG, entity=("INVOICE", "inv-1"))
    add_file(service, acme, b"%PDF-1.7 otra", entity=("INVOICE", "inv-2"))
    data(
        service,
        'mutation($id: ID!) { addFileEntity(fileId: $id, entityType: "CLIENT", entityId: "cl-1") { error'
        " { code } } }",
        {"id": b["id"]},
        headers=acme,
    )

    result = data(
        service,
        """{
      one: findFilesByEntity(entityType: "INVOICE", entityId: "inv-1") {
        files { id entities { fileId entityType entityId } } error { code } }
      none: findFilesByEntity(entityType: "INVOICE", entityId: "inv-404") { files { id } error { code } }
    }""",
        headers=acme,
    )

    files = {item["id"]: item["entities"] for item in result["one"]["files"]}
    assert set(files) == {a["id"], b["id"]}
    assert files[a["id"]] == [{"fileId": a["id"], "entityType": "INVOICE", "entityId": "inv-1"}]
    assert {(e["entityType"], e["entityId"]) for e in files[b["id"]]} == {
        ("INVOICE", "inv-1"),
        ("CLIENT", "cl-1"),
    }
    assert result["none"] == {"files": [], "error": None}


def test_get_file_by_id(service: Any, acme: dict) -> None:
    file = add_file(service, acme, PDF, name="x.pdf")
    got = data(
        service,
        f"query($id: ID!) {{ getFileById(id: $id) {{ file {{ {FILE_FIELDS} }} error {{ code }} }} }}",
        {"id": file["id"]},
        headers=acme,
    )["getFileById"]
    assert got["error"] is None
    assert got["file"] == {key: file[key] for key in FILE_FIELDS.split()}


def test_entity_types_lists_the_registry(service: Any, acme: dict) -> None:
    types = data(service, "{ entityTypes }", headers=acme)["entityTypes"]
    assert {
        "INVOICE",
        "CREDIT_NOTE",
        "QUOTE",
        "CONTRACT",
        "EXPENSE",
        "SUPPLIER",
        "CLIENT",
        "BANK_STATEMENT",
        "CHAT",
    } <= set(types)
    assert len(types) == len(set(types))


def test_me_is_who_the_token_says(service: Any) -> None:
    headers = service.headers("acme", role="admin", subject="ana")
    me = data(service, "{ me { tenantId userId role } }", headers=headers)["me"]
    assert me == {"tenantId": service.tenant("acme"), "userId": "ana", "role": "admin"}


# --- bad input: uploads -------------------------------------------------------------------


@pytest.mark.parametrize("mutation, operation", [(ADD_FILE, "addFile"), (UPLOAD_TMP_FILE, "uploadTmpFile")])
def test_an_oversize_upload_is_refused_with_413_naming_the_limit(
    make_service: Any, mutation: str, operation: str
) -> None:
    service = make_service(max_upload_bytes=1024)
    headers = service.headers("acme")

    response = upload(service, mutation, b"%PDF" + b"x" * 2000, headers=headers)

    assert response.status_code == 413
    error = response.get_json()["error"]
    assert error["code"] == "FILE_TOO_LARGE" and "1024 bytes" in error["message"]
    assert_nothing_left(service)


def test_an_upload_of_exactly_the_limit_is_accepted(make_service: Any) -> None:
    service = make_service(max_upload_bytes=1024)
    file = add_file(service, service.headers("acme"), b"%PDF" + b"x" * 1020)
    assert file["size"] == 1024
    too_big = upload(service, ADD_FILE, b"%PDF" + b"x" * 1021, headers=service.headers("acme"))
    assert too_big.status_code == 413
    assert_nothing_left(service, files=1)


OPERATIONS = (
    '{"query": "mutation($f: Upload!) { addFile(file: $f) { file { id } } }", "variables": {"f": null}}'
)


@pytest.mark.parametrize(
    "body, content_type, expected",
    [
        pytest.param(
            multipart_body(
                [
                    ("operations", None, OPERATIONS.encode()),
                    ("map", None, b'{"0": ["variables.f"]}'),
                    ("0", "a.pdf", PDF * 100),
                ]
            )[:-40],
            "multipart/form-data; boundary=istmo-boundary",
            "corrupt",
            id="truncated",
        ),
        pytest.param(
            b"\x00\xff garbage \r\n\r\n not multipart at all" * 10,
            "multipart/form-data; boundary=istmo-boundary",
            "corrupt",
            id="garbage",
        ),
        pytest.param(
            multipart_body([("map", None, b'{"0": ["variables.f"]}'), ("0", "a.pdf", PDF)]),
            "multipart/form-data; boundary=istmo-boundary",
            "operations",
            id="missing-operations",
        ),
        pytest.param(
            multipart_body([("operations", None, OPERATIONS.encode()), ("0", "a.pdf", PDF)]),
            "multipart/form-data; boundary=istmo-boundary",
            "map",
            id="missing-map",
        ),
        pytest.param(
            multipart_body(
                [
                    ("operations", None, b"{not json"),
                    ("map", None, b'{"0": ["variables.f"]}'),
                    ("0", "a.pdf", PDF),
                ]
            ),
            "multipart/form-data; boundary=istmo-boundary",
            "malformed",
            id="operations-not-json",
        ),
        pytest.param(
            multipart_body(
                [
                    ("operations", None, OPERATIONS.encode()),
                    ("map", None, b'{"0": ["variables.f"]}'),
                    ("0", "a.pdf", PDF),
                ]
            ),
            "multipart/form-data",
            "boundary",
            id="no-boundary",
        ),
    ],
)
def test_a_corrupt_multipart_request_is_refused_with_400_and_leaves_nothing(
    service: Any, acme: dict, body: bytes, content_type: str, expected: str
) -> None:
    response = service.client.post(
        "/graphql", data=body, content_type=content_type, headers={**acme, "GraphQL-Preflight": "1"}
    )

    assert response.status_code == 400, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "BAD_MULTIPART"
    assert expected in error["message"]
    assert_nothing_left(service)


def test_a_multipart_map_that_misses_the_upload_variable_is_refused_and_its_upload_discarded(
    service: Any, acme: dict
) -> None:
    body = multipart_body(
        [
            ("operations", None, OPERATIONS.encode()),
            ("map", None, b'{"0": ["variables.g"]}'),
            ("0", "a.pdf", PDF),
        ]
    )
    response = raw_multipart(service, body, headers=acme)
    assert response.status_code == 400
    assert "$f" in response.get_data(as_text=True)  # the operation's Upload! variable was never filled
    assert_nothing_left(service)


def test_a_multipart_batch_is_refused_and_its_upload_discarded(service: Any, acme: dict) -> None:
    body = multipart_body(
        [
            ("operations", None, f"[{OPERATIONS}]".encode()),
            ("map", None, b'{"0": ["0.variables.f"]}'),
            ("0", "a.pdf", PDF),
        ]
    )
    response = raw_multipart(service, body, headers=acme)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "BATCH_NOT_SUPPORTED"
    assert_nothing_left(service)


def test_multipart_without_the_preflight_header_is_refused_and_nothing_is_written(
    service: Any, acme: dict
) -> None:
    response = upload(service, ADD_FILE, PDF, headers=acme, preflight=False)

    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "PREFLIGHT_REQUIRED" and "GraphQL-Preflight" in error["message"]
    assert_nothing_left(service)
    assert not (service.container.settings().files_dir / "staging").exists()


def test_multipart_with_apollos_preflight_header_is_accepted(service: Any, acme: dict) -> None:
    response = upload(
        service, ADD_FILE, PDF, headers={**acme, "Apollo-Require-Preflight": "true"}, preflight=False
    )
    assert response.status_code == 200
    assert response.get_json()["data"]["addFile"]["file"]["sha256"] == sha256(PDF)


def test_an_upload_variable_that_is_not_a_file_part_is_refused(service: Any, acme: dict) -> None:
    payload = gql(
        service,
        "mutation($f: Upload!) { addFile(file: $f) { file { id } error { code field } } }",
        {"f": "not a file"},
        headers=acme,
    )
    assert payload["data"]["addFile"] == {"file": None, "error": {"code": "INVALID_INPUT", "field": "file"}}
    assert_nothing_left(service)


def test_a_non_json_post_is_refused_with_415(service: Any, acme: dict) -> None:
    response = service.client.post(
        "/graphql", data="{ me { tenantId } }", content_type="text/plain", headers=acme
    )
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


def test_a_json_batch_is_refused_with_400(service: Any, acme: dict) -> None:
    response = service.client.post("/graphql", json=[{"query": "{ me { tenantId } }"}] * 2, headers=acme)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "BATCH_NOT_SUPPORTED" and "one GraphQL operation" in error["message"]


@pytest.mark.parametrize("body", [b"{not json", b'"a string"', b"null"])
def test_a_json_body_that_is_not_a_graphql_request_is_refused_with_400(
    service: Any, acme: dict, body: bytes
) -> None:
    response = service.client.post("/graphql", data=body, content_type="application/json", headers=acme)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "BAD_REQUEST"


# --- bad input: entity types, ids ---------------------------------------------------------


def test_add_file_with_an_unknown_entity_type_is_refused_and_leaves_nothing(service: Any, acme: dict) -> None:
    response = upload(
        service,
        ADD_FILE,
        PDF,
        headers=acme,
        variables={"entity": {"entityType": "SPACESHIP", "entityId": "x-1"}},
    )
    error = error_of(response.get_json(), "addFile")
    assert error["code"] == "UNKNOWN_ENTITY_TYPE" and error["field"] == "entityType"
    assert "SPACESHIP" in error["message"] and "INVOICE" in error["message"]
    assert response.get_json()["data"]["addFile"]["file"] is None
    assert_nothing_left(service)


def test_an_unknown_entity_type_is_refused_everywhere_entity_types_are_taken(
    service: Any, acme: dict
) -> None:
    file = add_file(service, acme, PDF)
    link = gql(
        service,
        'mutation($id: ID!) { addFileEntity(fileId: $id, entityType: "invoice", entityId: "i-1")'
        " { fileEntity { id } error { code field message } } }",
        {"id": file["id"]},
        headers=acme,
    )
    by_entity = gql(
        service,
        '{ findFilesByEntity(entityType: "NOPE", entityId: "i-1") { files { id } error { code field } } }',
        headers=acme,
    )
    listed = gql(
        service,
        '{ findFiles(filter: {entityType: "NOPE"}) { edges { cursor } error { code field } } }',
        headers=acme,
    )

    assert error_of(link, "addFileEntity")["code"] == "UNKNOWN_ENTITY_TYPE"
    assert error_of(link, "addFileEntity")["field"] == "entityType"
    assert error_of(by_entity, "findFilesByEntity") == {"code": "UNKNOWN_ENTITY_TYPE", "field": "entityType"}
    assert error_of(listed, "findFiles") == {"code": "UNKNOWN_ENTITY_TYPE", "field": "filter.entityType"}
    assert_nothing_left(service, files=1, links=0)


def test_create_file_with_an_unknown_entity_type_is_refused(service: Any, acme: dict) -> None:
    add_file(service, acme, PDF)
    created = gql(
        service,
        CREATE,
        {"input": {"sha256": sha256(PDF), "entity": {"entityType": "NOPE", "entityId": "i-1"}}},
        headers=acme,
    )
    assert error_of(created, "createFile")["code"] == "UNKNOWN_ENTITY_TYPE"
    assert error_of(created, "createFile")["field"] == "entityType"
    assert_nothing_left(service, files=1, links=0)


def test_a_malformed_entity_id_is_refused(service: Any, acme: dict) -> None:
    response = upload(
        service,
        ADD_FILE,
        PDF,
        headers=acme,
        variables={"entity": {"entityType": "INVOICE", "entityId": "../etc passwd"}},
    )
    error = error_of(response.get_json(), "addFile")
    assert error["code"] == "INVALID_INPUT" and error["field"] == "entityId"
    assert_nothing_left(service)


@pytest.mark.parametrize(
    "query, operation, field",
    [
        (
            "query($id: ID!) { getFileById(id: $id) { file { id } error { code message field } } }",
            "getFileById",
            "id",
        ),
        (
            "mutation($id: ID!) { deleteFile(id: $id) { deletedId error { code message field } } }",
            "deleteFile",
            "id",
        ),
        (
            'mutation($id: ID!) { addFileEntity(fileId: $id, entityType: "INVOICE", entityId: "i-1")'
            " { fileEntity { id } error { code message field } } }",
            "addFileEntity",
            "fileId",
        ),
        (
            "mutation($id: ID!) { generateFileUrls(fileIds: [$id]) { signedUrls { url } error"
            " { code message field } } }",
            "generateFileUrls",
            "fileIds",
        ),
        (
            "query($id: String) { findFiles(after: $id) { edges { cursor } error { code message field } } }",
            "findFiles",
            "after",
        ),
    ],
)
def test_a_malformed_id_is_refused_naming_the_field(
    service: Any, acme: dict, query: str, operation: str, field: str
) -> None:
    add_file(service, acme, PDF)
    error = error_of(gql(service, query, {"id": "not-a-uuid'; DROP TABLE files;--"}, headers=acme), operation)
    assert error["code"] == "INVALID_INPUT"
    assert error["field"] == field
    assert "not a valid id" in error["message"] or "not a cursor this API returned" in error["message"]
    assert_nothing_left(service, files=1)


def test_generate_signed_url_with_a_malformed_id_is_refused(service: Any, acme: dict) -> None:
    error = error_of(gql(service, SIGN, {"id": "nope"}, headers=acme), "generateSignedUrl")
    assert error["code"] == "INVALID_INPUT" and "not a valid id" in error["message"]


def test_generate_signed_url_errors_name_its_own_field(service: Any, acme: dict) -> None:
    malformed = error_of(gql(service, SIGN, {"id": "nope"}, headers=acme), "generateSignedUrl")
    missing = error_of(gql(service, SIGN, {"id": str(uuid.uuid4())}, headers=acme), "generateSignedUrl")
    assert malformed["field"] == "fileId" and missing["field"] == "fileId"


def test_add_file_entity_on_a_missing_file_names_the_file_id_field(service: Any, acme: dict) -> None:
    result = gql(
        service,
        'mutation($id: ID!) { addFileEntity(fileId: $id, entityType: "INVOICE", entityId: "i-1") { error'
        " { code field } } }",
        {"id": str(uuid.uuid4())},
        headers=acme,
    )
    assert error_of(result, "addFileEntity") == {"code": "NOT_FOUND", "field": "fileId"}


def test_another_tenants_file_reads_as_not_found_and_is_absent_from_every_list(service: Any) -> None:
    acme, globex = service.headers("acme"), service.headers("globex", subject="user-2")
    theirs = add_file(service, globex, PDF, name="secreto.pdf", entity=("INVOICE", "inv-1"))
    mine = add_file(service, acme, PNG, name="mio.png", entity=("INVOICE", "inv-1"))
    variables = {"id": theirs["id"]}

    got = gql(
        service,
        "query($id: ID!) { getFileById(id: $id) { file { id } error { code field } } }",
        variables,
        headers=acme,
    )
    link = gql(
        service,
        'mutation($id: ID!) { addFileEntity(fileId: $id, entityType: "INVOICE", entityId: "i-2")'
        " { fileEntity { id } error { code } } }",
        variables,
        headers=acme,
    )
    signed = gql(service, SIGN, variables, headers=acme)
    many = gql(
        service,
        "mutation($ids: [ID!]!) { generateFileUrls(fileIds: $ids) { signedUrls { url } error { code } } }",
        {"ids": [mine["id"], theirs["id"]]},
        headers=acme,
    )
    deleted = gql(service, DELETE, variables, headers=acme)

    assert error_of(got, "getFileById")["code"] == "NOT_FOUND"
    assert got["data"]["getFileById"]["file"] is None
    assert error_of(link, "addFileEntity")["code"] == "NOT_FOUND"
    assert error_of(signed, "generateSignedUrl")["code"] == "NOT_FOUND"
    assert signed["data"]["generateSignedUrl"]["signedUrl"] is None
    assert error_of(many, "generateFileUrls")["code"] == "NOT_FOUND"
    assert many["data"]["generateFileUrls"]["signedUrls"] == []
    assert error_of(deleted, "deleteFile")["code"] == "NOT_FOUND"

    lists = data(
        service,
        """{
      all: findFiles { edges { node { id } } }
      named: findFiles(filter: {nameContains: "secreto"}) { edges { node { id } } }
      search: getFileBySearch(search: "secreto") { files { id } }
      exact: findByFileName(name: "secreto.pdf") { files { id } }
      entity: findFilesByEntity(entityType: "INVOICE", entityId: "inv-1") { files { id entities { fileId } } }
    }""",
        headers=acme,
    )
    assert [e["node"]["id"] for e in lists["all"]["edges"]] == [mine["id"]]
    assert lists["named"]["edges"] == [] and lists["search"]["files"] == [] and lists["exact"]["files"] == []
    assert lists["entity"]["files"] == [{"id": mine["id"], "entities": [{"fileId": mine["id"]}]}]

    # theirs is untouched: still there, still linked only to its own entity, still downloadable
    assert count_rows(service, "files") == 2 and count_rows(service, "file_entities") == 2
    again = data(
        service,
        "query($id: ID!) { getFileById(id: $id) { file { id entities { entityId } } } }",
        variables,
        headers=globex,
    )
    assert again["getFileById"]["file"] == {"id": theirs["id"], "entities": [{"entityId": "inv-1"}]}
    assert service.client.get(path_of(sign(service, globex, theirs["id"])["url"])).data == PDF


def test_generate_temp_file_urls_does_not_reveal_another_tenants_bytes(service: Any) -> None:
    add_file(service, service.headers("globex", subject="user-2"), PDF)
    target = declare(service, service.headers("acme"), PDF)
    assert target["existingFile"] is None and target["uploadUrl"]


# --- bad input: direct uploads ------------------------------------------------------------


def test_create_file_with_bytes_that_do_not_match_the_declared_sha256_is_refused_and_discarded(
    service: Any, acme: dict
) -> None:
    declared = PDF + b" original"
    sent = PDF + b" tampered"  # same length, so the PUT itself is accepted
    target = declare(service, acme, declared)
    assert put(service, target, sent).status_code == 204
    assert len(staged(service)) == 1

    result = gql(service, CREATE, {"input": {"sha256": sha256(declared), "name": "x.pdf"}}, headers=acme)

    error = error_of(result, "createFile")
    assert error["code"] == "CHECKSUM_MISMATCH" and error["field"] == "sha256"
    assert sha256(sent) in error["message"] and sha256(declared) in error["message"]
    assert result["data"]["createFile"]["file"] is None
    assert_nothing_left(service)


def test_create_file_with_nothing_uploaded_is_refused(service: Any, acme: dict) -> None:
    result = gql(service, CREATE, {"input": {"sha256": sha256(b"never sent")}}, headers=acme)
    error = error_of(result, "createFile")
    assert error["code"] == "UPLOAD_NOT_FOUND" and error["field"] == "sha256"
    assert_nothing_left(service)


def test_create_file_with_a_malformed_sha256_is_refused(service: Any, acme: dict) -> None:
    error = error_of(gql(service, CREATE, {"input": {"sha256": "abc"}}, headers=acme), "createFile")
    assert error["code"] == "INVALID_INPUT" and error["field"] == "sha256"


@pytest.mark.parametrize(
    "declared, code, field",
    [
        ({"size": 0}, "INVALID_INPUT", "files[0].size"),
        ({"size": 1.5}, "INVALID_INPUT", "files[0].size"),
        ({"mime": "pdf"}, "INVALID_INPUT", "files[0].mime"),
        ({"sha256": "xyz"}, "INVALID_INPUT", "files[0].sha256"),
        ({"size": 4096}, "FILE_TOO_LARGE", "file"),
    ],
)
def test_generate_temp_file_urls_refuses_bad_declarations(
    make_service: Any, declared: dict, code: str, field: str
) -> None:
    service = make_service(max_upload_bytes=1024)
    item = {"name": "a.pdf", "size": 10, "mime": "application/pdf", "sha256": sha256(b"a"), **declared}
    error = error_of(
        gql(service, TEMP_URLS, {"files": [item]}, headers=service.headers("acme")), "generateTempFileUrls"
    )
    assert error["code"] == code and error["field"] == field
    if code == "FILE_TOO_LARGE":
        assert "1024 bytes" in error["message"]
    assert_nothing_left(service)


def test_a_put_upload_of_the_declared_bytes_is_staged(service: Any, acme: dict) -> None:
    response = put(service, mint_upload(service, "acme", PDF), PDF)
    assert response.status_code == 204
    [path] = staged(service)
    assert path.read_bytes() == PDF and path.name == sha256(PDF)
    assert count_rows(service, "files") == 0


def test_a_put_upload_with_the_wrong_content_length_is_refused(service: Any, acme: dict) -> None:
    target = mint_upload(service, "acme", PDF)
    response = put(service, target, PDF + b"extra")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "SIZE_MISMATCH" and str(len(PDF)) in error["message"]
    assert_nothing_left(service)


def body_ending_early(sent: bytes, promised: int) -> dict[str, Any]:
    """WSGI environ keys of a request whose client disconnects before sending ``promised`` bytes."""
    return {"wsgi.input": io.BytesIO(sent), "CONTENT_LENGTH": str(promised)}


def test_a_multipart_upload_whose_client_disconnects_leaves_nothing(service: Any, acme: dict) -> None:
    body = multipart_body(
        [
            ("operations", None, OPERATIONS.encode()),
            ("map", None, b'{"0": ["variables.f"]}'),
            ("0", "a.pdf", PDF * 50),
        ]
    )
    response = service.client.post(
        "/graphql",
        content_type="multipart/form-data; boundary=istmo-boundary",
        headers={**acme, "GraphQL-Preflight": "1"},
        environ_overrides=body_ending_early(body[:-200], len(body)),
    )
    assert response.status_code == 400
    assert_nothing_left(service)


def test_a_put_upload_with_the_wrong_content_type_is_refused(service: Any, acme: dict) -> None:
    target = mint_upload(service, "acme", PDF)
    response = put(service, target, PDF, **{"Content-Type": "text/html"})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "TYPE_MISMATCH" and "text/html" in error["message"]
    assert_nothing_left(service)


def test_a_put_upload_whose_body_ends_early_leaves_no_staging_file(service: Any, acme: dict) -> None:
    target = mint_upload(service, "acme", PDF)
    # Content-Length promises the declared size, the client disconnects after 5 bytes
    response = service.client.put(
        path_of(target["uploadUrl"]),
        content_type="application/pdf",
        environ_overrides=body_ending_early(PDF[:5], len(PDF)),
    )
    assert response.status_code == 400
    assert_nothing_left(service)


def test_a_put_upload_with_an_expired_token_is_refused(timed: Any, clock: FakeClock) -> None:
    target = mint_upload(timed, "acme", PDF)  # valid for one hour
    clock.advance(timedelta(hours=1, seconds=1))

    response = put(timed, target, PDF)

    assert response.status_code == 410
    assert response.get_json()["error"]["code"] == "LINK_EXPIRED"
    assert_nothing_left(timed)


def test_a_put_upload_with_a_tampered_token_is_refused(service: Any, acme: dict) -> None:
    target = mint_upload(service, "acme", PDF)
    url = target["uploadUrl"]
    target["uploadUrl"] = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
    response = put(service, target, PDF)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "LINK_INVALID"
    assert_nothing_left(service)


# --- bad input: signed download links -----------------------------------------------------


def test_an_expired_signed_url_is_refused_with_410(timed: Any, clock: FakeClock) -> None:
    headers = timed.headers("acme")
    file = add_file(timed, headers, PDF)
    url = sign(timed, headers, file["id"], ttl=60)["url"]
    assert timed.client.get(path_of(url)).status_code == 200

    clock.advance(timedelta(seconds=61))
    response = timed.client.get(path_of(url))

    assert response.status_code == 410
    error = response.get_json()["error"]
    assert error["code"] == "LINK_EXPIRED" and "expired" in error["message"]
    assert PDF not in response.data


def test_a_link_minted_by_a_storage_whose_clock_is_behind_is_already_expired(
    service: Any, acme: dict
) -> None:
    from adapters.storage.local import LocalFileStorage

    file = add_file(service, acme, PDF)
    settings = service.container.settings()
    past = LocalFileStorage(
        settings.files_dir,
        public_url=settings.public_url,
        secret=settings.signing_secret,
        clock=FakeClock(datetime.now(UTC) - timedelta(days=1)),
    )
    url = past.download_url(
        f"{service.tenant('acme')}/{file['sha256']}",
        filename="a.pdf",
        mime="application/pdf",
        expires_in=3600,
        inline=False,
    )
    response = service.client.get(path_of(url))
    assert response.status_code == 410 and response.get_json()["error"]["code"] == "LINK_EXPIRED"


def test_a_tampered_signed_url_is_refused_with_403(service: Any, acme: dict) -> None:
    from adapters.storage.local import LocalFileStorage

    file = add_file(service, acme, PDF)
    url = sign(service, acme, file["id"])["url"]
    token = url.rsplit("/", 1)[1]
    payload, _, signature = token.rpartition(".")
    altered_payload = url.replace(payload, payload[:-2] + ("xx" if not payload.endswith("xx") else "yy"))
    altered_signature = url.replace(signature, signature[::-1])
    settings = service.container.settings()
    forged = LocalFileStorage(
        settings.files_dir,
        public_url=settings.public_url,
        secret="another-secret",
        clock=FakeClock(datetime.now(UTC)),
    ).download_url(
        f"{service.tenant('acme')}/{file['sha256']}",
        filename="a.pdf",
        mime="text/html",
        expires_in=60,
        inline=True,
    )

    for bad in (altered_payload, altered_signature, forged, url + "x"):
        response = service.client.get(path_of(bad))
        assert response.status_code == 403, bad
        assert response.get_json()["error"]["code"] == "LINK_INVALID"
        assert PDF not in response.data
    assert service.client.get(path_of(url)).status_code == 200  # the genuine link still works


def test_an_upload_token_is_not_a_download_token(service: Any, acme: dict) -> None:
    add_file(service, acme, PDF)
    target = mint_upload(service, "acme", PDF)
    token = target["uploadUrl"].rsplit("/", 1)[1]
    response = service.client.get(f"/files/download/{token}")
    assert response.status_code == 403
    assert PDF not in response.data


def test_generate_signed_url_refuses_an_expiry_out_of_range(service: Any, acme: dict) -> None:
    file = add_file(service, acme, PDF)
    for ttl in (-5, 7 * 24 * 3600 + 1):
        error = error_of(
            gql(service, SIGN, {"id": file["id"], "ttl": ttl}, headers=acme), "generateSignedUrl"
        )
        assert error["code"] == "INVALID_INPUT" and error["field"] == "expiresIn"


def test_generate_signed_url_refuses_a_zero_expiry(service: Any, acme: dict) -> None:
    file = add_file(service, acme, PDF)
    error = error_of(gql(service, SIGN, {"id": file["id"], "ttl": 0}, headers=acme), "generateSignedUrl")
    assert error["code"] == "INVALID_INPUT" and error["field"] == "expiresIn"
