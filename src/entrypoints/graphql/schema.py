"""The GraphQL API, assembled from its domains.

Each domain has a resolver module ``entrypoints/graphql/<name>.py`` exposing its ``bindables``,
its SDL in ``schema/<name>.graphql``, and the batch loaders its resolvers use
(``info.context["loaders"].<loader>``). ``DOMAINS`` lists them, one line each, by the names
of ``application.modules``; ``schema/base.graphql`` holds the shared types and scalars.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ariadne import convert_camel_case_to_snake, load_schema_from_path, make_executable_schema, upload_scalar
from ariadne.types import SchemaBindable
from graphql import GraphQLSchema

from application.emails.commands import GetClientEmails
from application.files.commands import FindFilesByEntities, GetFileLinks
from application.invoicing.commands import GetClients
from application.modules import MODULES
from application.shared.bus import MessageBus
from application.whatsapp.commands import GetClientWhatsapps
from domain.tenancy.model import Actor
from entrypoints.graphql import aurinko, emails, files, invoicing, pac, pdf, pdf_templates, tenancy, webhooks, whatsapp
from entrypoints.graphql.common import date_scalar, datetime_scalar, decimal_scalar
from entrypoints.graphql.loaders import Batch, RequestLoaders, keyed

SDL = Path(__file__).parent / "schema"
BASE_SDL = "base.graphql"


@dataclass(frozen=True, slots=True)
class ApiDomain:
    name: str
    """The domain's name in ``application.modules``; its SDL is ``schema/<name>.graphql``."""
    bindables: Sequence[SchemaBindable]
    loaders: Mapping[str, Batch] = field(default_factory=lambda: MappingProxyType({}))
    sdl: bool = True
    """False: the domain's types are in ``base.graphql``."""


DOMAINS: tuple[ApiDomain, ...] = (
    ApiDomain("tenancy", tenancy.bindables, sdl=False),
    ApiDomain("files", files.bindables, {
        "files_by_entity": keyed(FindFilesByEntities, "refs"),
        "links_by_file": keyed(GetFileLinks, "file_ids"),
        "signed_urls": files.signed_urls,
    }),
    ApiDomain("invoicing", invoicing.bindables, {"clients_by_id": keyed(GetClients, "client_ids")}),
    ApiDomain("pdf_templates", pdf_templates.bindables),
    ApiDomain("pdf", pdf.bindables),
    ApiDomain("webhooks", webhooks.bindables),
    ApiDomain("pac", pac.bindables),
    ApiDomain("whatsapp", whatsapp.bindables, {"whatsapp_numbers_by_client": keyed(GetClientWhatsapps, "client_ids")}),
    ApiDomain("aurinko", aurinko.bindables),
    ApiDomain("emails", emails.bindables, {"client_emails": keyed(GetClientEmails, "client_ids")}),
)


def python_name(graphql_name: str, *_: Any) -> str:
    """camelCase outside, snake_case inside; digits stay with their word (``sha256``, not ``sha_256``)."""
    return re.sub(r"_(\d)", r"\1", convert_camel_case_to_snake(graphql_name))


def build_schema() -> GraphQLSchema:
    _check_names()
    files = [SDL / BASE_SDL, *(SDL / f"{domain.name}.graphql" for domain in DOMAINS if domain.sdl)]
    # In file-name order, as ``load_schema_from_path`` reads a folder: the schema's type order.
    type_defs = "\n".join(load_schema_from_path(path) for path in sorted(files))
    return make_executable_schema(
        type_defs,
        *(bindable for domain in DOMAINS for bindable in domain.bindables),
        datetime_scalar,
        date_scalar,
        decimal_scalar,
        upload_scalar,
        convert_names_case=python_name,
    )


def loader_batches() -> dict[str, Batch]:
    """Every domain's loaders, by name; a name declared twice is an error."""
    batches: dict[str, Batch] = {}
    for domain in DOMAINS:
        for name, batch in domain.loaders.items():
            if name in batches:
                raise ValueError(f"two API domains declare the loader {name!r}")
            batches[name] = batch
    return batches


def request_loaders(bus: MessageBus, actor: Actor) -> RequestLoaders:
    return RequestLoaders(bus, actor, loader_batches())


def _check_names() -> None:
    """Every domain is one of the application's modules, and every SDL file is some domain's."""
    modules = {module.name for module in MODULES}
    unknown = [domain.name for domain in DOMAINS if domain.name not in modules]
    if unknown:
        raise ValueError(f"API domains that are no application module: {unknown}")
    claimed = {BASE_SDL} | {f"{domain.name}.graphql" for domain in DOMAINS if domain.sdl}
    stray = sorted(path.name for path in SDL.glob("*.graphql") if path.name not in claimed)
    if stray:
        raise ValueError(f"SDL files no API domain claims: {stray}")
    loader_batches()
