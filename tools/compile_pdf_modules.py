"""Compile the PDF renderer's hot modules with Cython: WeasyPrint's, in place in the running
venv's site-packages, and our own ``adapters/pdf/speedups.py`` beside its source in ``src/``.

Why: WeasyPrint is pure Python, and a render's time is interpreter overhead spread thinly over
many modules. Compiled unchanged by Cython 3 (``cythonize -3``, at -O1), the WeasyPrint modules
below cut the bench invoice from 213 M to 187 M CPU instructions per render (callgrind, -12 %);
``speedups`` (our patches of WeasyPrint's hottest paths) another 11 M.

How: each extension is put beside its ``.py`` (``block.cpython-311-x86_64-linux-gnu.so`` next to
``block.py``); Python's import system prefers the extension. Beside it, ``<extension>.source-sha256``
records the SHA-256 of the source it was built from. On every run:

1. an extension of ours whose module is no longer listed, whose source vanished or whose source
   changed (a new WeasyPrint) is removed, so a stale build never shadows its ``.py``;
2. the listed modules without an up-to-date extension are compiled, all of them into a temporary
   folder first (one job per CPU); only if every one compiled are they moved into place, the
   record written last. A failure exits non-zero and installs nothing (those modules stay pure
   Python), so ``make`` stops and tries again next time.

Usage: ``.venv/bin/python tools/compile_pdf_modules.py``; ``make`` runs it before ``test``, ``serve``
and ``bench``, so an edited ``speedups.py`` is compiled again; ``PdfEngine`` refuses any compiled
module whose record does not match its source (an edit or a ``pip install -U`` made outside make). Needs Cython (the ``pdf-build`` extra),
setuptools, a C compiler and the Python headers.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import os
import shutil
import sys
import sysconfig
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

# Each module with what compiling it alone saved, in M instructions per bench invoice render
# (of 213 M; WeasyPrint 70.0 with adapters/pdf/speedups.py). Left out because they saved less
# than 0.4 M or got slower compiled: weasyprint.layout (its __init__), layout.min_max,
# layout.preferred (does not compile), css.computed_values, text.fonts, stacking, pdf (its
# __init__), tinyhtml5.parser and .inputstream, cssselect2 (its __init__), tinycss2.tokenizer.
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
    "adapters.pdf.speedups",  # 11 (ours, in src/)
]
# -O1 gives nearly all of -O3's gain (0.5 % more instructions) in about a third of the compile time.
C_FLAGS = ["-O1", "-g0"]
SITE_PACKAGES = Path(sysconfig.get_paths()["purelib"])
SRC = Path(__file__).resolve().parents[1] / "src"
ROOTS = (SITE_PACKAGES, SRC)
EXTENSION_SUFFIX = sysconfig.get_config_var("EXT_SUFFIX")
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


def remove(extension: Path) -> None:
    extension.unlink(missing_ok=True)
    record_of(extension).unlink(missing_ok=True)


def build(module: str, source: Path, folder: Path) -> tuple[Path, float]:
    """Cython, then the C compiler, for one module (in a worker process); the built file."""
    from Cython.Build import cythonize
    from setuptools import Distribution, Extension

    started = time.monotonic()
    (extension,) = cythonize(
        [Extension(module, [str(source)], extra_compile_args=C_FLAGS)],
        build_dir=str(folder),
        language_level=3,
        compiler_directives={"annotation_typing": False},  # type hints are for mypy, not C types
        quiet=True,
        force=True,
    )
    command = Distribution({"ext_modules": [extension]}).get_command_obj("build_ext")
    command.build_lib = command.build_temp = str(folder)
    command.ensure_finalized()
    command.run()
    return Path(command.get_ext_fullpath(module)), time.monotonic() - started


def missing_tools() -> str | None:
    if importlib.util.find_spec("Cython") is None:
        return "Cython is not installed (pip install -e '.[pdf-build]')"
    if importlib.util.find_spec("setuptools") is None:
        return "setuptools is not installed (pip install -e '.[pdf-build]')"
    compiler = (os.environ.get("CC") or sysconfig.get_config_var("CC")).split()[0]  # as setuptools picks it
    if shutil.which(compiler) is None:
        return f"no C compiler: {compiler} is not on PATH"
    if not Path(sysconfig.get_paths()["include"], "Python.h").exists():
        return f"no Python headers: {sysconfig.get_paths()['include']}/Python.h is missing"
    return None


class SourcesFirst(importlib.machinery.PathFinder):
    """A meta-path finder that imports every module compiled here from its ``.py``: plain
    WeasyPrint, for the bench's naive baseline and the test that the compiled one draws the same.
    Install it before anything imports them: ``sys.meta_path.insert(0, SourcesFirst)``."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):  # type: ignore[no-untyped-def,override]
        spec = super().find_spec(name, path, target)
        origin = (spec and spec.origin) or ""
        if not (origin.endswith(EXTENSION_SUFFIX) and record_of(Path(origin)).exists()):
            return None
        source = origin.removesuffix(EXTENSION_SUFFIX) + ".py"
        return importlib.util.spec_from_file_location(
            name, source, submodule_search_locations=spec.submodule_search_locations
        )


def main() -> int:
    sources = {module: source_of(module) for module in MODULES}
    digests = {module: sha256(source) for module, source in sources.items() if source.exists()}
    listed = {extension_of(sources[module]): digest for module, digest in digests.items()}

    # 1. Stale extensions of ours go, whatever else happens.
    for record in (record for root in ROOTS for record in root.rglob("*" + RECORD_SUFFIX)):
        extension = record.with_name(record.name.removesuffix(RECORD_SUFFIX))
        if record.read_text().strip() != listed.get(extension):
            print(f"compile_pdf_modules: removing stale {extension}")
            remove(extension)
    for module, source in sources.items():
        if module not in digests:
            print(f"compile_pdf_modules: {module}: {source} not found", file=sys.stderr)
            return 1

    # 2. What has no up-to-date extension is compiled, all or nothing.
    def up_to_date(module: str) -> bool:  # stale ones were removed above
        extension = extension_of(sources[module])
        return extension.exists() and record_of(extension).exists()

    todo = [module for module in MODULES if not up_to_date(module)]
    if not todo:
        print(f"compile_pdf_modules: {len(MODULES)} modules up to date")
        return 0
    problem = missing_tools()
    if problem:
        print(f"compile_pdf_modules: {problem}", file=sys.stderr)
        return 1
    for module in todo:
        remove(extension_of(sources[module]))  # an extension without a record: not ours to trust
    started = time.monotonic()
    jobs = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as folder, ProcessPoolExecutor(jobs) as pool:
        futures = {m: pool.submit(build, m, sources[m], Path(folder) / m) for m in todo}
        built, failed = {}, []
        for module, future in futures.items():
            try:
                built[module], seconds = future.result()
                print(f"compile_pdf_modules: compiled {module} ({seconds:.1f} s)")
            except Exception as error:  # the compiler's own messages are above
                print(f"compile_pdf_modules: {module} failed: {error!r}", file=sys.stderr)
                failed.append(module)
        if failed:
            print(f"compile_pdf_modules: nothing installed; failed: {', '.join(failed)}", file=sys.stderr)
            return 1
        for module, built_file in built.items():
            extension = extension_of(sources[module])
            partial = extension.with_name(extension.name + ".partial")
            shutil.copyfile(built_file, partial)
            partial.replace(extension)
            record_of(extension).write_text(digests[module] + "\n")
    seconds = time.monotonic() - started
    print(f"compile_pdf_modules: {len(todo)} modules compiled in {seconds:.0f} s ({jobs} jobs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
