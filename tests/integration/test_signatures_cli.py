"""``istmo signatures verify-chain`` and ``istmo signatures verify``, in-process on a fresh SQLite
data dir in dev mode (the sealing certificate generated there on first use)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

from pypdf import PdfWriter
from sqlalchemy import create_engine, text

from adapters.signing.certificate import dev_identity
from adapters.signing.pyhanko_sealer import PyHankoDocumentSealer
from application.signatures.ports import CompletionCertificate
from application.tenancy.handlers import CreateTenant
from domain.signatures.audit import AuditEvent, AuditRecord
from entrypoints.config import Settings
from entrypoints.container import build_container
from tests.integration.test_cli import Cli, cli, migrated  # noqa: F401 - fixtures


def _entries(cli: Cli, slug: str, count: int) -> None:  # noqa: F811
    container = build_container(Settings.from_env())
    try:
        tenant = container.bus().handle(
            CreateTenant(actor=None, slug=slug, name=slug.title(), external_id=None, exist_ok=True)
        ).tenant_id
        uow = container.core.uow_factory(tenant)
        with uow:
            for n in range(count):
                uow.signature_audit.append(AuditRecord(
                    event=AuditEvent.LINK_OPENED, occurred_at=datetime(2026, 12, 1, tzinfo=UTC), actor="system",
                    entity_type="INVOICE", entity_id=f"inv-{n}",
                ))
            uow.commit()
    finally:
        container.shutdown_resources()


def test_verify_chain_reports_an_intact_chain_then_names_the_edited_entry(migrated: Cli) -> None:  # noqa: F811
    _entries(migrated, "acme", 5)
    intact = json.loads(migrated.ok("signatures", "verify-chain", "--tenant", "acme").stdout)
    assert (intact["intact"], intact["entries"], intact["firstBadSeq"]) == (True, 5, None)
    engine = create_engine(migrated.database_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE signature_audit SET entity_id = 'inv-x' WHERE seq = 2"))
    engine.dispose()
    broken = migrated("signatures", "verify-chain", "--tenant", "acme")
    assert broken.exit_code == 1
    report = json.loads(broken.stdout)
    assert (report["intact"], report["firstBadSeq"]) == (False, 2) and "entry 2 was edited" in broken.stderr
    unknown = migrated("signatures", "verify-chain", "--tenant", "nobody")
    assert unknown.exit_code == 1 and "not found" in unknown.stderr


def test_verify_checks_a_pdf_sealed_by_this_instance_and_refuses_a_changed_byte(migrated: Cli, tmp_path: Path) -> None:  # noqa: F811
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    buffer = io.BytesIO()
    writer.write(buffer)
    sealer = PyHankoDocumentSealer(dev_identity(migrated.data_dir.resolve() / "signing"))
    now = datetime(2026, 12, 1, tzinfo=UTC)
    sealed = sealer.seal(buffer.getvalue(), [], CompletionCertificate(
        document_name="c.pdf", source_sha256="0" * 64, signers=(), chain_seq=0, chain_head="0" * 64, completed_at=now,
    ))
    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    good.write_bytes(sealed)
    flipped = bytearray(sealed)
    flipped[len(buffer.getvalue()) + 50] ^= 0x01
    bad.write_bytes(bytes(flipped))
    valid = json.loads(migrated.ok("signatures", "verify", str(good)).stdout)
    assert (valid["status"], valid["trusted"]) == ("VALID", True) and "development" in valid["sealedBy"]
    invalid = migrated("signatures", "verify", str(bad))
    assert invalid.exit_code == 1 and json.loads(invalid.stdout)["status"] == "INVALID"
