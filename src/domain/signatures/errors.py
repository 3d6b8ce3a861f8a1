"""Errors of the signatures domain, each with a stable code."""

from __future__ import annotations

from domain.shared.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied


class BadSignatureImage(InvalidInput):
    code = "BAD_SIGNATURE_IMAGE"


class SignatureImageTooLarge(InvalidInput):
    code = "SIGNATURE_IMAGE_TOO_LARGE"


class NoDocument(InvalidInput):
    """The entity has no PDF to sign."""

    code = "NO_DOCUMENT"


class SignatureNotFound(NotFound):
    code = "SIGNATURE_NOT_FOUND"


class AlreadyRevoked(Conflict):
    code = "ALREADY_REVOKED"


class NotYourSignature(PermissionDenied):
    code = "NOT_YOUR_SIGNATURE"


class RequestNotFound(NotFound):
    code = "SIGNATURE_REQUEST_NOT_FOUND"


class RequestClosed(Conflict):
    """The request was already signed, declined, cancelled or has expired (``state`` says which)."""

    code = "SIGNATURE_REQUEST_CLOSED"

    def __init__(self, state: str, *, field: str | None = "token") -> None:
        super().__init__(f"this signature request is {state.lower()}", field=field)
        self.state = state


class ConsentRequired(InvalidInput):
    code = "CONSENT_REQUIRED"


class SealingNotConfigured(DomainError):
    """The instance has no sealing certificate (ISTMO_SIGNING_CERT / ISTMO_SIGNING_KEY)."""

    code = "SEALING_NOT_CONFIGURED"
