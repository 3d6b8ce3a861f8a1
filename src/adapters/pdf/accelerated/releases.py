"""The releases the accelerator was written against: it patches their internals, so on any other
release it stands aside and stock WeasyPrint renders."""

from __future__ import annotations

from importlib import metadata

# Distribution -> the release prefix the patches were checked against.
KNOWN = {"weasyprint": "70.", "pydyf": "0.13."}


def unknown_releases() -> list[str]:
    """``"weasyprint 71.0"`` for each installed distribution of ``KNOWN`` at another release."""
    installed = {name: metadata.version(name) for name in KNOWN}
    return [f"{name} {version}" for name, version in installed.items() if not version.startswith(KNOWN[name])]
