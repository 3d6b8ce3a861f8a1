"""The public signing page, ``/sign/<token>``: read the document, sign (drawn or typed) or decline.

The token in the path is the credential (single-use, only its hash stored; the request log
masks it). Every response carries strict headers: a CSP with no inline script and
``frame-ancestors 'none'`` (the PDF route may be framed by the page only), no referrer, no
caching. The POST needs the CSRF token of the page it came from: a random value in a
``SameSite=Strict`` cookie, and in the form its HMAC with the link's token under
``ISTMO_SIGNING_SECRET``. Failed look-ups of tokens are counted per client address; past
``ISTMO_SIGNATURES_GUESS_LIMIT`` (default 20) in ten minutes the address gets 429 pages.
``POST /sign/verify`` lets anyone check a sealed PDF's signature (JSON).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from adapters.storage.disposition import content_disposition
from application.signatures.commands import (
    DeclineByLink,
    OpenSigningLink,
    ReadSigningDocument,
    SignByLink,
    VerifyPdfSeal,
    Visitor,
)
from domain.shared.errors import DomainError
from domain.signatures.errors import BadSignatureImage, RequestClosed, RequestNotFound
from entrypoints.http.services import services
from entrypoints.http.signing_pages import SCRIPT, STYLE, render_sign, render_state

blueprint = Blueprint("signatures", __name__)

COOKIE = "istmo_sign_csrf"
_LIMITER = "istmo.signatures.guess_limiter"
WINDOW = 600.0
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
_STATUS = {"SIGNED": 200, "DECLINED": 200, "CANCELLED": 410, "EXPIRED": 410, "UNKNOWN": 404, "LIMITED": 429}


class GuessLimiter:
    """Failed token look-ups per client address in a sliding window (per process)."""

    def __init__(self, limit: int, window: float = WINDOW) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(address, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def blocked(self, address: str) -> bool:
        with self._lock:
            return len(self._recent(address, time.monotonic())) >= self.limit

    def failed(self, address: str) -> None:
        with self._lock:
            now = time.monotonic()
            self._recent(address, now).append(now)
            if len(self._failures) > 100_000:  # forget the quiet ones
                for key in [k for k, v in self._failures.items() if not v][:50_000]:
                    del self._failures[key]


def _limiter() -> GuessLimiter:
    limiter = current_app.extensions.get(_LIMITER)
    if limiter is None:  # one per app, in each process
        limiter = GuessLimiter(services().settings().variables.integer("SIGNATURES_GUESS_LIMIT", 20))
        current_app.extensions[_LIMITER] = limiter
    return limiter


def _address() -> str:
    return request.remote_addr or "unknown"


def _visitor() -> Visitor:
    return Visitor(ip=request.remote_addr, user_agent=request.user_agent.string or None)


def _secure(response: Response, csp: str = PAGE_CSP) -> Response:
    response.headers["Content-Security-Policy"] = csp
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    if "frame-ancestors 'none'" in csp:
        response.headers["X-Frame-Options"] = "DENY"
    return response


def _html(body: str, status: int = 200) -> Response:
    return _secure(Response(body, status=status, mimetype="text/html"))


def _state(state: str) -> Response:
    return _html(render_state(state), _STATUS.get(state, 200))


def _csrf_for(nonce: str, token: str) -> str:
    secret = services().settings().signing_secret.encode()
    return hmac.new(secret, f"sign|{nonce}|{token}".encode(), hashlib.sha256).hexdigest()


def _handle(message: Any) -> Any:
    return services().bus().handle(message)


def _form_page(token: str, page: Any, *, error: str | None = None, status: int = 200) -> Response:
    nonce = request.cookies.get(COOKIE) or secrets.token_urlsafe(24)
    base = f"/sign/{token}"
    body = render_sign(page=page, base=base, csrf=_csrf_for(nonce, token), error=error)
    response = _html(body, status)
    response.set_cookie(COOKIE, nonce, httponly=True, samesite="Strict", secure=request.is_secure, path=base)
    return response


def _open(token: str, *, record: bool = True) -> Any:
    """The page view, or a finished response (unknown link, rate limited)."""
    limiter = _limiter()
    if limiter.blocked(_address()):
        return _state("LIMITED")
    try:
        return _handle(OpenSigningLink(actor=None, token=token, visitor=_visitor(), record=record))
    except RequestNotFound:
        limiter.failed(_address())
        return _state("UNKNOWN")


@blueprint.get("/sign/assets/sign.js")
def script() -> Response:
    response = Response(SCRIPT, mimetype="text/javascript")
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@blueprint.get("/sign/assets/sign.css")
def style() -> Response:
    response = Response(STYLE, mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@blueprint.get("/sign/<token>")
def page(token: str) -> Response:
    opened = _open(token)
    if isinstance(opened, Response):
        return opened
    if opened.state != "OPEN":
        return _state(opened.state)
    return _form_page(token, opened)


@blueprint.get("/sign/<token>/document")
def document(token: str) -> Response:
    limiter = _limiter()
    if limiter.blocked(_address()):
        return _state("LIMITED")
    try:
        found = _handle(ReadSigningDocument(actor=None, token=token, visitor=_visitor()))
    except RequestNotFound:
        limiter.failed(_address())
        return _state("UNKNOWN")
    except RequestClosed as closed:
        return _state(closed.state)
    response = Response(found.data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition(found.name, inline=not request.args.get("download"))
    return _secure(response, "default-src 'none'; frame-ancestors 'self'")


@blueprint.post("/sign/<token>")
def submit(token: str) -> Response:
    limit = services().signatures.signature_policy().max_image_bytes * 2 + 16_384
    if request.content_length is not None and request.content_length > limit:
        return _html(render_state("UNKNOWN"), 413)
    nonce, given = request.cookies.get(COOKIE, ""), request.form.get("csrf", "")
    if not nonce or not hmac.compare_digest(given.encode(), _csrf_for(nonce, token).encode()):
        response = _html("<!doctype html><title>Solicitud rechazada</title><h1>Solicitud rechazada</h1>"
                         "<p>Falta el código de seguridad del formulario: abra el enlace de nuevo.</p>", 403)
        return response
    opened = _open(token, record=False)
    if isinstance(opened, Response):
        return opened
    if opened.state != "OPEN":
        return _state(opened.state)
    try:
        if request.form.get("action") == "decline":
            done = _handle(DeclineByLink(actor=None, token=token, reason=request.form.get("reason", ""),
                                         visitor=_visitor()))
        else:
            done = _handle(SignByLink(
                actor=None, token=token, consent=request.form.get("consent") == "yes",
                image=_drawn(request.form.get("signature", "")), typed_name=request.form.get("typed_name") or None,
                visitor=_visitor(),
            ))
    except RequestClosed as closed:
        return _state(closed.state)
    except DomainError as refused:
        return _form_page(token, opened, error=refused.message, status=400)
    return _state(done.state)


def _drawn(data_url: str) -> bytes | None:
    """The canvas's PNG (a ``data:image/png;base64,`` URL), or None when nothing was drawn."""
    if not data_url:
        return None
    prefix = "data:image/png;base64,"
    if not data_url.startswith(prefix):
        raise BadSignatureImage("the drawn signature must be a PNG image", field="signature")
    try:
        return base64.b64decode(data_url[len(prefix):], validate=True)
    except (binascii.Error, ValueError):
        raise BadSignatureImage("the drawn signature is not valid base64", field="signature") from None


@blueprint.post("/sign/verify")
def verify() -> Response:
    """Anyone: is this PDF's seal intact, and was it made by this instance? (multipart field ``file``)"""
    upload = request.files.get("file")
    if upload is None:
        return _secure(_json({"error": {"code": "INVALID_INPUT", "message": "send the PDF as the form field file"}}, 400))
    try:
        check = _handle(VerifyPdfSeal(actor=None, pdf=upload.read()))
    except DomainError as refused:
        return _secure(_json({"error": {"code": refused.code, "message": refused.message}}, 400))
    return _secure(_json({
        "status": "VALID" if check.intact and check.trusted else "INVALID",
        "intact": check.intact, "trusted": check.trusted, "reason": check.problem,
        "sealedBy": check.sealed_by,
        "sealedAt": check.sealed_at.isoformat() if check.sealed_at else None,
        "timestampedAt": check.timestamped_at.isoformat() if check.timestamped_at else None,
    }, 200))


def _json(body: dict[str, Any], status: int) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response
