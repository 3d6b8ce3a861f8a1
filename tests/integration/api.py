"""Helpers shared by the API tests: GraphQL over JSON and multipart, and what was left behind.

Everything here goes through the Flask test client of a ``Service`` (see ``tests/conftest.py``)
or looks at what the service wrote: rows in the database, blobs and staging files on disk.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

from sqlalchemy import text

PREFLIGHT = {"GraphQL-Preflight": "1"}

ADD_FILE = """
mutation($f: Upload!, $name: String, $entity: EntityInput) {
  addFile(file: $f, name: $name, entity: $entity) {
    file { id name sha256 mime size status createdBy createdAt expiresAt entities { entityType entityId } }
    error { code message field }
  }
}
"""

UPLOAD_TMP_FILE = """
mutation($f: Upload!, $name: String) {
  uploadTmpFile(file: $f, name: $name) {
    file { id name sha256 mime size status expiresAt }
    error { code message field }
  }
}
"""


def gql(
    service: Any,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    headers: dict[str, str] | None = None,
    expect_status: int | None = 200,
) -> dict[str, Any]:
    """POST one JSON GraphQL operation; the decoded body (after checking the status)."""
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    response = service.client.post("/graphql", json=body, headers=headers or {})
    if expect_status is not None:
        assert response.status_code == expect_status, (response.status_code, response.get_data(as_text=True))
    payload = response.get_json()
    assert isinstance(payload, dict), response.get_data(as_text=True)
    return payload


def data(service: Any, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    """``data`` of a successful operation (no top-level ``errors``)."""
    payload = gql(service, query, variables, **kw)
    assert not payload.get("errors"), payload
    return payload["data"]


def upload(
    service: Any,
    query: str,
    content: bytes,
    *,
    filename: str = "file.bin",
    variables: dict[str, Any] | None = None,
    variable: str = "f",
    headers: dict[str, str] | None = None,
    preflight: bool = True,
) -> Any:
    """POST a GraphQL multipart request (one file mapped to ``variables.<variable>``); the response."""
    operations = {"query": query, "variables": {**(variables or {}), variable: None}}
    all_headers = {**(headers or {}), **(PREFLIGHT if preflight else {})}
    return service.client.post(
        "/graphql",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": [f"variables.{variable}"]}),
            "0": (io.BytesIO(content), filename),
        },
        headers=all_headers,
        content_type="multipart/form-data",
    )


def raw_multipart(
    service: Any, body: bytes, *, boundary: str = "istmo-boundary", headers: dict[str, str] | None = None
) -> Any:
    """POST an arbitrary (possibly corrupt) multipart body, with the preflight header."""
    return service.client.post(
        "/graphql",
        data=body,
        headers={**PREFLIGHT, **(headers or {})},
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def multipart_body(
    parts: list[tuple[str, str | None, bytes]], *, boundary: str = "istmo-boundary", close: bool = True
) -> bytes:
    """Encode ``(name, filename or None, content)`` parts by hand, so a test can break the encoding."""
    out = bytearray()
    for name, filename, content in parts:
        out += f"--{boundary}\r\n".encode()
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out += f"Content-Disposition: {disposition}\r\n".encode()
        if filename is not None:
            out += b"Content-Type: application/octet-stream\r\n"
        out += b"\r\n" + content + b"\r\n"
    if close:
        out += f"--{boundary}--\r\n".encode()
    return bytes(out)


def add_file(
    service: Any,
    headers: dict[str, str],
    content: bytes,
    *,
    filename: str = "file.bin",
    name: str | None = None,
    entity: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """``addFile`` that must succeed; the File."""
    variables: dict[str, Any] = {"name": name}
    if entity is not None:
        variables["entity"] = {"entityType": entity[0], "entityId": entity[1]}
    response = upload(service, ADD_FILE, content, filename=filename, variables=variables, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    result = response.get_json()["data"]["addFile"]
    assert result["error"] is None, result
    return result["file"]


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


# --- what was left behind -----------------------------------------------------------------


def count_rows(service: Any, table: str) -> int:
    assert table in (
        "files", "file_entities", "tenants", "users", "file_content_locks",
        "clients", "client_contacts", "invoices", "invoice_lines", "invoice_payments", "quotes", "quote_lines",
        "document_counters", "pdf_templates", "jobs",
        "webhook_events", "tenant_subscriptions",
        "client_emails", "email_messages", "email_templates", "email_settings",
    )
    with service.container.engine().connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def files_dir(service: Any) -> Path:
    return Path(service.container.settings().files_dir)


def blobs(service: Any) -> list[Path]:
    root = files_dir(service) / "blobs"
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def staged(service: Any) -> list[Path]:
    root = files_dir(service) / "staging"
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def assert_nothing_left(
    service: Any, *, files: int = 0, links: int = 0, blob_count: int | None = None
) -> None:
    """No row, blob or staging file beyond the expected ones."""
    assert count_rows(service, "files") == files
    assert count_rows(service, "file_entities") == links
    assert len(blobs(service)) == (files if blob_count is None else blob_count)
    assert staged(service) == []
