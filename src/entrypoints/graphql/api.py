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
    costs: Mapping[str, Mapping[str, int]] = field(default_factory=lambda: MappingProxyType({}))
    """Fields that cost more than 1 toward ``ISTMO_GRAPHQL_MAX_COST``, by type: ``{"Mutation":
    {"renderInvoicePdf": RENDER}}``."""


RENDER = 500
"""What one PDF render (or a send that renders one) costs: ten fill the default budget of 5,000."""
SEND = 50
"""What queueing a message without a PDF costs."""
