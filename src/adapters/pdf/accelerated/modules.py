"""The modules the accelerator compiles with Cython, where their extensions live, and how to
tell a current extension from a stale one.

Each extension sits beside its ``.py`` (``block.cpython-311-x86_64-linux-gnu.so`` next to
``block.py``), where Python's import system prefers it, with ``<extension>.source-sha256``
beside it: the SHA-256 of the source it was built from. Nothing here imports WeasyPrint.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import sys
import sysconfig
from pathlib import Path

# Each module with what compiling it alone saved, in M instructions per bench invoice render
# (of 213 M; WeasyPrint 70.0 with the speedups). Left out because they saved less than 0.4 M
# or got slower compiled: weasyprint.layout (its __init__), layout.min_max, layout.preferred
# (does not compile), css.computed_values, text.fonts, stacking, pdf (its __init__),
# tinyhtml5.parser and .inputstream, cssselect2 (its __init__), tinycss2.tokenizer.
MODULES = [
    "weasyprint.formatting_structure.boxes",  # 5.4
    "weasyprint.text.line_break",  # 3.7
    "pydyf",  # 2.8
    "weasyprint.css",  # 2.6
    "weasyprint.layout.background",  # 2.3
    "weasyprint.pdf.fonts",  # 1.4
    "cssselect2.tree",  # 1.2
    "weasyprint.formatting_structure.build",  # 1.1
    "weasyprint.pdf.stream",  # 1.0
    "weasyprint.draw",  # 0.9
    "weasyprint.layout.block",  # 0.9
    "weasyprint.anchors",  # 0.9
    "weasyprint.layout.float",  # 0.9
    "weasyprint.layout.inline",  # 0.9
    "weasyprint.layout.absolute",  # 0.8
    "weasyprint.matrix",  # 0.8
    "tinycss2.color4",  # 0.8
    "weasyprint.layout.page",  # 0.7
    "weasyprint.css.functions",  # 0.7
    "tinyhtml5.tokenizer",  # 0.6
    "weasyprint.layout.percent",  # 0.5
    "weasyprint.draw.border",  # 0.5
    "weasyprint.draw.color",  # 0.4
    "weasyprint.draw.text",  # 0.4
    "adapters.pdf.accelerated.speedups",  # 11 (ours, in src/)
]
SITE_PACKAGES = Path(sysconfig.get_paths()["purelib"])
SRC = Path(__file__).resolve().parents[3]
ROOTS = (SITE_PACKAGES, SRC)
EXTENSION_SUFFIX: str = sysconfig.get_config_var("EXT_SUFFIX")
RECORD_SUFFIX = ".source-sha256"


def source_of(module: str) -> Path:
    root = SRC if module.startswith("adapters.") else SITE_PACKAGES
    path = root.joinpath(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def extension_of(source: Path) -> Path:
    return source.with_name(source.stem + EXTENSION_SUFFIX)


def record_of(extension: Path) -> Path:
    return extension.with_name(extension.name + RECORD_SUFFIX)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def is_current(extension: Path) -> bool:
    """``extension`` was compiled from its ``.py`` as it is now."""
    record = record_of(extension)
    source = extension.with_name(extension.name.split(".", 1)[0] + ".py")
    return record.exists() and source.exists() and record.read_text().strip() == sha256(source)


def stale() -> list[str]:
    """The listed modules whose extension Python would import although it was not compiled from
    the current source (a WeasyPrint upgraded or a ``speedups.py`` edited outside make)."""
    found = []
    for module in MODULES:
        extension = extension_of(source_of(module))
        if extension.exists() and not is_current(extension):
            found.append(module)
    return found


class SourcesFirst(importlib.machinery.PathFinder):
    """A meta-path finder that imports each listed module from its ``.py`` even where an
    extension of it exists: stock WeasyPrint. Effective only for what is imported after it is
    installed (``import_from_sources()``)."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):  # type: ignore[no-untyped-def,override]
        if name not in MODULES:
            return None
        spec = super().find_spec(name, path, target)
        origin = (spec and spec.origin) or ""
        if not origin.endswith(EXTENSION_SUFFIX):
            return None
        source = origin.removesuffix(EXTENSION_SUFFIX) + ".py"
        return importlib.util.spec_from_file_location(
            name, source, submodule_search_locations=spec.submodule_search_locations
        )


def import_from_sources() -> None:
    if SourcesFirst not in sys.meta_path:
        sys.meta_path.insert(0, SourcesFirst)
