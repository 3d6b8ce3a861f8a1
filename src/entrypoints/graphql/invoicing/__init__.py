"""GraphQL of invoicing: clients, invoices, quotes and statements (``documents``), and the PAC (``pac``)."""

from __future__ import annotations

from application.invoicing.commands import GetClients
from entrypoints.graphql.api import ApiDomain
from entrypoints.graphql.invoicing import credit_notes, documents, pac, profile
from entrypoints.graphql.loaders import keyed

API = ApiDomain(
    [*documents.bindables, *pac.bindables, *profile.bindables, *credit_notes.bindables],
    sdl=("invoicing.graphql", "pac.graphql", "profile.graphql", "credit_notes.graphql"),
    loaders={"clients_by_id": keyed(GetClients, "client_ids")},
)
