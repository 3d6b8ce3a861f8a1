"""Invoicing's tables (clients, invoices, quotes, their lines and payments, document counters, the
tenants' PAC settings) and their mapping."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

from adapters.db.metadata import mapper_registry, metadata
from adapters.db.types import EmailList, Money, Quantity, StrEnumType, UtcDateTime, id_column
from domain.invoicing.clients import Client, ClientContact, TaxpayerType
from domain.invoicing.credit_notes import CreditNote, CreditNoteLine
from domain.invoicing.invoices import Invoice, InvoiceLine, LegalStatus, Payment, PaymentMethod
from domain.invoicing.issuer import Province, TenantProfile
from domain.invoicing.pac import PacSettings, SignatureMode
from domain.invoicing.quotes import Quote, QuoteLine, QuoteStatus
from domain.invoicing.values import Currency
from domain.shared.channels import DeliveryChannel

clients = Table(
    "clients",
    metadata,
    id_column(primary_key=True),
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("ruc", String(30), nullable=True),
    Column("dv", String(2), nullable=True),
    Column("taxpayer_type", StrEnumType(TaxpayerType), nullable=False),
    Column("address", String(500), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    # EMAIL, WHATSAPP or BOTH, what sendInvoice uses by default (added in 0008_whatsapp)
    Column("default_channel", StrEnumType(DeliveryChannel), nullable=False, default=DeliveryChannel.EMAIL,
           server_default=DeliveryChannel.EMAIL.value),
    Index("ix_clients_tenant_id_created_at", "tenant_id", "created_at", "id"),
)

client_contacts = Table(
    "client_contacts",
    metadata,
    id_column(primary_key=True),
    id_column("tenant_id", nullable=False),
    id_column("client_id", ForeignKey("clients.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("email", String(254), nullable=True),
    Column("phone", String(40), nullable=True),
    Column("role", String(100), nullable=True),
    # not unique: replacing the contacts inserts the new rows before the old ones are deleted
    Index("ix_client_contacts_client_id", "client_id", "position"),
)

def _billed_to() -> list[Any]:
    """Who a document (invoice, quote) bills: its number, the client, as copied when issued."""
    return [
        Column("number", String(40), nullable=False),
        id_column("client_id", ForeignKey("clients.id"), nullable=True),
        Column("client_name", String(200), nullable=False),
        Column("client_ruc", String(30), nullable=True),
        Column("client_dv", String(2), nullable=True),
        Column("ad_hoc_emails", EmailList(), nullable=False),
        Column("issue_date", Date, nullable=False),
    ]


def _totals() -> list[Any]:
    """What a document's lines add up to, in its currency."""
    return [
        Column("currency", StrEnumType(Currency), nullable=False),
        Column("subtotal", Money(), nullable=False),
        Column("discount_total", Money(), nullable=False),
        Column("tax_total", Money(), nullable=False),
        Column("total", Money(), nullable=False),
    ]


