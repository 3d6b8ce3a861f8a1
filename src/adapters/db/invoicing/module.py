"""Invoicing's persistence: clients, invoices and quotes in a unit of work bound to a tenant; the
PAC settings in every unit of work (the tenant's own, or every tenant's in system work)."""

from __future__ import annotations

from adapters.db.invoicing.credit_notes import SqlAlchemyCreditNoteReader, SqlAlchemyCreditNoteRepository
from adapters.db.invoicing.pac import SqlAlchemyPacSettingsRepository
from adapters.db.invoicing.profiles import SqlAlchemyTenantProfileRepository
from adapters.db.invoicing.readers import (
    SqlAlchemyClientReader,
    SqlAlchemyInvoiceReader,
    SqlAlchemyQuoteReader,
)
from adapters.db.invoicing.repositories import (
    SqlAlchemyClientRepository,
    SqlAlchemyInvoiceRepository,
    SqlAlchemyQuoteRepository,
)
from adapters.db.invoicing.tables import map_classes, pac_settings
from adapters.db.registry import Binding, DbModule, Repository, SealedColumn
from domain.invoicing.pac import api_key_context, webhook_secret_context

DB_MODULE = DbModule(
    name="invoicing",
    map_classes=map_classes,
    repositories={
        "clients": Repository(lambda s: SqlAlchemyClientRepository(s.session, s.tenant, s.seen)),
        "client_views": Repository(lambda s: SqlAlchemyClientReader(s.session, s.tenant)),
        "invoices": Repository(lambda s: SqlAlchemyInvoiceRepository(s.session, s.tenant, s.seen)),
        "invoice_views": Repository(lambda s: SqlAlchemyInvoiceReader(s.session, s.tenant)),
        "quotes": Repository(lambda s: SqlAlchemyQuoteRepository(s.session, s.tenant, s.seen)),
        "quote_views": Repository(lambda s: SqlAlchemyQuoteReader(s.session, s.tenant)),
        "credit_notes": Repository(lambda s: SqlAlchemyCreditNoteRepository(s.session, s.tenant, s.seen)),
        "credit_note_views": Repository(lambda s: SqlAlchemyCreditNoteReader(s.session, s.tenant)),
        "tenant_profile": Repository(lambda s: SqlAlchemyTenantProfileRepository(s.session, s.tenant, s.seen)),
        "pac_settings": Repository(
            lambda s: SqlAlchemyPacSettingsRepository(s.session, s.tenant_id), Binding.ANY
        ),
    },
    sealed=(
        SealedColumn(
            table=pac_settings, key_column="tenant_id", sealed_column="webhook_secret_sealed",
            context=lambda row: webhook_secret_context(row["tenant_id"]),
        ),
        SealedColumn(
            table=pac_settings, key_column="tenant_id", sealed_column="api_key_sealed",
            context=lambda row: api_key_context(row["tenant_id"]),
        ),
    ),
)
