"""Tables, column types and the imperative mapping of the domain classes."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    JSON,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import registry, relationship

from domain.emails.model import (
    ClientEmail,
    Direction as EmailDirection,
    EmailKind,
    EmailLocale,
    EmailMessage,
    EmailSettings,
    EmailTemplate,
    RecipientKind,
)
from domain.files.model import EntityType, File, FileEntity, FileStatus
from domain.integrations.aurinko.connection import AurinkoConnection
from domain.integrations.aurinko.connection import ConnectionStatus as AurinkoStatus
from domain.integrations.aurinko.connection import ServiceType as AurinkoServiceType
from domain.invoicing.clients import Client, ClientContact, TaxpayerType
from domain.invoicing.invoices import Invoice, InvoiceLine, LegalStatus, Payment, PaymentMethod
from domain.invoicing.quotes import Quote, QuoteLine, QuoteStatus
from domain.invoicing.values import Currency
from domain.jobs.model import JobStatus
from domain.pdf.layout import DocumentType, Locale, PaperSize
from domain.pdf_templates.model import PdfTemplate
from domain.shared.channels import DeliveryChannel
from domain.shared.delivery import DeliveryAttempt, DeliveryStatus
from domain.tenancy.model import Role, Tenant, User
from domain.tenancy.directory import DirectoryUser
from domain.tenancy.subscription import SubscriptionStatus, TenantSubscription
from domain.webhooks.model import WebhookStatus
from domain.whatsapp.connection import ClientWhatsapp, ConnectionStatus, WhatsappConnection, WhatsappTemplate
from domain.whatsapp.content import MessageKind
from domain.whatsapp.messages import Direction, InboundWhatsapp, MessageStatus, WhatsappDelivery
from domain.invoicing.pac import PacSettings, SignatureMode

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, on PostgreSQL and on SQLite alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class StrEnumType(TypeDecorator[StrEnum]):
    impl = String(32)
    cache_ok = True

    def __init__(self, enum: type[StrEnum]) -> None:
        super().__init__()
        self.enum = enum

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Any) -> StrEnum | None:
        return None if value is None else self.enum(value)


class _ScaledInteger(Numeric):  # type: ignore[type-arg]
    """NUMERIC(p, s) in DDL; values go to and from the driver untouched (whole numbers on SQLite)."""

    def bind_processor(self, dialect: Any) -> None:
        return None

    def result_processor(self, dialect: Any, coltype: Any) -> None:
        return None


class ExactDecimal(TypeDecorator[Decimal]):
    """A ``Decimal`` with ``scale`` places, exact on both databases; more places are refused, never rounded.

    PostgreSQL keeps NUMERIC(p, s) natively. SQLite has no exact decimal type (SQLAlchemy's
    Numeric goes through ``float`` there), so on SQLite the column is still NUMERIC(p, s) but holds
    the value as a whole number of its smallest unit (cents for money): a 64-bit INTEGER, exact
    for every value NUMERIC(18, s) allows, and one that SQL still compares and sorts as a number.
    """

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int, scale: int) -> None:
        super().__init__(precision=precision, scale=scale)
        self.precision = precision  # part of the statement cache key, with ``scale``
        self.scale = scale
        self.places = scale
        self.unit = Decimal(1).scaleb(-scale)

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(_ScaledInteger(self.precision, self.scale))
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, Decimal | int):
            raise TypeError(f"a Decimal is expected, not {type(value).__name__}")
        number = Decimal(value)
        exact = number.quantize(self.unit)
        if exact != number:
            raise ValueError(f"{number} has more than {self.places} decimal places")
        return int(exact.scaleb(self.places)) if dialect.name == "sqlite" else exact

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            if not isinstance(value, int):
                raise TypeError(f"{value!r} is not a scaled whole number")
            return Decimal(value).scaleb(-self.places)
        return Decimal(value).quantize(self.unit)


def Money() -> ExactDecimal:  # noqa: N802 - reads as a column type
    return ExactDecimal(18, 2)


def Quantity() -> ExactDecimal:  # noqa: N802
    return ExactDecimal(18, 4)


class EmailList(TypeDecorator[tuple[str, ...]]):
    """A tuple of email addresses, kept as one comma-separated text (addresses have no commas)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        if any("," in address for address in value):
            raise ValueError("an email address with a comma cannot be stored")
        return ",".join(value)

    def process_result_value(self, value: str | None, dialect: Any) -> tuple[str, ...]:
        return tuple(value.split(",")) if value else ()


