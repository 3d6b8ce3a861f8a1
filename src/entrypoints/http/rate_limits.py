"""Request rate limits: per tenant on ``/graphql``, per client address on the webhook routes.

Flask-Limiter counts in a moving window, in Redis when ``ISTMO_REDIS_URL`` is set (every gunicorn
worker and every host then shares one count), else in the process's memory (each worker counts
its own). A request past a limit is answered 429 with ``Retry-After`` (whole seconds until the
oldest counted request leaves the window) and an error naming the limit: a GraphQL ``errors``
entry on ``/graphql`` (code ``RATE_LIMITED``), the routes' JSON error on the webhooks.

``/graphql`` is counted per tenant, as the bearer token names it; a request without a valid token
is counted per client address (guessing tokens is limited too) and is refused later as usual.
Webhook routes carry no tenant before their signature is checked, so they are counted per client
address. Behind a reverse proxy that address is the proxy's unless ``ISTMO_PROXY_HOPS`` says how
many proxies in front set ``X-Forwarded-For`` (``deploy/nginx.conf``: one); 0 trusts none of it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import structlog
from flask import Flask, Response, jsonify, request
from flask_limiter import ApplicationLimit, Limiter
from flask_limiter.errors import RateLimitExceeded
from limits import RateLimitItem, parse
from werkzeug.middleware.proxy_fix import ProxyFix

from application.tenancy.auth import AuthenticationFailed
from entrypoints.config import ConfigurationError, Settings
from entrypoints.http.errors import json_error
from entrypoints.http.services import services

log = structlog.get_logger("istmo.http")

TENANT_DEFAULT = "1200/minute"
WEBHOOK_DEFAULT = "1200/minute"
WEBHOOK_PREFIX = "/webhooks/"
_OFF = ("off", "0", "false", "no")


@dataclass(frozen=True, slots=True)
class RateLimits:
    """The limits as configured; ``None`` is a limit switched off."""

    tenant: RateLimitItem | None
    webhook_address: RateLimitItem | None
    storage_uri: str
    proxy_hops: int

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimits:
        variables = settings.variables
        return cls(
            tenant=_limit(variables.text("RATE_LIMIT_TENANT", TENANT_DEFAULT), "ISTMO_RATE_LIMIT_TENANT"),
            webhook_address=_limit(
                variables.text("RATE_LIMIT_WEBHOOK_IP", WEBHOOK_DEFAULT), "ISTMO_RATE_LIMIT_WEBHOOK_IP"
            ),
            storage_uri=variables.text("REDIS_URL") or "memory://",
            proxy_hops=variables.integer("PROXY_HOPS", 0, minimum=0),
        )


def _limit(value: str | None, name: str) -> RateLimitItem | None:
    if value is None or value.strip().lower() in _OFF:
        return None
    try:
        if not value.isascii():  # a Unicode digit would parse
            raise ValueError(value)
        return parse(value.strip())
    except ValueError:
        raise ConfigurationError(f"{name} must be a rate like 600/minute or 20/second, or off; not {value!r}") from None


def _per_tenant() -> str:
    """The tenant a genuine token names (its signature and expiry checked; no database read, the
    route authenticates fully afterwards), else the client address."""
    scheme, _, token = (request.headers.get("Authorization") or "").strip().partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        try:
            claims = services().gateways.token_verifier().verify(token.strip())
        except AuthenticationFailed:
            pass
        else:
            return f"tenant:{claims.tenant_reference}"
    return f"address:{request.remote_addr}"


def _per_address() -> str:
    return f"address:{request.remote_addr}"


def _is_graphql() -> bool:
    return request.path == "/graphql" and request.method == "POST"


def _is_webhook() -> bool:
    return request.path.startswith(WEBHOOK_PREFIX)


def install(app: Flask, settings: Settings) -> Limiter | None:
    """Count ``app``'s requests against the configured limits (nothing to do if both are off)."""
    limits = RateLimits.from_settings(settings)
    if limits.proxy_hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=limits.proxy_hops)  # type: ignore[method-assign]
    chosen = []
    if limits.tenant is not None:
        chosen.append(ApplicationLimit(
            str(limits.tenant), key_function=_per_tenant, scope="graphql",
            exempt_when=lambda: not _is_graphql(), error_message=f"{_words(limits.tenant)} per tenant",
        ))
    if limits.webhook_address is not None:
        chosen.append(ApplicationLimit(
            str(limits.webhook_address), key_function=_per_address, scope="webhooks",
            exempt_when=lambda: not _is_webhook(),
            error_message=f"{_words(limits.webhook_address)} from one address to the webhook routes",
        ))
    if not chosen:
        return None
    limiter = Limiter(
        _per_address, app=app, application_limits=chosen, storage_uri=limits.storage_uri,
        strategy="moving-window", key_prefix="istmo", headers_enabled=False,
        swallow_errors=True,  # Redis away: requests are served uncounted rather than refused
    )

    @app.errorhandler(429)
    def rate_limited(error: Exception) -> Response:
        retry_after = _retry_after(limiter)
        described = error.description if isinstance(error, RateLimitExceeded) else "too many requests"
        message = f"rate limit exceeded: at most {described}; retry in {retry_after} s"
        log.info("request.rate_limited", path=request.path, limit=described)
        if request.path == "/graphql":
            response = jsonify({"errors": [{"message": message, "extensions": {
                "code": "RATE_LIMITED", "limit": described, "retryAfter": retry_after,
            }}]})
            response.status_code = 429
            response.headers["Retry-After"] = str(retry_after)
            return response
        return json_error(429, "RATE_LIMITED", message, Retry_After=str(retry_after))

    return limiter


def _words(limit: RateLimitItem) -> str:
    """``600 requests per 1 minute``."""
    return f"{limit.amount} requests per {limit.multiples} {limit.GRANULARITY.name}"


def _retry_after(limiter: Limiter) -> int:
    """Whole seconds until the breached window lets one more request in (at least 1)."""
    breached = limiter.current_limit
    if breached is None:
        return 1
    return max(1, math.ceil(breached.window[0] - time.time()))  # reset_at adds a second
