"""The PAC's API (Alanube, Panama): fetch a document's state and download its authorised PDF and XML.

``GET {base}/pan/v1/invoices/{id}?idCompany=...&documents=pdf`` (a credit note's at
``/pan/v1/credit-notes/{id}``) with ``Authorization: Bearer <api key>`` answers ``{document: {id,
legalStatus, cufe, pdf, xml, qr, authorizationProtocol, authorizationDate?, ...}}``; ``pdf`` and
``xml`` are short-lived URLs, downloaded at once. Timeouts, 5xx and
429 are ``PacUnavailable`` (retried by the job), other 4xx ``PacRefused``. Error texts name the
status and path only: never the key, never a document URL (it is a credential while it lives).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from application.invoicing.pac import PacDocument, PacDocumentKind, PacRefused, PacUnavailable

_RETRY = frozenset({408, 425, 429, 500, 502, 503, 504})
_COLLECTION = {PacDocumentKind.INVOICE: "invoices", PacDocumentKind.CREDIT_NOTE: "credit-notes"}


class AlanubePacClient:
    def __init__(self, base_url: str, *, timeout: float = 15.0, session: requests.Session | None = None) -> None:
        self._base = base_url.rstrip("/")
        self._timeout = timeout
        self._session = session or requests.Session()

    def document(
        self, *, api_key: str, company_id: str, document_id: str, kind: PacDocumentKind = PacDocumentKind.INVOICE
    ) -> PacDocument:
        path = f"/pan/v1/{_COLLECTION[kind]}/{quote(document_id, safe='')}"
        try:
            response = self._session.get(
                self._base + path,
                params={"idCompany": company_id, "documents": "pdf"},
                headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
                timeout=self._timeout,
            )
        except requests.RequestException as error:
            raise PacUnavailable(f"GET {path}: {type(error).__name__}") from None
        _check(response, f"GET {path}")
        try:
            payload = response.json()
        except ValueError:
            raise PacUnavailable(f"GET {path}: the answer is not JSON") from None
        document = payload.get("document") if isinstance(payload, dict) else None
        if not isinstance(document, dict):
            raise PacRefused(f"GET {path}: the answer has no document")
        return PacDocument(
            document_id=str(document.get("id") or document_id),
            legal_status=_str(document.get("legalStatus")),
            cufe=_str(document.get("cufe")),
            pdf_url=_str(document.get("pdf")),
            xml_url=_str(document.get("xml")),
            qr_url=_str(document.get("qr")),
            authorization_protocol=_str(document.get("authorizationProtocol")),
            authorized_at=_when(document.get("authorizationDate") or document.get("authorizedAt")),
            message=_str(document.get("message")),
        )

    def download(self, url: str, *, max_bytes: int) -> bytes:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise PacRefused("the document link is not an http(s) URL")
        where = f"GET {parts.netloc}"
        try:
            with self._session.get(url, timeout=self._timeout, stream=True) as response:
                _check(response, where)
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_content(64 * 1024):
                    size += len(chunk)
                    if size > max_bytes:
                        raise PacRefused(f"{where}: the document is larger than {max_bytes} bytes")
                    chunks.append(chunk)
                return b"".join(chunks)
        except requests.RequestException as error:
            raise PacUnavailable(f"{where}: {type(error).__name__}") from None


def _check(response: requests.Response, where: str) -> None:
    if response.status_code < 400:
        return
    if response.status_code in _RETRY:
        raise PacUnavailable(f"{where}: HTTP {response.status_code}", retry_after=_retry_after(response))
    raise PacRefused(f"{where}: HTTP {response.status_code}")


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    return float(value) if value.isdigit() else None


def _str(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text or None


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
