"""What routes get from the composition root, in one place: the app's container and GraphQL schema.

``create_app`` installs them; a route asks ``services()`` (``services().bus()``,
``services().settings()``, ``services().gateways.polar_verifier()``) and never reads
``current_app.extensions`` itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask, current_app
from graphql import GraphQLSchema

if TYPE_CHECKING:
    from entrypoints.container import Container

_CONTAINER = "istmo.container"
_SCHEMA = "istmo.schema"


def install(app: Flask, container: Container, schema: GraphQLSchema) -> None:
    app.extensions[_CONTAINER] = container
    app.extensions[_SCHEMA] = schema


def services() -> Container:
    """The container of the app handling the current request."""
    return current_app.extensions[_CONTAINER]  # type: ignore[no-any-return]


def schema() -> GraphQLSchema:
    return current_app.extensions[_SCHEMA]  # type: ignore[no-any-return]
