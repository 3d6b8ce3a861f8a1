"""The two-tenant model of ``tests/unit/test_files_properties.py`` on the real adapters.

Same machine, same rules and invariants; here the bus runs on ``SqlAlchemyUnitOfWork``
(SQLite, and PostgreSQL where reachable) and ``LocalFileStorage`` in a temporary directory,
and signed URLs are checked by verifying their token.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from hypothesis.stateful import run_state_machine_as_test
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from adapters.db.uow import SqlAlchemyUnitOfWork
from adapters.storage.local import LocalFileStorage
from adapters.storage.mime import SniffingMimeDetector
from application.modules import build_message_bus
from application.files.commands import FilePolicy
from application.files.staging import stage_chunks
from tests.fakes.clock import FakeClock
from tests.unit.test_files_properties import STATEFUL_SETTINGS, Harness, two_tenant_machine


def test_two_tenants_never_see_or_touch_each_others_files_on_sqlalchemy(
    engine: Engine, tmp_path: Path
) -> None:
    clock = FakeClock()
    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    storage = LocalFileStorage(tmp_path, public_url="http://t", secret="s", clock=clock)

    def url_key(url: str) -> str:
        parts = urlsplit(url)
        assert parts.netloc == "t" and parts.path.startswith("/files/download/"), url
        return storage.verify_download(parts.path.rsplit("/", 1)[1]).key

    def make_harness() -> Harness:
        bus = build_message_bus(
            uow_factory=lambda tenant_id: SqlAlchemyUnitOfWork(
                tenant_id, session_factory=sessions, clock=clock
            ),
            storage=storage,
            mime=SniffingMimeDetector(),
            clock=clock,
            file_policy=FilePolicy(),
        )
        return Harness(
            bus=bus,
            stage=lambda data: stage_chunks(storage, [data], max_size=1 << 30),
            blob_exists=storage.exists,
            url_key=url_key,
        )

    run_state_machine_as_test(two_tenant_machine(make_harness), settings=STATEFUL_SETTINGS)
