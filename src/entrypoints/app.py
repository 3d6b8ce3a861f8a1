"""The Flask application factory."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from application.modules import DOMAINS
from application.shared.modules import domain_parts
from entrypoints.config import Settings
from entrypoints.container import Container, build_container
from entrypoints.graphql.schema import build_schema
from entrypoints.http import graphql, health, outage, rate_limits, services
from entrypoints.http.errors import json_error

log = structlog.get_logger("istmo.http")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_SIGNED_PATH = re.compile(r"^(/files/(?:download|upload)/|/sign/).*$")  # a signed link is a credential


def create_app(settings: Settings | None = None, *, container: Container | None = None) -> Flask:
    container = container or build_container(settings)
    app = Flask("istmo")
    # No 308 to a "canonical" path for a doubled slash (a PAC company id of "/0" arrived as one):
    # an API answers the path it was given, and a webhook sender would not follow the redirect.
    app.url_map.merge_slashes = False
    app.config["MAX_CONTENT_LENGTH"] = container.settings().max_upload_bytes + 4 * 1024 * 1024
    services.install(app, container, build_schema())
    rate_limits.install(app, container.settings())
    outage.quiet(graphql.__name__)  # the GraphQL library's own error log: no traceback for an outage
    app.register_blueprint(health.blueprint)
    app.register_blueprint(graphql.blueprint)
    for _, routes in domain_parts("entrypoints.http.{domain}", DOMAINS):  # a domain's own routes
        if hasattr(routes, "blueprint"):
            app.register_blueprint(routes.blueprint)

    @app.before_request
    def bind_request() -> None:
        offered = request.headers.get("X-Request-ID", "")
        g.request_id = offered if _REQUEST_ID.match(offered) else uuid.uuid4().hex
        g.started = time.perf_counter()
        g.started_monotonic = time.monotonic()
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=g.request_id)

    @app.after_request
    def log_request(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        if response.status_code < 500 and request.path != "/healthz":
            outage.OUTAGE.over(g.get("started_monotonic", 0.0))
        log.info(
            "request",
            method=request.method,
            path=_SIGNED_PATH.sub(r"\1<token>", request.path),
            status=response.status_code,
            ms=round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 1),
        )
        return response

    @app.errorhandler(413)
    def too_large(_error: Any) -> Response:
        return json_error(413, "REQUEST_TOO_LARGE", f"the request body exceeds {app.config['MAX_CONTENT_LENGTH']} bytes")

    @app.errorhandler(404)
    def not_found(_error: Any) -> Response:
        return json_error(404, "NOT_FOUND", f"no route for {request.path}")

    @app.errorhandler(405)
    def not_allowed(_error: Any) -> Response:
        return json_error(405, "METHOD_NOT_ALLOWED", f"{request.method} is not allowed on {request.path}")

    @app.errorhandler(Exception)
    def internal(error: Exception) -> Response:
        if isinstance(error, HTTPException):
            return json_error(error.code or 500, (error.name or "error").upper().replace(" ", "_"), error.description or "")
        if outage.is_database_away(error):
            outage.OUTAGE.seen(error)
            return outage.unavailable()
        log.exception("unhandled", error=type(error).__name__)
        return json_error(500, "INTERNAL", f"internal error (request {g.get('request_id')})")

    return app
