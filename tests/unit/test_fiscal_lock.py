"""Issue 18, reproducible installs: requirements.lock pins every dependency of pyproject.toml (and
of the test and pdf-build extras) to one exact version with its hashes, and each pin satisfies
the range pyproject.toml asks for. `make lock` refreshes it; `make serve`/`make test` install
from it with --require-hashes."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def locked() -> dict[str, tuple[str, int]]:
    """name -> (version, number of hashes) of every pin of the lock."""
    text = (ROOT / "requirements.lock").read_text()
    pins: dict[str, tuple[str, int]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        match = re.match(r"([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==([^ \\\n]+)", block)
        if match:
            pins[canonicalize_name(match.group(1))] = (match.group(2), block.count("--hash=sha256:"))
    return pins


def test_every_dependency_is_pinned_with_hashes_within_its_range() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["test"], *project["optional-dependencies"]["pdf-build"]]
    pins = locked()
    assert len(pins) > len(wanted)  # and their own dependencies
    for spec in map(Requirement, wanted):
        version, hashes = pins[canonicalize_name(spec.name)]
        assert spec.specifier.contains(version, prereleases=True), (spec, version)
        assert hashes >= 1, spec.name
    assert all(hashes >= 1 for _version, hashes in pins.values())


def test_the_makefile_installs_from_the_lock_with_hashes() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install --progress-bar on --require-hashes -r $(LOCK)" in makefile
    assert "--no-deps --no-build-isolation -e ." in makefile
