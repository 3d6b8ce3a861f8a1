"""A first end-to-end check that the app, the database and local storage are wired together."""

from __future__ import annotations

import io
import json


def test_upload_then_find_by_entity(service) -> None:
    headers = {**service.headers("acme"), "GraphQL-Preflight": "1"}
    operations = {
        "query": "mutation($f: Upload!) { addFile(file: $f, entity: {entityType: \"INVOICE\", entityId: \"inv-1\"})"
        " { file { id name mime size } error { code } } }",
        "variables": {"f": None},
    }
    response = service.client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.f"]}),
              "0": (io.BytesIO(b"%PDF-1.7 factura"), "factura.pdf")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.json
    added = response.json["data"]["addFile"]["file"]
    assert added["mime"] == "application/pdf" and added["size"] == 16

    found = service.client.post(
        "/graphql",
        json={"query": '{ findFilesByEntity(entityType: "INVOICE", entityId: "inv-1") { files { id } } }'},
        headers=headers,
    )
    assert found.json["data"]["findFilesByEntity"]["files"] == [{"id": added["id"]}]
