"""``python -m adapters.pdf.accelerated.compile`` (``make pdf-modules``): compile the modules
listed in ``modules.py`` with Cython, WeasyPrint's in place in the running venv's site-packages,
our ``speedups.py`` beside its source in ``src/``. Why, and what it saves: see the package.

On every run:

1. an extension of ours whose module is no longer listed, whose source vanished or whose source
   changed (a new WeasyPrint) is removed, so a stale build never shadows its ``.py``;
2. with a WeasyPrint or pydyf release the accelerator does not know, nothing is compiled (one
   line says so; exit 0): stock WeasyPrint renders;
3. without Cython, setuptools, a C compiler (``$CC``, else the compiler Python was built with,
   as setuptools picks it) or the Python headers, nothing is compiled (one line; exit 0):
   WeasyPrint runs from its sources;
4. otherwise the listed modules without an up-to-date extension are compiled, all of them into
   a temporary folder first (one job per CPU); only if every one compiled are they moved into
   place, the record written last. A failed compile exits non-zero and installs nothing, so
   ``make`` stops and tries again next time.

A build is kept in a cache outside the checkout (``$ISTMO_BUILD_CACHE``, else
``~/.cache/istmo/pdf-modules``), named by what decides its bytes: the source's SHA-256, the
interpreter's extension suffix (version and ABI), Cython's version and the C flags. Another
checkout of the same sources on the same machine (a fresh clone, a worktree, after ``make
clean``) copies it instead of compiling (~50 s on two cores); anything else compiles as before.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import sys
import sysconfig
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from adapters.pdf.accelerated.modules import (
    MODULES,
    RECORD_SUFFIX,
    ROOTS,
    extension_of,
    record_of,
    sha256,
    source_of,
)
from adapters.pdf.accelerated.releases import unknown_releases

# -O1 gives nearly all of -O3's gain (0.5 % more instructions) in about a third of the compile time.
C_FLAGS = ["-O1", "-g0"]


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


def cache_folder() -> Path:
    return Path(os.environ.get("ISTMO_BUILD_CACHE") or Path.home() / ".cache" / "istmo" / "pdf-modules")


def cache_key(module: str, digest: str) -> str:
    """The name of a build of ``module`` from a source of SHA-256 ``digest``, here."""
    try:
        from Cython import __version__ as cython_version
    except ImportError:
        cython_version = "none"
    decided_by = " ".join([digest, str(sysconfig.get_config_var("EXT_SUFFIX")), cython_version, *C_FLAGS])
    return f"{module}-{hashlib.sha256(decided_by.encode()).hexdigest()[:24]}{sysconfig.get_config_var('EXT_SUFFIX')}"


def install(built_file: Path, extension: Path, digest: str) -> None:
    """``built_file`` in place as ``extension``, then its record (last: a record vouches for it)."""
    partial = extension.with_name(extension.name + ".partial")
    shutil.copyfile(built_file, partial)
    partial.replace(extension)
    record_of(extension).write_text(digest + "\n")


def from_cache(module: str, digest: str, extension: Path) -> bool:
    kept = cache_folder() / cache_key(module, digest)
    if not kept.is_file():
        return False
    install(kept, extension, digest)
    return True


def keep(module: str, digest: str, built_file: Path) -> None:
    """A copy of a build in the cache; a cache that cannot be written is only a slower next time."""
    try:
        folder = cache_folder()
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".{cache_key(module, digest)}.{os.getpid()}.partial"
        shutil.copyfile(built_file, partial)
        partial.replace(folder / cache_key(module, digest))
    except OSError as error:
        print(f"pdf-modules: not cached ({error})", file=sys.stderr)


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


def main() -> int:
    sources = {module: source_of(module) for module in MODULES}
    digests = {module: sha256(source) for module, source in sources.items() if source.exists()}
    listed = {extension_of(sources[module]): digest for module, digest in digests.items()}

    # 1. Stale extensions of ours go, whatever else happens.
    for record in (record for root in ROOTS for record in root.rglob("*" + RECORD_SUFFIX)):
        extension = record.with_name(record.name.removesuffix(RECORD_SUFFIX))
        if record.read_text().strip() != listed.get(extension):
            print(f"pdf-modules: removing stale {extension}")
            remove(extension)
    unknown = unknown_releases()
    if unknown:
        print(f"pdf-modules: not compiled: {', '.join(unknown)} unknown to the accelerator; stock WeasyPrint renders")
        return 0
    for module, source in sources.items():
        if module not in digests:
            print(f"pdf-modules: {module}: {source} not found", file=sys.stderr)
            return 1

    # 2. What has no up-to-date extension is compiled, all or nothing.
    def up_to_date(module: str) -> bool:  # stale ones were removed above
        extension = extension_of(sources[module])
        return extension.exists() and record_of(extension).exists()

    todo = [module for module in MODULES if not up_to_date(module)]
    for module in MODULES:  # built here before the cache existed, or by another checkout's run
        if module not in todo and not (cache_folder() / cache_key(module, digests[module])).is_file():
            keep(module, digests[module], extension_of(sources[module]))
    if not todo:
        print(f"pdf-modules: {len(MODULES)} modules up to date")
        return 0
    problem = missing_tools()
    if problem:
        print(f"pdf-modules: not compiled ({problem}): {len(todo)} modules stay pure Python")
        return 0
    for module in todo:
        remove(extension_of(sources[module]))  # an extension without a record: not ours to trust
    cached = [module for module in todo if from_cache(module, digests[module], extension_of(sources[module]))]
    if cached:
        print(f"pdf-modules: {len(cached)} modules copied from {cache_folder()}")
    todo = [module for module in todo if module not in cached]
    if not todo:
        return 0
    started = time.monotonic()
    jobs = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as folder, ProcessPoolExecutor(jobs) as pool:
        futures = {m: pool.submit(build, m, sources[m], Path(folder) / m) for m in todo}
        built, failed = {}, []
        for module, future in futures.items():
            try:
                built[module], seconds = future.result()
                print(f"pdf-modules: compiled {module} ({seconds:.1f} s)")
            except Exception as error:  # the compiler's own messages are above
                print(f"pdf-modules: {module} failed: {error!r}", file=sys.stderr)
                failed.append(module)
        if failed:
            print(f"pdf-modules: nothing installed; failed: {', '.join(failed)}", file=sys.stderr)
            return 1
        for module, built_file in built.items():
            install(built_file, extension_of(sources[module]), digests[module])
            keep(module, digests[module], built_file)
    seconds = time.monotonic() - started
    print(f"pdf-modules: {len(todo)} modules compiled in {seconds:.0f} s ({jobs} jobs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
