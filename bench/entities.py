"""Target 2: ``findFilesByEntity`` for 100 entities x 5 files, in one GraphQL request.

500 files are added through the bus (``AddFile``, each linked to one of 100 INVOICE entities),
then one request asks for the 100 entities with 100 aliased ``findFilesByEntity`` fields. SQL
statements are counted with a ``before_cursor_execute`` listener on the container's engine,
for that request and for an authentication-only request (``{ me { tenantId } }``), so the
statements the 100 fields cost are told apart from the bearer token's tenant lookup.

On PostgreSQL the tables are brand new, so the planner has no statistics yet; latency is
measured as they are, then again after ``ANALYZE`` (what autovacuum does on a live database).
"""

from __future__ import annotations

import time
from typing import Any

from bench.common import Service, count_statements, percentile

ENTITIES = 100
FILES_PER_ENTITY = 5
RUNS = 30
WARMUP = 3


def seed(service: Service, slug: str) -> None:
    from application.files.commands import AddFile
    from application.files.staging import stage_chunks

    actor = service.actor(slug)
    bus = service.container.bus()
    storage = service.container.storage()
    for entity in range(ENTITIES):
        for n in range(FILES_PER_ENTITY):
            content = b"%PDF-1.7\n% istmo bench " + f"{slug} {entity} {n}".encode() + b"\n%%EOF\n"
            staged = stage_chunks(storage, [content], max_size=1 << 20)
            bus.handle(
                AddFile(
                    actor=actor,
                    content=staged,
                    name=f"inv-{entity:03d}-{n}.pdf",
                    entity_type="INVOICE",
                    entity_id=f"inv-{entity:03d}",
                )
            )


def query() -> str:
    fields = " ".join(
        f'e{i}: findFilesByEntity(entityType: "INVOICE", entityId: "inv-{i:03d}") '
        "{ files { id name mime size status createdAt } error { code message } }"
        for i in range(ENTITIES)
    )
    return "query ByEntities { " + fields + " }"


def run(service: Service, slug: str = "bench-entities") -> dict[str, Any]:
    seed(service, slug)
    headers = service.headers(slug)
    client = service.app.test_client()
    body = {"query": query()}
    engine = service.container.engine()

    def post(payload: dict[str, Any]) -> Any:
        response = client.post("/graphql", json=payload, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        return response.get_json()

    for _ in range(WARMUP):
        post(body)
    with count_statements(engine) as statements:
        result = post(body)
    with count_statements(engine) as auth_statements:
        post({"query": "{ me { tenantId } }"})
    data = result.get("data") or {}
    complete = (
        not result.get("errors")
        and len(data) == ENTITIES
        and all(len((field or {}).get("files") or []) == FILES_PER_ENTITY for field in data.values())
    )
    def latencies() -> list[float]:
        samples = []
        for _ in range(RUNS):
            started = time.perf_counter()
            post(body)
            samples.append((time.perf_counter() - started) * 1000)
        return samples

    measured = latencies()
    analyzed: list[float] | None = None
    if engine.dialect.name == "postgresql":
        from sqlalchemy import text

        with engine.begin() as connection:
            connection.execute(text("ANALYZE files"))
            connection.execute(text("ANALYZE file_entities"))
        analyzed = latencies()
    return {
        "statements": len(statements),
        "auth_statements": len(auth_statements),
        "statement_texts": [" ".join(s.split())[:90] for s in statements],
        "complete": complete,
        "p50_ms": percentile(measured, 0.50),
        "p95_ms": percentile(measured, 0.95),
        "analyzed_p50_ms": percentile(analyzed, 0.50) if analyzed else None,
        "analyzed_p95_ms": percentile(analyzed, 0.95) if analyzed else None,
        "runs": RUNS,
    }