def _id(name: str = "id", *args: Any, **kw: Any) -> Column[str]:
    return Column(name, String(36), *args, **kw)


tenants = Table(
    "tenants",
    metadata,
    _id(primary_key=True),
    Column("slug", String(63), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("external_id", String(128), nullable=True, unique=True),
    Column("created_at", UtcDateTime(), nullable=False),
    # webhooks (WorkOS): the organization's updated_at last applied, and when it was deleted
    Column("directory_updated_at", UtcDateTime(), nullable=True),
    Column("deleted_at", UtcDateTime(), nullable=True),
)

users = Table(
    "users",
    metadata,
    _id(primary_key=True),
    _id("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("email", String(254), nullable=False),
    Column("role", StrEnumType(Role), nullable=False),
    Column("external_id", String(128), nullable=True),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("directory_updated_at", UtcDateTime(), nullable=True),  # webhooks (WorkOS): newest wins
    UniqueConstraint("tenant_id", "email"),
    Index("ix_users_tenant_id_external_id", "tenant_id", "external_id"),
)

files = Table(
    "files",
    metadata,
    _id(primary_key=True),
    _id("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("mime", String(255), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("status", StrEnumType(FileStatus), nullable=False),
    Column("created_by", String(254), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=True),
    UniqueConstraint("tenant_id", "sha256"),
    Index("ix_files_tenant_id_created_at", "tenant_id", "created_at", "id"),
    Index("ix_files_tenant_id_name", "tenant_id", "name"),
    Index("ix_files_status_expires_at", "status", "expires_at"),
)

file_entities = Table(
    "file_entities",
    metadata,
    _id(primary_key=True),
    _id("tenant_id", nullable=False),
    _id("file_id", ForeignKey("files.id", ondelete="CASCADE"), nullable=False),
    Column("entity_type", StrEnumType(EntityType), nullable=False),
    Column("entity_id", String(128), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("file_id", "entity_type", "entity_id"),
    Index("ix_file_entities_tenant_entity", "tenant_id", "entity_type", "entity_id"),
)

# One row per (tenant, content) ever locked: the upsert on it is a per-blob mutex that
# serialises uploads, deletes and garbage collection of the same bytes on both databases.
file_content_locks = Table(
    "file_content_locks",
    metadata,
    _id("tenant_id", primary_key=True),
    Column("sha256", String(64), primary_key=True),
    Column("locked_at", UtcDateTime(), nullable=False),
)

# --- invoicing ------------------------------------------------------------------------------

clients = Table(
    "clients",
    metadata,
    _id(primary_key=True),
    _id("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("ruc", String(30), nullable=True),
    Column("dv", String(2), nullable=True),
    Column("taxpayer_type", StrEnumType(TaxpayerType), nullable=False),
    Column("address", String(500), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    # whatsapp (0008_whatsapp): EMAIL, WHATSAPP or BOTH, what sendInvoice uses by default
    Column("default_channel", StrEnumType(DeliveryChannel), nullable=False, default=DeliveryChannel.EMAIL,
           server_default=DeliveryChannel.EMAIL.value),
    Index("ix_clients_tenant_id_created_at", "tenant_id", "created_at", "id"),
)

client_contacts = Table(
    "client_contacts",
    metadata,
    _id(primary_key=True),
    _id("tenant_id", nullable=False),
    _id("client_id", ForeignKey("clients.id", ondelete="CASCADE"), nullable=False),
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
        _id("client_id", ForeignKey("clients.id"), nullable=True),
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
    _id(primary_key=True),
    _id("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    *_billed_to(),
    Column("due_date", Date, nullable=False),
    *_totals(),
    Column("paid", Money(), nullable=False),
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
    _id(primary_key=True),
    _id("tenant_id", nullable=False),
    _id("invoice_id", ForeignKey("invoices.id", ondelete="CASCADE"), nullable=False),
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
    _id(primary_key=True),
    _id("tenant_id", nullable=False),
    _id("invoice_id", ForeignKey("invoices.id", ondelete="CASCADE"), nullable=False),
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
    _id(primary_key=True),
    _id("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
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
    _id(primary_key=True),
    _id("tenant_id", nullable=False),
    _id("quote_id", ForeignKey("quotes.id", ondelete="CASCADE"), nullable=False),
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
    _id("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    Column("series", String(32), primary_key=True),
    Column("last_value", BigInteger, nullable=False),
)

# --- pdf templates ----------------------------------------------------------------------------

pdf_templates = Table(
    "pdf_templates",
    metadata,
    _id(primary_key=True),
    _id("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("document_type", StrEnumType(DocumentType), nullable=False),
    Column("name", String(100), nullable=False),
    Column("is_default", Boolean, nullable=False),
    # no foreign key: deleting the logo's file leaves the template, printed without a logo
    _id("logo_file_id", nullable=True),
    Column("primary_color", String(7), nullable=False),
    Column("secondary_color", String(7), nullable=False),
    Column("header_text", Text, nullable=False),
    Column("footer_disclaimer", Text, nullable=False),
    Column("paper_size", StrEnumType(PaperSize), nullable=False),
    Column("locale", StrEnumType(Locale), nullable=False),
    Column("custom_css", Text, nullable=True),
    Column("custom_body_template", Text, nullable=True),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index("ix_pdf_templates_tenant_id_document_type", "tenant_id", "document_type", "created_at"),
)

# At most one default template per (tenant, document type), on both databases.
Index(
    "uq_pdf_templates_default",
    pdf_templates.c.tenant_id,
    pdf_templates.c.document_type,
    unique=True,
    postgresql_where=pdf_templates.c.is_default,
    sqlite_where=pdf_templates.c.is_default,
)

# One row per (tenant, document type) whose templates were ever changed: the upsert on it
# serialises the changes of that type's templates (its default, each version) on both databases.
pdf_template_locks = Table(
    "pdf_template_locks",
    metadata,
    _id("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    Column("document_type", StrEnumType(DocumentType), primary_key=True),
    Column("locked_at", UtcDateTime(), nullable=False),
)

# --- jobs: the transactional outbox and the queue the workers drain ---------------------------

jobs = Table(
    "jobs",
    metadata,
    _id(primary_key=True),
    # NULL for system jobs (schedules); a tenant's jobs go with the tenant.
    _id("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=True),
    Column("kind", String(100), nullable=False),
    Column("payload", JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
    Column("idempotency_key", String(200), nullable=True),
    Column("status", StrEnumType(JobStatus), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("max_attempts", Integer, nullable=False),
    Column("run_at", UtcDateTime(), nullable=False),
    Column("claimed_by", String(200), nullable=True),
    Column("lease_until", UtcDateTime(), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime(), nullable=True),
    # NULL keys are distinct on both databases: only keyed jobs are deduplicated.
    UniqueConstraint("kind", "idempotency_key"),
    Index("ix_jobs_status_run_at", "status", "run_at"),
    Index("ix_jobs_created_at", "created_at"),
)

# --- webhooks: the inbox of verified deliveries (issue 6) ----------------------------------------

webhook_events = Table(
    "webhook_events",
    metadata,
    _id(primary_key=True),
    Column("provider", String(32), nullable=False),
    Column("provider_event_id", String(200), nullable=False),
    # NULL until a tenant is resolved (WorkOS, an unknown PAC company): operators still see it.
    _id("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=True),
    Column("event_type", String(100), nullable=True),
    Column("headers", JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("status", StrEnumType(WebhookStatus), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("replays", Integer, nullable=False),
    Column("processed_at", UtcDateTime(), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("provider", "provider_event_id"),
    Index("ix_webhook_events_tenant_id_received_at", "tenant_id", "received_at", "id"),
    Index("ix_webhook_events_received_at", "received_at", "id"),
)

# The tenant's SaaS subscription, from Polar's webhooks (issue 6): one per tenant, newest event wins.
tenant_subscriptions = Table(
    "tenant_subscriptions",
    metadata,
    _id("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    Column("provider", String(32), nullable=False),
    Column("subscription_id", String(200), nullable=False),
    Column("product_id", String(200), nullable=True),
    Column("plan", String(200), nullable=True),
    Column("status", StrEnumType(SubscriptionStatus), nullable=False),
    Column("current_period_end", UtcDateTime(), nullable=True),
    Column("cancel_at_period_end", Boolean, nullable=False),
    Column("ended_at", UtcDateTime(), nullable=True),
    Column("event_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

# --- whatsapp (0008_whatsapp) -------------------------------------------------------------------


class DeliveryAttempts(TypeDecorator[tuple[DeliveryAttempt, ...]]):
    """A delivery's attempts (``domain.shared.delivery``), kept as a JSON list on the message's row
    (a few per message, read together): WhatsApp messages and email messages alike."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> list[dict[str, Any]] | None:
        return None if value is None else [attempt.to_json() for attempt in value]

    def process_result_value(self, value: Any, dialect: Any) -> tuple[DeliveryAttempt, ...]:
        return tuple(DeliveryAttempt.from_json(item) for item in (value or []))


# One per tenant. The phone number id routes webhooks to the tenant; the verify token is found by
# its SHA-256 for the GET handshake; the token and the secrets are SecretBox-sealed.
whatsapp_connections = Table(
    "whatsapp_connections",
    metadata,
    _id(primary_key=True),
    _id("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("phone_number_id", String(32), nullable=False, unique=True),
    Column("waba_id", String(32), nullable=False),
    Column("access_token_sealed", Text, nullable=False),
    Column("app_secret_sealed", Text, nullable=False),
    Column("verify_token_sealed", Text, nullable=False),
    Column("verify_token_digest", String(64), nullable=False, unique=True),
    Column("status", StrEnumType(ConnectionStatus), nullable=False),
    Column("last_error", String(500), nullable=True),
    Column("connected_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

client_whatsapps = Table(
    "client_whatsapps",
    metadata,
    _id(primary_key=True),
    _id("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    _id("client_id", ForeignKey("clients.id", ondelete="CASCADE"), nullable=False),
    Column("phone", String(20), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("client_id", "phone"),
    Index("ix_client_whatsapps_tenant_id_phone", "tenant_id", "phone"),
)

whatsapp_templates = Table(
    "whatsapp_templates",
    metadata,
    _id(primary_key=True),
    _id("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(512), nullable=False),
    Column("language", String(16), nullable=False),
    Column("body_parameters", Integer, nullable=False),
    Column("document_header", Boolean, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("tenant_id", "name", "language"),
)

whatsapp_messages = Table(
    "whatsapp_messages",
    metadata,
    _id(primary_key=True),
    _id("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("direction", StrEnumType(Direction), nullable=False),
    Column("phone", String(20), nullable=False),
    # no foreign key: deleting a client keeps its messages in the log
    _id("client_id", nullable=True),
    Column("kind", StrEnumType(MessageKind), nullable=False),
    Column("text", Text, nullable=True),
    Column("template_name", String(512), nullable=True),
    Column("template_language", String(16), nullable=True),
    Column("template_parameters", JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False, default=list),
    _id("file_id", nullable=True),
    Column("filename", String(255), nullable=True),
    Column("caption", String(1024), nullable=True),
    Column("entity_type", String(32), nullable=True),
    Column("entity_id", String(128), nullable=True),
    Column("status", StrEnumType(MessageStatus), nullable=False),
    Column("wamid", String(128), nullable=True),
    Column("provider", String(32), nullable=True),
    Column("error_code", Integer, nullable=True),
    Column("last_error", String(500), nullable=True),
    Column("attempts", DeliveryAttempts(), nullable=False, default=()),
    Column("retries", Integer, nullable=False, default=0),
    Column("provider_at", UtcDateTime(), nullable=True),
    Column("created_by", String(254), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("sent_at", UtcDateTime(), nullable=True),
    Column("delivered_at", UtcDateTime(), nullable=True),
    Column("read_at", UtcDateTime(), nullable=True),
    Column("failed_at", UtcDateTime(), nullable=True),
    # NULLs are distinct: only messages the provider numbered are unique (inbound dedupe, status lookups)
    UniqueConstraint("tenant_id", "wamid"),
    Index("ix_whatsapp_messages_tenant_id_created_at", "tenant_id", "created_at", "id"),
    Index("ix_whatsapp_messages_tenant_id_phone", "tenant_id", "direction", "phone", "provider_at"),
    Index("ix_whatsapp_messages_tenant_id_client_id", "tenant_id", "client_id", "created_at"),
    Index("ix_whatsapp_messages_status_updated_at", "status", "updated_at"),  # the delivery sweep
)

# --- aurinko: the mailbox connection and the synced inbox (migration 0006_aurinko) ----------

aurinko_connections = Table(
    "aurinko_connections",
    metadata,
    _id(primary_key=True),
    # one connection per tenant (connecting again updates it)
    _id("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("status", StrEnumType(AurinkoStatus), nullable=False),
    Column("account_id", String(100), nullable=False),
    Column("email", String(320), nullable=True),
    Column("service_type", StrEnumType(AurinkoServiceType), nullable=False),
    Column("scopes", String(200), nullable=False),
    # SecretBox-sealed access token, bound to aurinko:{tenant_id}:{id}; NULL once disconnected
    Column("token_sealed", Text, nullable=True),
    Column("connected_by", String(128), nullable=True),
    Column("connected_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("reconnect_reason", String(300), nullable=True),
    Column("last_sync_at", UtcDateTime(), nullable=True),
    Column("last_sync_error", String(300), nullable=True),
    Column("sync_updated_token", Text, nullable=True),
    Column("sync_deleted_token", Text, nullable=True),
    Column("sync_lease_until", UtcDateTime(), nullable=True),
    Index("ix_aurinko_connections_account_id", "account_id"),
)

# Nonces of OAuth states already used (single use); rows past their expiry are deleted on the way.
aurinko_oauth_states = Table(
    "aurinko_oauth_states",
    metadata,
    Column("nonce", String(64), primary_key=True),
    _id("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("used_at", UtcDateTime(), nullable=False),
    Index("ix_aurinko_oauth_states_expires_at", "expires_at"),
)

inbox_messages = Table(
    "inbox_messages",
    metadata,
    _id(primary_key=True),
    _id("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("account_id", String(100), nullable=False),
    Column("provider_id", String(255), nullable=False),
    Column("thread_id", String(255), nullable=True),
    Column("internet_message_id", String(500), nullable=True),
    Column("subject", Text, nullable=True),
    Column("from_address", String(320), nullable=True),
    Column("from_name", String(200), nullable=True),
    Column("to_addresses", JSON, nullable=False),
    Column("cc_addresses", JSON, nullable=False),
    Column("bcc_addresses", JSON, nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("sent_at", UtcDateTime(), nullable=True),
    Column("snippet", Text, nullable=True),
    Column("body", Text, nullable=True),
    Column("has_attachments", Boolean, nullable=False),
    Column("labels", JSON, nullable=False),
    Column("in_reply_to", String(500), nullable=True),
    Column("fingerprint", String(64), nullable=False),
    Column("deleted_at", UtcDateTime(), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("tenant_id", "account_id", "provider_id"),
    Index("ix_inbox_messages_tenant_id_received_at", "tenant_id", "received_at", "id"),
    Index("ix_inbox_messages_tenant_id_thread_id", "tenant_id", "thread_id"),
    Index("ix_inbox_messages_tenant_id_internet_message_id", "tenant_id", "account_id", "internet_message_id"),
)

# Every address on a message (sender and recipients), lower case: what links messages to clients.
inbox_message_addresses = Table(
    "inbox_message_addresses",
    metadata,
    _id("message_id", ForeignKey("inbox_messages.id", ondelete="CASCADE"), primary_key=True),
    Column("address", String(320), primary_key=True),
    _id("tenant_id", nullable=False),
    Index("ix_inbox_message_addresses_tenant_id_address", "tenant_id", "address"),
)

# A tenant's PAC (Alanube) settings (issue 6): its company id names it on /webhooks/pac/{company_id};
# the webhook secret and the API key are sealed (SecretBox), never stored in the clear.
pac_settings = Table(
    "pac_settings",
    metadata,
    _id("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    Column("company_id", String(128), nullable=False, unique=True),
    Column("webhook_secret_sealed", Text, nullable=True),
    Column("api_key_sealed", Text, nullable=True),
    Column("signature_mode", StrEnumType(SignatureMode), nullable=False),
    Column("send_authorized_invoice", Boolean, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

# WorkOS users as last reported (issue 6), keyed by their WorkOS id: the email a membership's user
# row takes, and whether the user was deleted (a deleted user is never active again).
directory_users = Table(
    "directory_users",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("email", String(254), nullable=False),
    Column("deleted", Boolean, nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

# --- emails: clients' default recipients, the message log, per-tenant templates -------------


class IdList(TypeDecorator[tuple[str, ...]]):
    """A tuple of ids (UUIDs: no commas), kept as one comma-separated text."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else ",".join(value)

    def process_result_value(self, value: str | None, dialect: Any) -> tuple[str, ...]:
        return tuple(value.split(",")) if value else ()


client_emails = Table(
    "client_emails",
    metadata,
    _id(primary_key=True),
    _id("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    _id("client_id", ForeignKey("clients.id", ondelete="CASCADE"), nullable=False),
    Column("email", String(320), nullable=False),
    Column("kind", StrEnumType(RecipientKind), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    UniqueConstraint("client_id", "email"),
    Index("ix_client_emails_tenant_id_client_id", "tenant_id", "client_id", "created_at"),
)

email_messages = Table(
    "email_messages",
    metadata,
    _id(primary_key=True),
    _id("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    Column("direction", StrEnumType(EmailDirection), nullable=False),
    Column("kind", StrEnumType(EmailKind), nullable=False),
    Column("status", StrEnumType(DeliveryStatus), nullable=False),
    Column("internet_message_id", String(300), nullable=False, unique=True),
    Column("idempotency_key", String(200), nullable=False),
    Column("from_address", String(320), nullable=True),
    Column("reply_to", EmailList(), nullable=False),
    Column("to", EmailList(), nullable=False),
    Column("cc", EmailList(), nullable=False),
    Column("bcc", EmailList(), nullable=False),
    Column("subject", Text, nullable=False),
    Column("html", Text, nullable=True),
    Column("text", Text, nullable=True),
    Column("attachment_file_ids", IdList(), nullable=False),
    Column("entity_type", String(32), nullable=True),
    Column("entity_id", String(128), nullable=True),
    Column("provider", String(50), nullable=True),
    Column("provider_message_id", String(300), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("attempts", DeliveryAttempts(), nullable=False),
    Column("retries", Integer, nullable=False),
    Column("created_by", String(320), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("sent_at", UtcDateTime(), nullable=True),
    Index("ix_email_messages_tenant_id_created_at", "tenant_id", "created_at", "id"),
    Index("ix_email_messages_tenant_id_entity", "tenant_id", "entity_type", "entity_id"),
    Index("ix_email_messages_tenant_id_status", "tenant_id", "status", "created_at"),
    Index("ix_email_messages_status_updated_at", "status", "updated_at"),  # the delivery sweep
)

email_templates = Table(
    "email_templates",
    metadata,
    _id("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", StrEnumType(EmailKind), primary_key=True),
    Column("locale", StrEnumType(EmailLocale), primary_key=True),
    Column("subject", Text, nullable=False),
    Column("html", Text, nullable=True),
    Column("text", Text, nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
)

# A tenant's own SMTP server (the URL SecretBox-sealed, context ``emails-smtp:{tenant_id}``) and From.
email_settings = Table(
    "email_settings",
    metadata,
    _id("tenant_id", ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    Column("smtp_url_sealed", Text, nullable=True),
    Column("smtp_summary", String(400), nullable=True),
    Column("from_address", String(320), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
)

mapper_registry = registry(metadata=metadata)


def start_mappers() -> None:
    """Map the plain domain classes onto the tables, once per process."""
    if getattr(File, "__mapper__", None) is not None:
        return
    mapper_registry.map_imperatively(Tenant, tenants)
    mapper_registry.map_imperatively(User, users)
    mapper_registry.map_imperatively(FileEntity, file_entities)
    mapper_registry.map_imperatively(
        File,
        files,
        properties={
            "links": relationship(
                FileEntity,
                cascade="all, delete-orphan",
                passive_deletes=True,
                lazy="selectin",
                order_by=file_entities.c.created_at,
            )
        },
    )
    _map_invoicing()
    mapper_registry.map_imperatively(PdfTemplate, pdf_templates)
    mapper_registry.map_imperatively(TenantSubscription, tenant_subscriptions)  # webhooks (Polar)
    # --- whatsapp ---
    mapper_registry.map_imperatively(WhatsappConnection, whatsapp_connections)
    mapper_registry.map_imperatively(ClientWhatsapp, client_whatsapps)
    mapper_registry.map_imperatively(WhatsappTemplate, whatsapp_templates)
    # one log, two kinds of row (told apart by ``direction``): outbound deliveries and inbound messages
    mapper_registry.map_imperatively(WhatsappDelivery, whatsapp_messages, exclude_properties=["provider_at"])
    mapper_registry.map_imperatively(InboundWhatsapp, whatsapp_messages, include_properties=_INBOUND_COLUMNS)
    _map_emails()
    mapper_registry.map_imperatively(AurinkoConnection, aurinko_connections)  # aurinko
    mapper_registry.map_imperatively(PacSettings, pac_settings)  # webhooks (PAC)
    mapper_registry.map_imperatively(DirectoryUser, directory_users)  # webhooks (WorkOS)


_INBOUND_COLUMNS = [
    "id", "tenant_id", "direction", "status", "provider", "phone", "client_id", "wamid", "kind", "text",
    "provider_at", "created_at", "updated_at",
]


def _map_emails() -> None:
    mapper_registry.map_imperatively(ClientEmail, client_emails)
    mapper_registry.map_imperatively(EmailMessage, email_messages)
    mapper_registry.map_imperatively(EmailTemplate, email_templates)
    mapper_registry.map_imperatively(EmailSettings, email_settings)


def _map_invoicing() -> None:
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
