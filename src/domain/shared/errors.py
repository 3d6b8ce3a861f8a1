"""Domain errors: each class carries a stable ``code`` the entrypoints map to responses."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the request. ``field`` names the offending input when there is one."""

    code = "DOMAIN_ERROR"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    code = "INVALID_INPUT"


class NotFound(DomainError):
    code = "NOT_FOUND"


class Conflict(DomainError):
    code = "CONFLICT"


class PermissionDenied(DomainError):
    code = "PERMISSION_DENIED"
