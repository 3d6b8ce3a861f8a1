"""What one business domain adds to the GraphQL API: its SDL, its resolvers, its batch loaders.

Each ``entrypoints/graphql/<domain>.py`` (found by the domain's name in ``application.modules.DOMAINS``)
declares one ``API``; ``entrypoints.graphql.schema`` assembles the schema from them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from ariadne.types import SchemaBindable

from entrypoints.graphql.loaders import Batch


@dataclass(frozen=True, slots=True)
class ApiDomain:
    bindables: Sequence[SchemaBindable]
    sdl: Sequence[str] = ()
    """Its SDL files, by name under ``entrypoints/graphql/schema/``."""
    loaders: Mapping[str, Batch] = field(default_factory=lambda: MappingProxyType({}))
    """The batch loaders its resolvers use (``info.context["loaders"].<name>``)."""
