"""Electronic fiscal documents: what an invoice and a credit note share as documents the PAC (the
authorised provider) certifies and the DGI accepts or rejects.

Both carry the same legal fields (status, CUFE, the PAC's document id, QR link, authorisation
protocol and date, the PAC's message) and move through the same legal lifecycle; each records
its own event when its legal status changes (``_legal_status_changed``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from domain.invoicing.values import parse_text
from domain.shared.errors import InvalidInput
from domain.shared.model import Aggregate, DomainEvent


class LegalStatus(StrEnum):
    """Where the document stands with the PAC (the authorised provider) and the DGI."""

    NONE = "NONE"
    PAC_AUTHORIZED = "PAC_AUTHORIZED"
    DGI_AUTHORIZED = "DGI_AUTHORIZED"
    PAC_REJECTED = "PAC_REJECTED"
    DGI_REJECTED = "DGI_REJECTED"

    @property
    def is_terminal(self) -> bool:
        return self in (LegalStatus.DGI_AUTHORIZED, LegalStatus.DGI_REJECTED, LegalStatus.PAC_REJECTED)


# How far along each legal status is: a transition only ever moves forward, out of a non-terminal state.
_LEGAL_STAGE = {
    LegalStatus.NONE: 0,
    LegalStatus.PAC_AUTHORIZED: 1,
    LegalStatus.PAC_REJECTED: 2,
    LegalStatus.DGI_AUTHORIZED: 2,
    LegalStatus.DGI_REJECTED: 2,
}


class ElectronicFiscalDocument(Aggregate):
    """An aggregate authorised through the PAC. Subclasses set the legal fields in ``__init__``
    (the ORM maps them as columns) and say which event a change of legal status records."""

    id: str
    tenant_id: str
    legal_status: LegalStatus
    cufe: str | None
    pac_document_id: str | None
    qr_url: str | None
    authorization_protocol: str | None
    authorized_at: datetime | None
    legal_message: str | None

    def _legal_status_changed(self, previous: LegalStatus, status: LegalStatus) -> DomainEvent:
        raise NotImplementedError

    def apply_legal_status(
        self,
        status: LegalStatus | str,
        *,
        cufe: str | None = None,
        message: str | None = None,
        pac_document_id: str | None = None,
        qr_url: str | None = None,
        authorization_protocol: str | None = None,
        authorized_at: datetime | None = None,
    ) -> bool:
        """Move to ``status`` if it is ahead of where the document stands; ``True`` if it moved.

        NONE → PAC_AUTHORIZED → DGI_AUTHORIZED or DGI_REJECTED; NONE or PAC_AUTHORIZED → PAC_REJECTED
        (and NONE → DGI_* when the PAC's notice is late). A terminal state (DGI_AUTHORIZED,
        DGI_REJECTED, PAC_REJECTED) is never left, and a stale or repeated notice changes nothing:
        webhooks arrive late, twice, or out of order.
        """
        try:
            target = LegalStatus(status)
        except ValueError:
            raise InvalidInput(f"unknown legal status {str(status)[:32]!r}", field="legalStatus") from None
        current = LegalStatus(self.legal_status)
        if current.is_terminal or _LEGAL_STAGE[target] <= _LEGAL_STAGE[current]:
            return False
        values = {
            "cufe": parse_text(cufe, field="cufe", max_length=128),
            "pac_document_id": parse_text(pac_document_id, field="pacDocumentId", max_length=128),
            "qr_url": _parse_url(qr_url, field="qrUrl"),
            "authorization_protocol": parse_text(
                authorization_protocol, field="authorizationProtocol", max_length=128
            ),
            "legal_message": parse_text(message, field="legalMessage", max_length=2000, multiline=True),
        }
        if authorized_at is not None and authorized_at.tzinfo is None:
            raise InvalidInput("authorizedAt must carry a timezone", field="authorizedAt")
        self.legal_status = target
        for name, value in values.items():
            if value is not None:
                setattr(self, name, value)
        if authorized_at is not None:
            self.authorized_at = authorized_at
        self.record(self._legal_status_changed(current, target))
        return True

    def record_authorization(
        self,
        *,
        cufe: str | None = None,
        qr_url: str | None = None,
        authorization_protocol: str | None = None,
        authorized_at: datetime | None = None,
    ) -> bool:
        """Keep what the PAC says about an authorised document (fetched after the notice): CUFE,
        QR link, authorisation protocol and date. Only on an authorised document, and without
        changing its legal status; ``True`` if anything changed."""
        if LegalStatus(self.legal_status) not in (LegalStatus.PAC_AUTHORIZED, LegalStatus.DGI_AUTHORIZED):
            return False
        if authorized_at is not None and authorized_at.tzinfo is None:
            raise InvalidInput("authorizedAt must carry a timezone", field="authorizedAt")
        values = {
            "cufe": parse_text(cufe, field="cufe", max_length=128),
            "qr_url": _parse_url(qr_url, field="qrUrl"),
            "authorization_protocol": parse_text(authorization_protocol, field="authorizationProtocol", max_length=128),
            "authorized_at": authorized_at,
        }
        changed = False
        for name, value in values.items():
            if value is not None and getattr(self, name) != value:
                setattr(self, name, value)
                changed = True
        return changed


def _parse_url(value: object, *, field: str) -> str | None:
    text = parse_text(value, field=field, max_length=2048)
    if text is not None and not text.lower().startswith(("https://", "http://")):
        raise InvalidInput(f"{field} must be an http(s) URL", field=field)
    return text
