"""Signatures benchmark (issue 17, section 4): ``run()`` prints one line per figure.

1. Sealing a 2-page invoice PDF: one signature image stamped, the completion certificate page
   and the PAdES signature (``PyHankoDocumentSealer.seal``), p50 of 41 runs, beside the baseline
   measured in the same run: pyHanko signing the same PDF alone (no stamp, no certificate page).
2. ``verifySignatureAuditChain`` over 100,000 entries of one tenant, through the real adapter
   (``SqlAlchemyAuditLog.verify``) on SQLite (and PostgreSQL when reachable), beside reading the
   same rows without hashing them.

    PYTHONPATH=src:. .venv/bin/python -c "import bench.signatures as b; b.run()"
"""

from __future__ import annotations

import io
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import header, line, postgres_database, postgres_unavailable

SEAL_P50_MS = 300.0
CHAIN_SECONDS = 2.0
CHAIN_ENTRIES = 100_000
SAMPLES = 41


def _two_page_invoice() -> bytes:
    import weasyprint

    rows = "".join(
        f"<tr><td>{n}</td><td>Cemento gris 42.5 kg, lote {n}</td><td>10</td><td>8.50</td><td>85.00</td></tr>"
        for n in range(1, 56)
    )
    html = (
        "<html><body style='font-family: DejaVu Sans; font-size: 10pt'><h1>FACTURA F-000123</h1>"
        f"<table>{rows}</table><p>Total: $4,675.00</p></body></html>"
    )
    return weasyprint.HTML(string=html).write_pdf()


def _png() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    raw = b"".join(b"\x00" + bytes((x % 200, 40, 120)) * 1 * 1 + b"\x10\x30\x90" * 299 for x in range(100))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 300, 100, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def seal_section() -> None:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pypdf import PdfReader

    from adapters.signing.certificate import self_signed_identity
    from adapters.signing.pyhanko_sealer import PyHankoDocumentSealer
    from application.signatures.ports import CertificateEvent, CertificateSigner, CompletionCertificate, Stamp

    pdf = _two_page_invoice()
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    sealer = PyHankoDocumentSealer(self_signed_identity("Istmo bench sealing"))
    now = datetime.now(UTC)
    stamp = Stamp(signer="María Cumbres", signed_at=now, image=_png())
    certificate = CompletionCertificate(
        document_name="Factura F-000123.pdf", source_sha256="a" * 64, chain_seq=12, chain_head="b" * 64,
        completed_at=now,
        signers=(CertificateSigner(name="María Cumbres", email="maria@cumbres.com.pa", signed_at=now, ip="190.1.2.3",
                                   events=tuple(CertificateEvent(at=now, event=e, actor="recipient:maria@cumbres.com.pa",
                                                                 ip="190.1.2.3", user_agent="Mozilla/5.0 (Android 14)")
                                                for e in ("REQUEST_CREATED", "EMAIL_QUEUED", "LINK_OPENED",
                                                          "DOCUMENT_VIEWED", "SIGNED"))),),
    )
    sealer.seal(pdf, [stamp], certificate)  # warm up
    ours = []
    for _ in range(SAMPLES):
        started = time.perf_counter()
        sealer.seal(pdf, [stamp], certificate)
        ours.append((time.perf_counter() - started) * 1000)
    plain = []
    for _ in range(SAMPLES):
        started = time.perf_counter()
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        meta = signers.PdfSignatureMetadata(field_name="Plain", subfilter=fields.SigSeedSubFilter.PADES)
        signers.PdfSigner(meta, signer=sealer._signer).sign_pdf(writer, output=io.BytesIO())
        plain.append((time.perf_counter() - started) * 1000)
    p50, base = statistics.median(ours), statistics.median(plain)
    line(f"seal a {pages}-page invoice: stamp + certificate + PAdES (p50)", f"{p50:.1f} ms", f"<= {SEAL_P50_MS:.0f} ms",
         p50 <= SEAL_P50_MS)
    line("  baseline: pyHanko PAdES signature alone, same PDF (p50)", f"{base:.1f} ms")
    line("  ratio to the baseline", f"{p50 / base:.2f}x")


