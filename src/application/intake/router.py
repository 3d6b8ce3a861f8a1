"""The router: picks the strategy for a file from its content (never its name)."""

from __future__ import annotations

from dataclasses import dataclass

from application.intake.ports import IntakeStrategy, Strategies
from domain.intake.model import DocumentKind


@dataclass(frozen=True, slots=True)
class Route:
    strategy: IntakeStrategy | None
    reason: str | None = None


def describe(content: bytes) -> str:
    """A short, safe description of what the bytes start with (for the UNSUPPORTED reason)."""
    head = content[:16]
    if not content:
        return "the file is empty"
    printable = "".join(ch if 32 <= ord(ch) < 127 else "." for ch in head.decode("latin-1"))
    return f"the content starting {printable!r} is not a bank statement or supplier invoice format Istmo reads"


def route(content: bytes, strategies: Strategies, kind: DocumentKind | None) -> Route:
    """The first strategy (in the registered order) that recognises ``content``; with ``kind``, one
    of that kind, or an explanation of what the file is instead."""
    for strategy in strategies:
        if strategy.recognises(content):
            if kind is not None and strategy.kind is not kind:
                return Route(
                    None,
                    f"the file is a {strategy.kind.value.lower().replace('_', ' ')} ({strategy.name}), "
                    f"not a {kind.value.lower().replace('_', ' ')} as asked",
                )
            return Route(strategy)
    return Route(None, describe(content))
