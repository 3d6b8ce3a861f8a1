"""The N+1 target: files of many entities, with their links and signed URLs, in one request,
load in a constant number of SQL statements (the per-request dataloaders).

Statements are counted with a ``before_cursor_execute`` listener on the container's engine
for the whole HTTP request, authentication included.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import event

from adapters.db.files.tables import file_entities, files
from application.files.handlers import blob_key
from application.files.staging import stage_chunks
from domain.files.model import EntityType, FileStatus
from domain.shared.model import new_id

ENTITIES = 100
FILES_PER_ENTITY = 5
MAX_STATEMENTS = 3  # authentication, the files of all entities, the links of all files


@contextmanager
def counting_statements(engine: Any) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def content(entity: int, index: int) -> bytes:
    return f"%PDF-1.7 entity {entity} file {index}".encode()


@pytest.fixture
def seeded(service: Any) -> Any:
    """100 invoices with 5 files each: blobs through the storage port, rows in two bulk inserts
    (the write path has its own tests; a row-by-row seed would dominate the run time)."""
    tenant_id = service.tenant("acme")
    storage = service.container.storage()
    now = datetime.now(UTC)
    file_rows, link_rows = [], []
    for entity in range(ENTITIES):
        for index in range(FILES_PER_ENTITY):
            staged = stage_chunks(storage, [content(entity, index)], max_size=1 << 20)
            storage.commit_staged(staged.ref, blob_key(tenant_id, staged.sha256))
            file_id = new_id()
            file_rows.append(
                {
                    "id": file_id,
                    "tenant_id": tenant_id,
                    "name": f"inv-{entity}-{index}.pdf",
                    "sha256": staged.sha256,
                    "mime": "application/pdf",
                    "size": staged.size,
                    "status": FileStatus.READY,
                    "created_by": "seed",
                    "created_at": now + timedelta(microseconds=entity * FILES_PER_ENTITY + index),
                    "expires_at": None,
                }
            )
            link_rows.append(
                {
                    "id": new_id(),
                    "tenant_id": tenant_id,
                    "file_id": file_id,
                    "entity_type": EntityType.INVOICE,
                    "entity_id": f"inv-{entity}",
                    "created_at": now,
                }
            )
    with service.container.engine().begin() as connection:
        connection.execute(files.insert(), file_rows)
        connection.execute(file_entities.insert(), link_rows)
    return service


def query_for(entities: range) -> str:
    fields = " ".join(
        f'e{n}: findFilesByEntity(entityType: "INVOICE", entityId: "inv-{n}") '
        "{ files { id name entities { entityType entityId } signedUrl } error { code } }"
        for n in entities
    )
    return "{ " + fields + " }"


def run(service: Any, headers: dict[str, str], entities: range) -> tuple[dict[str, Any], list[str]]:
    with counting_statements(service.container.engine()) as statements:
        response = service.client.post("/graphql", json={"query": query_for(entities)}, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    payload = response.get_json()
    assert not payload.get("errors"), payload["errors"][:3]
    return payload["data"], statements


def test_files_of_100_entities_load_in_a_constant_number_of_statements(seeded: Any) -> None:
    headers = seeded.headers("acme")

    data, statements = run(seeded, headers, range(ENTITIES))

    print(f"\nSQL statements for {ENTITIES} entities x {FILES_PER_ENTITY} files: {len(statements)}")
    for statement in statements:
        print("  ", " ".join(statement.split())[:160])
    assert len(statements) <= MAX_STATEMENTS, statements

    # and the answer is complete and right
    for n in range(ENTITIES):
        result = data[f"e{n}"]
        assert result["error"] is None
        assert sorted(file["name"] for file in result["files"]) == [
            f"inv-{n}-{index}.pdf" for index in range(FILES_PER_ENTITY)
        ]
        for file in result["files"]:
            assert file["entities"] == [{"entityType": "INVOICE", "entityId": f"inv-{n}"}]
            assert file["signedUrl"].startswith("http://localhost/files/download/")
    assert (
        len({file["id"] for n in range(ENTITIES) for file in data[f"e{n}"]["files"]})
        == ENTITIES * FILES_PER_ENTITY
    )
    sample = data["e42"]["files"][0]
    download = seeded.client.get(urlsplit(sample["signedUrl"]).path)
    assert download.status_code == 200
    assert download.data == content(42, int(sample["name"].rsplit("-", 1)[1].split(".")[0]))

    # the count does not grow with the number of entities
    _, few = run(seeded, headers, range(3))
    assert len(few) == len(statements), (few, statements)
