"""Target 3: 1,000 uploads of 100 distinct files -> 100 rows and 100 blobs.

Each of 100 distinct contents (64 KiB, random) is uploaded 10 times through the API (GraphQL
multipart ``addFile``, Flask test client), in a shuffled order, by ``THREADS`` concurrent
clients, so uploads of the same bytes also race. Then the tenant's file rows and blobs are
counted, and the staging area is checked to be empty.
"""

from __future__ import annotations

import os
import random
import threading
import time
from typing import Any

from sqlalchemy import text

from bench.common import Service, multipart_body

DISTINCT = 100
COPIES = 10
SIZE = 64 * 1024
THREADS = 4


def run(service: Service, slug: str = "bench-dedupe") -> dict[str, Any]:
    tenant_id = service.tenant(slug)
    headers = service.headers(slug)
    contents = [os.urandom(SIZE) for _ in range(DISTINCT)]
    jobs = [index for index in range(DISTINCT) for _ in range(COPIES)]
    random.Random(2).shuffle(jobs)
    bodies = {}
    for index in range(DISTINCT):
        bodies[index] = multipart_body(contents[index], f"doc-{index:03d}.bin")
    errors: list[str] = []
    lock = threading.Lock()
    cursor = iter(jobs)

    def client_loop() -> None:
        client = service.app.test_client()
        while True:
            with lock:
                index = next(cursor, None)
            if index is None:
                return
            body, boundary = bodies[index]
            response = client.post(
                "/graphql",
                data=body,
                headers=headers,
                content_type=f"multipart/form-data; boundary={boundary}",
            )
            payload = response.get_json(silent=True) or {}
            added = (payload.get("data") or {}).get("addFile") or {}
            if response.status_code != 200 or not added.get("file"):
                with lock:
                    errors.append(f"{response.status_code} {str(payload)[:200]}")

    started = time.perf_counter()
    threads = [threading.Thread(target=client_loop) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started

    with service.container.engine().connect() as connection:
        rows = connection.execute(
            text("SELECT count(*) FROM files WHERE tenant_id = :t"), {"t": tenant_id}
        ).scalar_one()
    storage = service.container.storage()
    blobs = sum(1 for blob in storage.list_blobs() if blob.key.startswith(f"{tenant_id}/"))
    staged = sum(1 for _ in storage.list_staged())
    return {
        "uploads": len(jobs),
        "rows": int(rows),
        "blobs": blobs,
        "staged_left": staged,
        "errors": errors,
        "seconds": elapsed,
        "per_second": len(jobs) / elapsed,
        "threads": THREADS,
    }
