"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Any

import structlog
from flask import Blueprint, jsonify
from sqlalchemy import text

from entrypoints.http.services import services

blueprint = Blueprint("health", __name__)
log = structlog.get_logger(__name__)


@blueprint.get("/healthz")
def healthz() -> Any:
    return jsonify({"status": "ok"})


@blueprint.get("/readyz")
def readyz() -> Any:
    container = services()
    checks: dict[str, str] = {}
    try:
        with container.engine().connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:  # a probe reports, it does not raise
        log.warning("readyz.database", error=type(error).__name__)
        checks["database"] = "unreachable"
    try:
        container.storage().check()
        checks["storage"] = "ok"
    except Exception as error:
        log.warning("readyz.storage", error=type(error).__name__)
        checks["storage"] = "unreachable"
    ready = all(value == "ok" for value in checks.values())
    response = jsonify({"status": "ready" if ready else "unavailable", "checks": checks})
    response.status_code = 200 if ready else 503
    return response