invoices = Table(
    "invoices",
    metadata,
    id_column(primary_key=True),
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    *_billed_to(),
    Column("due_date", Date, nullable=False),
    *_totals(),
    Column("paid", Money(), nullable=False),
    # what its credit notes took back (issue 18); balance = total - paid - credited
    Column("credited", Money(), nullable=False, server_default="0"),
    Column("balance", Money(), nullable=False),
    Column("voided_at", UtcDateTime(), nullable=True),
    Column("legal_status", StrEnumType(LegalStatus), nullable=False),
    Column("cufe", String(128), nullable=True),
    Column("pac_document_id", String(128), nullable=True),
    Column("qr_url", String(2048), nullable=True),
    Column("authorization_protocol", String(128), nullable=True),
    Column("authorized_at", UtcDateTime(), nullable=True),
    Column("legal_message", Text, nullable=True),
    Column("created_by", String(254), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("tenant_id", "number"),
    Index("ix_invoices_tenant_id_issue_date", "tenant_id", "issue_date", "id"),
    Index("ix_invoices_tenant_id_balance", "tenant_id", "balance", "id"),
    Index("ix_invoices_tenant_id_client_id", "tenant_id", "client_id", "issue_date"),
    Index("ix_invoices_tenant_id_due_date", "tenant_id", "due_date"),
)

invoice_lines = Table(
    "invoice_lines",
    metadata,
    id_column(primary_key=True),
    id_column("tenant_id", nullable=False),
    id_column("invoice_id", ForeignKey("invoices.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("description", String(1000), nullable=False),
    Column("quantity", Quantity(), nullable=False),
    Column("unit_price", Quantity(), nullable=False),
    Column("discount", Money(), nullable=False),
    Column("tax_rate", Integer, nullable=False),
    UniqueConstraint("invoice_id", "position"),
)

invoice_payments = Table(
    "invoice_payments",
    metadata,
    id_column(primary_key=True),
    id_column("tenant_id", nullable=False),
    id_column("invoice_id", ForeignKey("invoices.id", ondelete="CASCADE"), nullable=False),
    Column("amount", Money(), nullable=False),
    Column("paid_on", Date, nullable=False),
    Column("method", StrEnumType(PaymentMethod), nullable=False),
    Column("reference", String(200), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_invoice_payments_invoice_id", "invoice_id", "paid_on"),
)

quotes = Table(
    "quotes",
    metadata,
    id_column(primary_key=True),
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    *_billed_to(),
    Column("valid_until", Date, nullable=False),
    *_totals(),
    Column("status", StrEnumType(QuoteStatus), nullable=False),
    Column("created_by", String(254), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("tenant_id", "number"),
    Index("ix_quotes_tenant_id_issue_date", "tenant_id", "issue_date", "id"),
    Index("ix_quotes_tenant_id_client_id", "tenant_id", "client_id"),
)

quote_lines = Table(
    "quote_lines",
    metadata,
    id_column(primary_key=True),
    id_column("tenant_id", nullable=False),
    id_column("quote_id", ForeignKey("quotes.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("description", String(1000), nullable=False),
    Column("quantity", Quantity(), nullable=False),
    Column("unit_price", Quantity(), nullable=False),
    Column("discount", Money(), nullable=False),
    Column("tax_rate", Integer, nullable=False),
    UniqueConstraint("quote_id", "position"),
)

# One row per (tenant, series) that ever numbered a document: the upsert that takes the next
# value holds the row (PostgreSQL) or the database (SQLite) until the transaction ends.
document_counters = Table(
    "document_counters",
    metadata,
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    Column("series", String(32), primary_key=True),
    Column("last_value", BigInteger, nullable=False),
)

# A tenant's PAC (Alanube) settings (issue 6): its company id names it on /webhooks/pac/{company_id};
# the webhook secret and the API key are sealed (SecretBox), never stored in the clear.
pac_settings = Table(
    "pac_settings",
    metadata,
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    Column("company_id", String(128), nullable=False, unique=True),
    Column("webhook_secret_sealed", Text, nullable=True),
    Column("api_key_sealed", Text, nullable=True),
    Column("signature_mode", StrEnumType(SignatureMode), nullable=False),
    Column("send_authorized_invoice", Boolean, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

# Credit notes (issue 18): each references its invoice; numbered NC-000001 by the CREDIT_NOTE counter.
credit_notes = Table(
    "credit_notes",
    metadata,
    id_column(primary_key=True),
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    *_billed_to(),
    id_column("invoice_id", ForeignKey("invoices.id"), nullable=False),
    Column("invoice_number", String(40), nullable=False),
    Column("reason", String(500), nullable=False),
    *_totals(),
    Column("legal_status", StrEnumType(LegalStatus), nullable=False),
    Column("cufe", String(128), nullable=True),
    Column("pac_document_id", String(128), nullable=True),
    Column("qr_url", String(2048), nullable=True),
    Column("authorization_protocol", String(128), nullable=True),
    Column("authorized_at", UtcDateTime(), nullable=True),
    Column("legal_message", Text, nullable=True),
    Column("created_by", String(254), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("tenant_id", "number"),
    Index("ix_credit_notes_tenant_id_invoice_id", "tenant_id", "invoice_id"),
    Index("ix_credit_notes_tenant_id_client_id", "tenant_id", "client_id", "issue_date"),
    Index("ix_credit_notes_tenant_id_pac_document_id", "tenant_id", "pac_document_id"),
)

credit_note_lines = Table(
    "credit_note_lines",
    metadata,
    id_column(primary_key=True),
    id_column("tenant_id", nullable=False),
    id_column("credit_note_id", ForeignKey("credit_notes.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("description", String(1000), nullable=False),
    Column("quantity", Quantity(), nullable=False),
    Column("unit_price", Quantity(), nullable=False),
    Column("discount", Money(), nullable=False),
    Column("tax_rate", Integer, nullable=False),
    UniqueConstraint("credit_note_id", "position"),
)

# The tenant's fiscal profile, the issuer its documents print (issue 18): one row per tenant.
tenant_profiles = Table(
    "tenant_profiles",
    metadata,
    id_column("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    Column("legal_name", String(200), nullable=False),
    Column("trade_name", String(200), nullable=True),
    Column("taxpayer_type", StrEnumType(TaxpayerType), nullable=False),
    Column("ruc", String(30), nullable=False),
    Column("dv", String(2), nullable=False),
    Column("address", String(500), nullable=False),
    Column("province", StrEnumType(Province), nullable=True),
    Column("phone", String(40), nullable=True),
    Column("email", String(254), nullable=True),
    Column("website", String(200), nullable=True),
    Column("payment_terms_days", Integer, nullable=False),
    Column("payment_instructions", Text, nullable=True),
    Column("currency", StrEnumType(Currency), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)


def map_classes() -> None:
    mapper_registry.map_imperatively(ClientContact, client_contacts)
    mapper_registry.map_imperatively(
        Client,
        clients,
        properties={
            "contacts": relationship(
                ClientContact,
                cascade="all, delete-orphan",
                passive_deletes=True,
                lazy="selectin",
                order_by=client_contacts.c.position,
            )
        },
    )
    mapper_registry.map_imperatively(InvoiceLine, invoice_lines)
    mapper_registry.map_imperatively(Payment, invoice_payments)
    mapper_registry.map_imperatively(
        Invoice,
        invoices,
        properties={
            "lines": relationship(
                InvoiceLine,
                cascade="all, delete-orphan",
                passive_deletes=True,
                lazy="selectin",
                order_by=invoice_lines.c.position,
            ),
            "payments": relationship(
                Payment,
                cascade="all, delete-orphan",
                passive_deletes=True,
                lazy="selectin",
                order_by=(invoice_payments.c.paid_on, invoice_payments.c.created_at, invoice_payments.c.id),
            ),
        },
    )
    mapper_registry.map_imperatively(QuoteLine, quote_lines)
    mapper_registry.map_imperatively(
        Quote,
        quotes,
        properties={
            "lines": relationship(
                QuoteLine,
                cascade="all, delete-orphan",
                passive_deletes=True,
                lazy="selectin",
                order_by=quote_lines.c.position,
            )
        },
    )
    mapper_registry.map_imperatively(PacSettings, pac_settings)
    mapper_registry.map_imperatively(TenantProfile, tenant_profiles)
    mapper_registry.map_imperatively(CreditNoteLine, credit_note_lines)
    mapper_registry.map_imperatively(
        CreditNote,
        credit_notes,
        properties={
            "lines": relationship(
                CreditNoteLine,
                cascade="all, delete-orphan",
                passive_deletes=True,
                lazy="selectin",
                order_by=credit_note_lines.c.position,
            )
        },
    )
