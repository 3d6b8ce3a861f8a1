"""The PDF accelerator is optional: where it does not know the WeasyPrint release, or its compiled
modules are out of date, renders take the stock path with one notice; without a C compiler
``make pdf-modules`` compiles nothing, says so in one line and succeeds."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import sysconfig
from importlib import metadata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from adapters.pdf import accelerated
from adapters.pdf.accelerated import releases
from adapters.pdf.weasyprint import RendererSettings, WeasyPrintPdfRenderer
from application.pdf.documents import sample_invoice
from tests.integration.test_pdf_render import LAYOUT, LOGO, deflate_level

PACKAGE = Path(accelerated.__file__).parent


@pytest.fixture
def logs() -> Iterator[list[dict[str, Any]]]:
    """What is logged, at INFO and above whatever another test configured."""
    config = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    try:
        with structlog.testing.capture_logs() as captured:
            yield captured
    finally:
        structlog.configure(**config)


def test_an_unknown_weasyprint_release_renders_on_the_stock_path_with_one_notice(
    monkeypatch: pytest.MonkeyPatch, logs: list[dict[str, Any]]
) -> None:
    installed = metadata.version
    monkeypatch.setattr(
        releases.metadata, "version", lambda name: "71.0" if name == "weasyprint" else installed(name)
    )
    with WeasyPrintPdfRenderer(RendererSettings(processes=1, timeout=60)) as renderer:
        pdf = renderer.render(sample_invoice(), LAYOUT, LOGO)
    assert [(log["event"], log["log_level"]) for log in logs] == [("pdf.accelerator_off", "warning")]
    assert "weasyprint 71.0" in logs[0]["reason"] and "weasyprint 70.x" in logs[0]["reason"]
    assert not renderer.accelerated
    assert deflate_level(pdf) == 9  # pydyf's own level: no patch was installed


def test_compiled_modules_out_of_date_turn_it_off_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, logs: list[dict[str, Any]]
) -> None:
    monkeypatch.setattr(accelerated, "stale", lambda: ["weasyprint.css"])
    assert not accelerated.usable(True)
    assert [(log["event"], log["log_level"]) for log in logs] == [("pdf.accelerator_off", "warning")]
    assert "make pdf-modules" in logs[0]["reason"]


def test_switched_off_it_is_not_used_and_nothing_is_logged(logs: list[dict[str, Any]]) -> None:
    assert not accelerated.usable(False)
    assert logs == []


def run_compile(tmp_path: Path, env: dict[str, str | None]) -> subprocess.CompletedProcess[str]:
    """``python -m adapters.pdf.accelerated.compile`` on a copy of the package in ``tmp_path``, so
    that our own module has no extension there and needs compiling (the venv's are current).
    ``env``: variables to set, or to unset (``None``)."""
    src = tmp_path / "src"
    ignored = shutil.ignore_patterns("*.so*", "__pycache__")
    shutil.copytree(PACKAGE, src / "adapters" / "pdf" / "accelerated", ignore=ignored)
    for package in ("adapters", "adapters/pdf"):
        (src / package / "__init__.py").touch()
    environ = {**os.environ, "PYTHONPATH": str(src), **env}
    return subprocess.run(
        [sys.executable, "-m", "adapters.pdf.accelerated.compile"],
        cwd=tmp_path,
        env={name: value for name, value in environ.items() if value is not None},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("without", "compiler"),
    [
        ({"CC": "/nonexistent/cc"}, "/nonexistent/cc"),
        ({"CC": None, "PATH": "/nonexistent"}, sysconfig.get_config_var("CC").split()[0]),
    ],
    ids=["CC not found", "no compiler on PATH"],
)
def test_without_a_c_compiler_nothing_is_compiled_and_one_line_says_so(
    tmp_path: Path, without: dict[str, str | None], compiler: str
) -> None:
    done = run_compile(tmp_path, without)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"pdf-modules: not compiled (no C compiler: {compiler} is not on PATH): 1 modules stay pure Python"
    ]
    assert not list((tmp_path / "src").rglob("*.so"))


def test_on_an_unknown_weasyprint_release_nothing_is_compiled(tmp_path: Path) -> None:
    (tmp_path / "src" / "weasyprint-71.0.dist-info").mkdir(parents=True)
    (tmp_path / "src" / "weasyprint-71.0.dist-info" / "METADATA").write_text("Name: weasyprint\nVersion: 71.0\n")
    done = run_compile(tmp_path, {})
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "pdf-modules: not compiled: weasyprint 71.0 unknown to the accelerator; stock WeasyPrint renders"
    ]
