"""The PDF accelerator's build cache (``make pdf-modules``): a build is found again only for the same
source, interpreter, Cython and C flags, and is installed with its record."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.pdf.accelerated import compile as build
from adapters.pdf.accelerated.modules import record_of


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("ISTMO_BUILD_CACHE", str(folder))
    return folder


def test_a_kept_build_is_installed_with_its_record_in_another_checkout(cache: Path, tmp_path: Path) -> None:
    built = tmp_path / "built.so"
    built.write_bytes(b"\x7fELF compiled")
    build.keep("weasyprint.layout.inline", "a" * 64, built)
    extension = tmp_path / "other-checkout" / "inline.cpython-311-x86_64-linux-gnu.so"
    extension.parent.mkdir()
    assert build.from_cache("weasyprint.layout.inline", "a" * 64, extension)
    assert extension.read_bytes() == b"\x7fELF compiled"
    assert record_of(extension).read_text() == "a" * 64 + "\n"
    assert [p.name for p in cache.iterdir()] == [build.cache_key("weasyprint.layout.inline", "a" * 64)]  # no partial left


def test_another_source_module_or_flags_is_not_found(cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built = tmp_path / "built.so"
    built.write_bytes(b"compiled")
    build.keep("pydyf", "a" * 64, built)
    extension = tmp_path / "pydyf.so"
    assert not build.from_cache("pydyf", "b" * 64, extension)  # the source changed
    assert not build.from_cache("weasyprint.css", "a" * 64, extension)
    monkeypatch.setattr(build, "C_FLAGS", ["-O3", "-g0"])
    assert not build.from_cache("pydyf", "a" * 64, extension)
    assert not extension.exists() and not record_of(extension).exists()


def test_a_cache_that_cannot_be_written_only_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("ISTMO_BUILD_CACHE", str(blocked / "cache"))
    built = tmp_path / "built.so"
    built.write_bytes(b"compiled")
    build.keep("pydyf", "a" * 64, built)
    assert "not cached" in capsys.readouterr().err
