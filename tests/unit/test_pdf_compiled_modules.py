"""A module compiled by ``make pdf-modules`` counts as current only while its source is the one
it was compiled from (the accelerator stands aside otherwise)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from adapters.pdf.accelerated.modules import is_current


def compiled_module(folder: Path, source: str, recorded: str) -> Path:
    (folder / "hot.py").write_text(source)
    extension = folder / "hot.cpython-311-x86_64-linux-gnu.so"
    extension.write_bytes(b"\x7fELF")
    record = folder / (extension.name + ".source-sha256")
    record.write_text(hashlib.sha256(recorded.encode()).hexdigest() + "\n")
    return extension


def test_a_module_compiled_from_its_current_source_is_current(tmp_path: Path) -> None:
    assert is_current(compiled_module(tmp_path, "x = 1\n", "x = 1\n"))


def test_a_module_whose_source_changed_is_not(tmp_path: Path) -> None:
    assert not is_current(compiled_module(tmp_path, "x = 2\n", "x = 1\n"))


def test_a_module_without_its_record_is_not(tmp_path: Path) -> None:
    extension = compiled_module(tmp_path, "x = 1\n", "x = 1\n")
    (tmp_path / (extension.name + ".source-sha256")).unlink()
    assert not is_current(extension)
