"""GraphQL errors that are the client's mistake (a malformed value, an unknown field, a refused
argument) as opposed to a fault of ours: answered with their message and logged at INFO without
a traceback, where a fault is answered "Internal server error" and logged at ERROR with one."""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError

from domain.shared.errors import DomainError


def is_client_mistake(error: BaseException) -> bool:
    """Found by parsing or validation (no path: nothing ran), a scalar refusing a value, or a domain
    error raised for a field's argument."""
    if not isinstance(error, GraphQLError):
        return False
    original = error.original_error
    if original is None or isinstance(original, GraphQLError | DomainError):
        return True
    # a custom scalar's parse_value/parse_literal refuses a value by raising ValueError or TypeError
    return error.path is None and isinstance(original, ValueError | TypeError)


class GraphQLErrorLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """The logger given to Ariadne, which logs every error of a result at ERROR with its traceback."""

    def __init__(self, name: str) -> None:
        super().__init__(logging.getLogger(name), {})

    def error(self, msg: Any, *args: Any, exc_info: Any = None, **kwargs: Any) -> None:
        if exc_info is not None and is_client_mistake(exc_info):
            self.logger.info("graphql.refused: %s", str(msg).splitlines()[0] if str(msg) else "")
            return
        self.logger.error(msg, *args, exc_info=exc_info, **kwargs)
