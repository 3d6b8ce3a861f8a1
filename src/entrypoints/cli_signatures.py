"""``istmo signatures``: check a tenant's audit chain, or a sealed PDF, from the command line.

Each prints one JSON object and exits with status 1 when the evidence does not hold."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from application.signatures.commands import VerifyPdfSeal, VerifyTenantChain
from entrypoints.cli_common import open_container, run


@click.group("signatures")
def signatures() -> None:
    """Signatures' evidence: the audit chain and sealed PDFs."""


def _print(payload: dict[str, Any]) -> None:
    json.dump(payload, sys.stdout)
    sys.stdout.write("\n")


@signatures.command("verify-chain")
@click.option("--tenant", "tenant_slug", required=True, help="The tenant's slug.")
def verify_chain(tenant_slug: str) -> None:
    """Walk the tenant's whole audit chain; name the first entry edited, removed or reordered."""
    container = open_container()
    try:
        report = run(container, VerifyTenantChain(actor=None, tenant_slug=tenant_slug))
    finally:
        container.shutdown_resources()
    _print({
        "intact": report.intact, "entries": report.entries, "headHash": report.head_hash,
        "firstBadSeq": report.first_bad_seq, "firstBadId": report.first_bad_id, "problem": report.problem,
    })
    if not report.intact:
        raise click.ClickException(report.problem or "the audit chain does not hold")


@signatures.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def verify(file: Path) -> None:
    """Check FILE's seal: intact, covering the whole file, made by this instance's certificate."""
    container = open_container()
    try:
        check = run(container, VerifyPdfSeal(actor=None, pdf=file.read_bytes()))
    finally:
        container.shutdown_resources()
    valid = check.intact and check.trusted
    _print({
        "status": "VALID" if valid else "INVALID", "intact": check.intact, "trusted": check.trusted,
        "reason": check.problem, "sealedBy": check.sealed_by,
        "sealedAt": check.sealed_at.isoformat() if check.sealed_at else None,
        "timestampedAt": check.timestamped_at.isoformat() if check.timestamped_at else None,
    })
    if not valid:
        raise click.ClickException(check.problem or "the seal does not hold")