def _fill_chain(database_url: str) -> tuple[object, str]:
    from sqlalchemy import insert

    from adapters.db.engine import build_engine
    from adapters.db.migrate import upgrade
    from adapters.db.modules import start_mappers
    from adapters.db.signatures.tables import signature_audit, signature_chain_heads
    from adapters.db.tenancy.tables import tenants
    from domain.signatures.audit import GENESIS, AuditEntry, AuditEvent, AuditRecord

    start_mappers()
    engine = build_engine(database_url)
    upgrade(engine)
    tenant_id = "00000000-0000-4000-8000-000000000017"
    start = datetime(2026, 12, 1, tzinfo=UTC)
    head, rows = GENESIS, []
    for seq in range(1, CHAIN_ENTRIES + 1):
        record = AuditRecord(
            event=AuditEvent.LINK_OPENED, occurred_at=start + timedelta(seconds=seq), actor="recipient:a@b.com.pa",
            entity_type="INVOICE", entity_id=f"inv-{seq // 10}", document_sha256="c" * 64,
            ip="190.1.2.3", user_agent="Mozilla/5.0 (Linux; Android 14)", details={"channel": "EMAIL"},
        )
        entry = AuditEntry.chain(id=f"{seq:08d}-0000-4000-8000-000000000000", tenant_id=tenant_id, seq=seq,
                                 prev_hash=head, record=record)
        head = entry.entry_hash
        rows.append({**entry.fields(), "entry_hash": entry.entry_hash})
    with engine.begin() as connection:
        connection.execute(insert(tenants).values(id=tenant_id, slug="bench-chain", name="Bench", external_id=None,
                                                  created_at=start))
        for at in range(0, len(rows), 5000):
            connection.execute(insert(signature_audit), rows[at:at + 5000])
        connection.execute(insert(signature_chain_heads).values(tenant_id=tenant_id, seq=CHAIN_ENTRIES,
                                                                head_hash=head, locked_at=start))
    return engine, tenant_id


def chain_section(database_url: str, label: str) -> None:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from adapters.clock import SystemClock
    from adapters.db.signatures.repositories import SqlAlchemyAuditLog
    from adapters.db.signatures.tables import signature_audit

    engine, tenant_id = _fill_chain(database_url)
    try:
        times, reads = [], []
        for _ in range(3):
            with Session(engine) as session:
                started = time.perf_counter()
                report = SqlAlchemyAuditLog(session, tenant_id, SystemClock()).verify()
                times.append(time.perf_counter() - started)
            assert report.intact and report.entries == CHAIN_ENTRIES, report
            with Session(engine) as session:
                started = time.perf_counter()
                for _row in session.execute(select(signature_audit).where(signature_audit.c.tenant_id == tenant_id)
                                            .order_by(signature_audit.c.seq).execution_options(yield_per=5000)):
                    pass
                reads.append(time.perf_counter() - started)
        best, read = min(times), min(reads)
        line(f"verifySignatureAuditChain, {CHAIN_ENTRIES:,} entries ({label}, best of 3)", f"{best:.2f} s",
             f"<= {CHAIN_SECONDS:.0f} s", best <= CHAIN_SECONDS)
        line("  baseline: reading the same rows, no hashing", f"{read:.2f} s")
    finally:
        engine.dispose()  # type: ignore[attr-defined]


def run() -> None:
    import os

    load = os.getloadavg()
    line("load average (1, 5, 15 min): every figure moves with it", f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    seal_section()
    with tempfile.TemporaryDirectory(prefix="istmo-bench-chain-") as tmp:
        chain_section(f"sqlite:///{Path(tmp) / 'chain.db'}", "SQLite")
    reason = postgres_unavailable()
    if reason:
        print(f"  PostgreSQL chain check skipped: {reason}", flush=True)
        return
    with postgres_database() as url:
        chain_section(url, "PostgreSQL")


if __name__ == "__main__":
    header("[10] signatures (issue 17, section 4)")
    run()
