"""Issue 18: the README's "first ten minutes" block, run as it is written (bash, curl, python3)
against a dev server (``istmo serve --dev --with-worker``, as ``make serve`` runs it) on a data
dir of its own: every step answers without an error, and the e-mail reaches the local outbox
with the invoice's PDF attached, addressed to the client's contact."""

from __future__ import annotations

import email
import os
import re
import shutil
import subprocess
import sys
import time
from email import policy
from pathlib import Path

import pytest

from tests.integration.test_production_server import ROOT, _free_port

BLOCK = re.compile(r"## The first ten minutes\n.*?```sh\n(.*?)```", re.S)


def test_the_readme_flow_runs_against_the_dev_server(tmp_path: Path) -> None:
    if shutil.which("curl") is None or shutil.which("bash") is None:
        pytest.skip("the README's block needs bash and curl")
    script = BLOCK.search((ROOT / "README.md").read_text()).group(1)  # type: ignore[union-attr]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ISTMO_")}
    env.update(
        ISTMO_DATA_DIR=str(tmp_path), ISTMO_DATABASE_URL=f"sqlite:///{tmp_path / 'istmo.db'}", ISTMO_LOG_LEVEL="WARNING",
        ISTMO_PDF_PROCESSES="1", PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    )
    istmo = f"{sys.executable} -m entrypoints.cli"
    for command in ("db upgrade", "tenants create demo --name Demo"):
        done = subprocess.run([*istmo.split(), *command.split()], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    port = _free_port()
    server = subprocess.Popen(
        [*istmo.split(), "serve", "--dev", "--with-worker", "--host", "127.0.0.1", "--port", str(port)],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while subprocess.run(["curl", "-s", "-o", "/dev/null", f"http://127.0.0.1:{port}/healthz"]).returncode != 0:
            assert server.poll() is None and time.monotonic() < deadline, "the dev server did not start"
            time.sleep(0.3)
        run = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script], env={**env, "ISTMO": istmo, "API": f"http://127.0.0.1:{port}/graphql"},
            cwd=ROOT, capture_output=True, text=True, timeout=300,
        )
        assert run.returncode == 0, run.stderr
        answers = [line for line in run.stdout.splitlines() if line.startswith("{")]
        assert len(answers) == 6, run.stdout
        assert all('"error":null' in answer and '"errors"' not in answer for answer in answers), run.stdout
        assert '"dueDate":"' in answers[2] and '"total":"115.45"' in answers[2]  # 90.95 + 24.50
        assert '"balance":"65.45"' in answers[3] and '"PARTIALLY_PAID"' in answers[3]
        assert '"to":["ana@cumbres.com.pa"]' in answers[5]
        deadline = time.monotonic() + 60
        while not list((tmp_path / "outbox").rglob("*.eml")):
            assert time.monotonic() < deadline, "no e-mail reached the outbox"
            time.sleep(0.5)
        (sent,) = list((tmp_path / "outbox").rglob("*.eml"))
        message = email.message_from_bytes(sent.read_bytes(), policy=policy.default)
        assert message["To"] == "ana@cumbres.com.pa"
        (pdf,) = [part for part in message.iter_attachments() if part.get_content_type() == "application/pdf"]
        assert pdf.get_content().startswith(b"%PDF-")
    finally:
        server.terminate()
        server.wait(30)
