"""The GraphQL API, assembled from its domains.

Each domain's ``entrypoints/graphql/<name>.py`` (by the names of ``application.modules.DOMAINS``)
declares its ``API``: its resolvers, its SDL under ``schema/`` and the batch loaders its resolvers
use (``info.context["loaders"].<loader>``); ``schema/base.graphql`` holds the shared types and scalars.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from ariadne import convert_camel_case_to_snake, load_schema_from_path, make_executable_schema, upload_scalar
from graphql import GraphQLSchema

from application.modules import DOMAINS
from application.shared.bus import MessageBus
from application.shared.modules import domain_parts
from domain.tenancy.model import Actor
from entrypoints.graphql.api import ApiDomain
from entrypoints.graphql.common import date_scalar, datetime_scalar, decimal_scalar
from entrypoints.graphql.loaders import Batch, RequestLoaders

SDL = Path(__file__).parent / "schema"
BASE_SDL = "base.graphql"


@lru_cache(maxsize=1)
def api_domains() -> tuple[ApiDomain, ...]:
    """Each domain's ``API``, from ``entrypoints/graphql/<domain>.py``, by the names of ``DOMAINS``."""
    return tuple(part.API for _, part in domain_parts("entrypoints.graphql.{domain}", DOMAINS))


def python_name(graphql_name: str, *_: Any) -> str:
    """camelCase outside, snake_case inside; digits stay with their word (``sha256``, not ``sha_256``)."""
    return re.sub(r"_(\d)", r"\1", convert_camel_case_to_snake(graphql_name))


def build_schema() -> GraphQLSchema:
    domains = api_domains()
    _check_sdl(domains)
    files = [SDL / BASE_SDL, *(SDL / name for domain in domains for name in domain.sdl)]
    # In file-name order, as ``load_schema_from_path`` reads a folder: the schema's type order.
    type_defs = "\n".join(load_schema_from_path(path) for path in sorted(files))
    return make_executable_schema(
        type_defs,
        *(bindable for domain in domains for bindable in domain.bindables),
        datetime_scalar,
        date_scalar,
        decimal_scalar,
        upload_scalar,
        convert_names_case=python_name,
    )


@lru_cache(maxsize=1)
def cost_map() -> dict[str, dict[str, dict[str, int]]]:
    """The fields the domains say cost more than 1 (``ApiDomain.costs``), as the cost rule reads them."""
    found: dict[str, dict[str, dict[str, int]]] = {}
    for domain in api_domains():
        for type_name, fields in domain.costs.items():
            for field_name, complexity in fields.items():
                found.setdefault(type_name, {})[field_name] = {"complexity": complexity}
    return found


@lru_cache(maxsize=1)
def loader_batches() -> dict[str, Batch]:
    """Every domain's loaders, by name; a name declared twice is an error."""
    batches: dict[str, Batch] = {}
    for domain in api_domains():
        for name, batch in domain.loaders.items():
            if name in batches:
                raise ValueError(f"two API domains declare the loader {name!r}")
            batches[name] = batch
    return batches


def request_loaders(bus: MessageBus, actor: Actor) -> RequestLoaders:
    return RequestLoaders(bus, actor, loader_batches())


def _check_sdl(domains: tuple[ApiDomain, ...]) -> None:
    """Every SDL file is one domain's, once."""
    claimed = [BASE_SDL, *(name for domain in domains for name in domain.sdl)]
    twice = sorted({name for name in claimed if claimed.count(name) > 1})
    stray = sorted(path.name for path in SDL.glob("*.graphql") if path.name not in claimed)
    if twice or stray:
        raise ValueError(f"SDL files claimed twice: {twice}; claimed by no API domain: {stray}")
    loader_batches()
