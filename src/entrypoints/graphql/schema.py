"""The executable schema: SDL files under ``schema/`` bound to one module per domain."""

from __future__ import annotations

from pathlib import Path

import re
from typing import Any

from ariadne import convert_camel_case_to_snake, load_schema_from_path, make_executable_schema, upload_scalar
from graphql import GraphQLSchema

from entrypoints.graphql import aurinko, emails, files, invoicing, pdf, pdf_templates, tenancy
from entrypoints.graphql import webhooks as webhook_types
from entrypoints.graphql import whatsapp
from entrypoints.graphql.common import date_scalar, datetime_scalar, decimal_scalar


def python_name(graphql_name: str, *_: Any) -> str:
    """camelCase outside, snake_case inside; digits stay with their word (``sha256``, not ``sha_256``)."""
    return re.sub(r"_(\d)", r"\1", convert_camel_case_to_snake(graphql_name))


def build_schema() -> GraphQLSchema:
    type_defs = load_schema_from_path(Path(__file__).parent / "schema")
    return make_executable_schema(
        type_defs,
        *tenancy.bindables,
        *files.bindables,
        *invoicing.bindables,
        *pdf_templates.bindables,
        *pdf.bindables,
        *webhook_types.bindables,
        *whatsapp.bindables,
        *aurinko.bindables,  # aurinko
        *emails.bindables,  # emails
        datetime_scalar,
        date_scalar,
        decimal_scalar,
        upload_scalar,
        convert_names_case=python_name,
    )
