"""``/graphql``: JSON and multipart (file upload) requests, authenticated by a bearer token."""

from __future__ import annotations

import asyncio
import functools
import json
import re
from importlib import resources
from typing import Any

import structlog
from ariadne import format_error as ariadne_format_error
from ariadne import graphql
from ariadne.exceptions import HttpError
from ariadne.file_uploads import combine_multipart_data
from ariadne.validation import cost_validator
from flask import Blueprint, Response, abort, g, jsonify, request
from graphql import GraphQLError

from application.files.staging import BlobSink
from application.tenancy.auth import AuthenticationFailed
from domain.files.model import FileTooLarge
from domain.shared.errors import DomainError
from domain.tenancy.model import Actor
from entrypoints.container import Container
from entrypoints.graphql.limits import cached_parser, depth_limit, mutation_limit
from entrypoints.graphql.schema import cost_map, request_loaders
from entrypoints.http import outage
from entrypoints.http.client_mistakes import GraphQLErrorLog, is_client_mistake
from entrypoints.http.errors import json_error
from entrypoints.http.multipart import MalformedMultipart, MultipartForm, read_multipart
from entrypoints.http.services import schema, services

log = structlog.get_logger(__name__)

blueprint = Blueprint("graphql", __name__)

PREFLIGHT_HEADERS = ("GraphQL-Preflight", "Apollo-Require-Preflight")


# GraphiQL, served from files installed with the service (entrypoints/http/graphiql, from the
# npm packages named in its SOURCES.txt): the explorer works offline, under a policy that lets
# the page load nothing from anywhere but this service. Fonts and icons of GraphiQL's stylesheet
# are data: URIs inside it.
EXPLORER_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
EXPLORER_ASSETS = {
    "graphiql.min.js": "text/javascript",
    "graphiql.min.css": "text/css",
    "react.production.min.js": "text/javascript",
    "react-dom.production.min.js": "text/javascript",
    "istmo-graphiql.js": "text/javascript",
    "istmo-graphiql.css": "text/css",
}


@functools.cache
def _explorer_file(name: str) -> bytes:
    """Read once per process: the files (about 4 MB in all) are package data and never change."""
    return (resources.files("entrypoints.http") / "graphiql" / name).read_bytes()


@blueprint.get("/graphql")
def explorer() -> Any:
    settings = services().settings()
    if settings.production:
        return json_error(405, "METHOD_NOT_ALLOWED", "send GraphQL operations with POST")
    response = Response(_explorer_file("explorer.html"), mimetype="text/html")
    response.headers["Content-Security-Policy"] = EXPLORER_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/graphql/assets/<name>")
def explorer_asset(name: str) -> Any:
    """GraphiQL's own files (only those named in EXPLORER_ASSETS), outside production."""
    mime = EXPLORER_ASSETS.get(name)
    if mime is None or services().settings().production:
        abort(404)
    response = Response(_explorer_file(name), mimetype=mime)
    response.headers["Content-Security-Policy"] = EXPLORER_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@blueprint.post("/graphql")
def execute() -> Any:
    container = services()
    try:
        who = container.tenancy.authenticator().authenticate(request.headers.get("Authorization"))
    except AuthenticationFailed as failure:
        return json_error(
            401, failure.reason.upper(), failure.message,
            WWW_Authenticate=f'Bearer error="invalid_token", error_description="{failure.message}"',
        )
    structlog.contextvars.bind_contextvars(tenant_id=who.tenant_id, user_id=who.user_id)
    if request.mimetype == "multipart/form-data":
        return _execute_multipart(container, who)
    if request.mimetype != "application/json":
        return json_error(
            415, "UNSUPPORTED_MEDIA_TYPE",
            "send GraphQL operations as application/json, or multipart/form-data for uploads",
        )
    data = request.get_json(silent=True)
    if not isinstance(data, dict | list):
        return json_error(400, "BAD_REQUEST", "the body is not a JSON GraphQL request")
    return _run(container, who, data, upload_names={})


