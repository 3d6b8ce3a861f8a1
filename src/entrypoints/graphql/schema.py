"""The executable schema: SDL files under ``schema/`` bound to one module per domain."""

from __future__ import annotations

from pathlib import Path

from ariadne import load_schema_from_path, make_executable_schema, upload_scalar
from graphql import GraphQLSchema

from entrypoints.graphql import files, tenancy
from entrypoints.graphql.common import datetime_scalar


def build_schema() -> GraphQLSchema:
    type_defs = load_schema_from_path(Path(__file__).parent / "schema")
    return make_executable_schema(
        type_defs,
        *tenancy.bindables,
        *files.bindables,
        datetime_scalar,
        upload_scalar,
        convert_names_case=True,
    )
