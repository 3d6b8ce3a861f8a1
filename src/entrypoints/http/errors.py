"""JSON error responses for the HTTP routes (GraphQL business errors are result types instead)."""

from __future__ import annotations

from flask import Response, jsonify


def json_error(status: int, code: str, message: str, **headers: str) -> Response:
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    for name, value in headers.items():
        response.headers[name.replace("_", "-")] = value
    return response
