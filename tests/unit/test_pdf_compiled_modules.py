"""PdfEngine refuses a module compiled by tools/compile_pdf_modules.py from another source."""

from __future__ import annotations

import hashlib
import sys
import types
from pathlib import Path

import pytest

from adapters.pdf.engine import _check_compiled_modules


def compiled_module(folder: Path, source: str, recorded: str) -> types.ModuleType:
    (folder / "hot.py").write_text(source)
    extension = folder / "hot.cpython-311-x86_64-linux-gnu.so"
    extension.write_bytes(b"\x7fELF")
    record = folder / (extension.name + ".source-sha256")
    record.write_text(hashlib.sha256(recorded.encode()).hexdigest() + "\n")
    module = types.ModuleType("istmo_test_hot")
    module.__file__ = str(extension)
    return module


def test_a_module_compiled_from_its_current_source_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "istmo_test_hot", compiled_module(tmp_path, "x = 1\n", "x = 1\n"))
    _check_compiled_modules()


def test_a_module_whose_source_changed_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "istmo_test_hot", compiled_module(tmp_path, "x = 2\n", "x = 1\n"))
    with pytest.raises(RuntimeError, match=r"hot\.cpython.* not compiled from the current .*hot\.py"):
        _check_compiled_modules()