def _execute_multipart(container: Container, who: Actor) -> Response:
    if not any(request.headers.get(name) for name in PREFLIGHT_HEADERS):
        return json_error(
            400, "PREFLIGHT_REQUIRED",
            "multipart requests must carry a GraphQL-Preflight: 1 header (CSRF protection)",
        )
    settings = container.settings()
    storage = container.storage()
    boundary = request.mimetype_params.get("boundary", "").encode()
    if not boundary:
        return json_error(400, "BAD_MULTIPART", "the multipart Content-Type has no boundary")
    form = MultipartForm()
    try:
        read_multipart(
            request.stream, boundary, lambda: BlobSink(storage, settings.max_upload_bytes), form
        )
        uploads = {key: sink.finish() for key, (sink, _name) in form.files.items()}
        upload_names = {uploads[key].ref: name for key, (_sink, name) in form.files.items()}
        try:
            operations = json.loads(form.fields["operations"])
            files_map = json.loads(form.fields["map"])
            data = combine_multipart_data(operations, files_map, uploads)
        except KeyError as missing:
            return json_error(400, "BAD_MULTIPART", f"the multipart request lacks the {missing} field")
        except (ValueError, TypeError, HttpError) as error:
            return json_error(400, "BAD_MULTIPART", f"the multipart request is malformed: {error}")
        return _run(container, who, data, upload_names=upload_names)
    except FileTooLarge as error:
        return json_error(413, error.code, error.message)
    except MalformedMultipart as error:
        return json_error(400, "BAD_MULTIPART", f"the multipart body is corrupt: {error}")
    finally:
        for sink, _name in form.files.values():
            sink.abort()
            storage.discard_staged(sink.ref)


def _run(container: Container, who: Actor, data: Any, *, upload_names: dict[str, str]) -> Response:
    if isinstance(data, list):
        return json_error(400, "BATCH_NOT_SUPPORTED", "send one GraphQL operation per request")
    settings = container.settings()
    bus = container.bus()
    context = {
        "request": request,
        "actor": who,
        "bus": bus,
        "loaders": request_loaders(bus, who),
        "upload_names": upload_names,
    }
    rules: list[Any] = []
    parser = cached_parser(settings.graphql_max_tokens if settings.production else None)
    if settings.production:
        # the cost of `first: $n` needs the request's variables (else every variable is "not provided")
        variables = data.get("variables") if isinstance(data, dict) else None
        rules = [
            depth_limit(settings.graphql_max_depth),
            mutation_limit(settings.graphql_max_mutations),
            cost_validator(
                settings.graphql_max_cost, default_cost=1, cost_map=cost_map(),
                variables=variables if isinstance(variables, dict) else {},
            ),
        ]
    success, result = asyncio.run(graphql(
        schema(),
        data,
        context_value=context,
        debug=not settings.production,
        introspection=not settings.production,
        validation_rules=rules,
        query_parser=parser,
        error_formatter=_format_error,
        logger=_ERROR_LOG,
    ))
    away = g.pop("database_away", None)
    if away is not None:  # a resolver found the database away: the whole answer is 503
        outage.OUTAGE.seen(away)
        response = jsonify(result)
        response.status_code, response.headers["Retry-After"] = 503, str(outage.RETRY_AFTER_SECONDS)
        return response
    response = jsonify(result)
    response.status_code = 200 if success else 400
    return response


_SUGGESTION = re.compile(r" Did you mean .*\?$")
_ERROR_LOG = GraphQLErrorLog(__name__)  # client mistakes at INFO, without a traceback


def _format_error(error: GraphQLError, debug: bool = False) -> dict[str, Any]:
    original = error.original_error
    if original is None or isinstance(original, GraphQLError) or (
        is_client_mistake(error) and not isinstance(original, DomainError)  # e.g. a Date literal refused
    ):
        formatted = ariadne_format_error(error, debug=False)
        if not debug:  # production: no "Did you mean ...?" listing fields, types and arguments
            formatted["message"] = _SUGGESTION.sub("", formatted["message"])
        return formatted
    if outage.is_database_away(original):
        g.database_away = original
        return {"message": "the database cannot be reached right now", "extensions": {"code": "DATABASE_UNAVAILABLE"}}
    if isinstance(original, DomainError):  # a refused argument of a field (e.g. File.signedUrl)
        formatted = ariadne_format_error(error, debug=False)
        formatted["message"] = original.message
        formatted["extensions"] = {"code": original.code, "field": original.field}
        return formatted
    if debug:
        return ariadne_format_error(error, debug=True)
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    return {
        "message": "Internal server error",
        "locations": [{"line": loc.line, "column": loc.column} for loc in error.locations or []],
        "path": error.path,
        "extensions": {"code": "INTERNAL", "requestId": request_id},
    }
