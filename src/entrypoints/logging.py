"""structlog: JSON in production, a readable console in a terminal; request context via contextvars."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from typing import Any

import structlog

_SECRET_KEYS = ("authorization", "token", "secret", "password", "access_key", "api_key", "cookie")


def _redact(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    """Secrets never reach a log line, whoever logs them."""
    for key in list(event):
        if any(marker in key.lower() for marker in _SECRET_KEYS):
            event[key] = "[redacted]"
    return event


def configure_logging(level: str, fmt: str, production: bool) -> Iterator[None]:
    """A dependency-injector ``Resource``: configure on init, flush on shutdown."""
    use_json = fmt == "json" or (fmt == "auto" and (production or not sys.stderr.isatty()))
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _redact,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info if use_json else structlog.dev.set_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")
    yield
    sys.stderr.flush()
