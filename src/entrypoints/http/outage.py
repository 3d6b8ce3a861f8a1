"""The database away: every route answers 503 with ``Retry-After`` and the log gets one line when
an outage starts and one when it ends, not a traceback per request."""

from __future__ import annotations

import logging
import threading
import time

import structlog
from flask import Response
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from entrypoints.http.errors import json_error

log = structlog.get_logger("istmo.http")

RETRY_AFTER_SECONDS = 5


def is_database_away(error: BaseException | None) -> bool:
    """The database could not be reached (refused, dropped, timed out), however deep it is wrapped."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, (OperationalError, InterfaceError, PoolTimeout)):
            return True
        if isinstance(error, DBAPIError) and error.connection_invalidated:
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


class Outage:
    """Whether the database is away now, as the requests saw it; logs its start and its end once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._since: float | None = None

    def seen(self, error: BaseException) -> None:
        with self._lock:
            if self._since is not None:
                return
            self._since = time.monotonic()
        log.warning("database.unavailable", error_type=type(error).__name__)

    def over(self, request_started: float) -> None:
        """A request that began after the outage did was answered: the database is back. One that
        began before (its work done on a connection the outage had not reached yet) proves nothing."""
        if self._since is None or request_started <= self._since:
            return
        with self._lock:
            since = self._since
            if since is None or request_started <= since:
                return
            self._since = None
        if since is not None:
            log.info("database.back", seconds=round(time.monotonic() - since, 1))


OUTAGE = Outage()


def unavailable() -> Response:
    return json_error(
        503, "DATABASE_UNAVAILABLE", "the database cannot be reached right now; try again in a few seconds",
        Retry_After=str(RETRY_AFTER_SECONDS),
    )


class _WithoutOutageTracebacks(logging.Filter):
    """Drops the records a library logs for an error that is the database being away."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and is_database_away(record.exc_info[1]))


def quiet(logger_name: str) -> None:
    logger = logging.getLogger(logger_name)
    if not any(isinstance(existing, _WithoutOutageTracebacks) for existing in logger.filters):
        logger.addFilter(_WithoutOutageTracebacks())
