"""The SQLAlchemy unit of work: one session per ``with`` block, bound to one tenant."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from adapters.db.emails import (  # emails
    SqlAlchemyClientEmailReader,
    SqlAlchemyClientEmailRepository,
    SqlAlchemyEmailMessageReader,
    SqlAlchemyEmailMessageRepository,
    SqlAlchemyEmailSettingsRepository,
    SqlAlchemyEmailTemplateRepository,
)
from adapters.db.deliveries import SqlAlchemyStaleDeliveries
from adapters.db.files import SqlAlchemyFileReader, SqlAlchemyFileRepository
from adapters.db.invoicing import (
    SqlAlchemyClientReader,
    SqlAlchemyClientRepository,
    SqlAlchemyInvoiceReader,
    SqlAlchemyInvoiceRepository,
    SqlAlchemyQuoteReader,
    SqlAlchemyQuoteRepository,
)
from adapters.db.integrations import (  # aurinko
    SqlAlchemyAurinkoConnectionReader,
    SqlAlchemyAurinkoConnectionRepository,
    SqlAlchemyAurinkoDirectory,
    SqlAlchemyInboxReader,
    SqlAlchemyInboxStore,
    SqlAlchemyOAuthStateStore,
)
from adapters.db.jobs import SqlAlchemyJobOutbox
from adapters.db.pdf_templates import SqlAlchemyPdfTemplateReader, SqlAlchemyPdfTemplateRepository
from adapters.db.tenancy import SqlAlchemyTenantDirectory
from adapters.db.pac import SqlAlchemyPacSettingsRepository
from adapters.db.webhooks import SqlAlchemyWebhookEventReader, SqlAlchemyWebhookEventRepository
from adapters.db.whatsapp import (
    SqlAlchemyWhatsappDirectory,
    SqlAlchemyWhatsappReader,
    SqlAlchemyWhatsappRepository,
)
from application.emails.ports import (  # emails
    ClientEmailReader,
    ClientEmailRepository,
    EmailMessageReader,
    EmailMessageRepository,
    EmailSettingsRepository,
    EmailTemplateRepository,
)
from application.files.ports import FileReader, FileRepository
from application.invoicing.ports import (
    ClientReader,
    ClientRepository,
    InvoiceReader,
    InvoiceRepository,
    QuoteReader,
    QuoteRepository,
)
from application.integrations.aurinko.ports import (  # aurinko
    AurinkoConnectionReader,
    AurinkoConnectionRepository,
    AurinkoDirectory,
    InboxReader,
    InboxStore,
    OAuthStateStore,
)
from application.jobs.ports import JobOutbox
from application.pdf_templates.ports import PdfTemplateReader, PdfTemplateRepository
from application.deliveries.ports import StaleDeliveries
from application.shared.ports import Clock, DuplicateEntry
from application.tenancy.ports import TenantDirectory
from application.webhooks.ports import PacSettingsRepository, WebhookEventReader, WebhookEventRepository
from application.whatsapp.ports import WhatsappDirectory, WhatsappReader, WhatsappRepository
from domain.shared.model import Aggregate, DomainEvent


class _NoTenant:
    """What a unit of work without a tenant offers instead of tenant-bound repositories."""

    def __getattr__(self, name: str) -> object:
        raise PermissionError("this unit of work is not bound to a tenant")


class SqlAlchemyUnitOfWork:
    tenants: TenantDirectory
    files: FileRepository
    file_views: FileReader
    clients: ClientRepository
    client_views: ClientReader
    invoices: InvoiceRepository
    invoice_views: InvoiceReader
    quotes: QuoteRepository
    quote_views: QuoteReader
    pdf_templates: PdfTemplateRepository
    pdf_template_views: PdfTemplateReader
    jobs: JobOutbox
    # webhooks: bound to the tenant, or to every tenant in a unit of work without one (system work)
    webhook_events: WebhookEventRepository
    webhook_event_views: WebhookEventReader
    # --- whatsapp ---
    whatsapp: WhatsappRepository
    whatsapp_views: WhatsappReader
    whatsapp_directory: WhatsappDirectory
    # --- aurinko ---
    aurinko_connections: AurinkoConnectionRepository
    aurinko_connection_views: AurinkoConnectionReader
    oauth_states: OAuthStateStore
    inbox: InboxStore
    inbox_views: InboxReader
    aurinko_directory: AurinkoDirectory
    pac_settings: PacSettingsRepository
    # --- emails ---
    client_emails: ClientEmailRepository
    client_email_views: ClientEmailReader
    email_messages: EmailMessageRepository
    email_message_views: EmailMessageReader
    email_templates: EmailTemplateRepository
    email_settings: EmailSettingsRepository
    # --- end emails ---
    stale_deliveries: StaleDeliveries

    def __init__(
        self,
        tenant_id: str | None,
        *,
        session_factory: sessionmaker[Session],
        clock: Clock,
        job_max_attempts: int = 8,
    ) -> None:
        self._session_factory = session_factory
        self._job_max_attempts = job_max_attempts
        self._tenant_id = tenant_id
        self._clock = clock
        self._session: Session | None = None
        self._events: list[DomainEvent] = []
        self._seen: list[Aggregate] = []

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("the unit of work is used outside its `with` block")
        return self._session

    def __enter__(self) -> SqlAlchemyUnitOfWork:
        if self._session is not None:
            raise RuntimeError("the unit of work is already open")
        session = self._session = self._session_factory()
        self._seen = []
        self.tenants = SqlAlchemyTenantDirectory(session)
        self.jobs = SqlAlchemyJobOutbox(session, self._tenant_id, self._clock, self._job_max_attempts)
        # --- webhooks ---
        self.webhook_events = SqlAlchemyWebhookEventRepository(session, self._tenant_id, self.jobs)
        self.webhook_event_views = SqlAlchemyWebhookEventReader(session, self._tenant_id)
        self.pac_settings = SqlAlchemyPacSettingsRepository(session, self._tenant_id)
        # --- end webhooks ---
        self.whatsapp_directory = SqlAlchemyWhatsappDirectory(session)  # whatsapp: across tenants
        if self._tenant_id is None:
            self.files = self.file_views = _NoTenant()  # type: ignore[assignment]
            self.clients = self.client_views = _NoTenant()  # type: ignore[assignment]
            self.invoices = self.invoice_views = _NoTenant()  # type: ignore[assignment]
            self.quotes = self.quote_views = _NoTenant()  # type: ignore[assignment]
            self.pdf_templates = self.pdf_template_views = _NoTenant()  # type: ignore[assignment]
            self.whatsapp = self.whatsapp_views = _NoTenant()  # type: ignore[assignment]
            # --- aurinko ---
            self.aurinko_connections = self.aurinko_connection_views = _NoTenant()  # type: ignore[assignment]
            self.oauth_states = _NoTenant()  # type: ignore[assignment]
            self.inbox = self.inbox_views = _NoTenant()  # type: ignore[assignment]
            self.aurinko_directory = SqlAlchemyAurinkoDirectory(session)
            self.client_emails = self.client_email_views = _NoTenant()  # type: ignore[assignment]  # emails
            self.email_messages = self.email_message_views = _NoTenant()  # type: ignore[assignment]  # emails
            self.email_templates = self.email_settings = _NoTenant()  # type: ignore[assignment]  # emails
            self.stale_deliveries = SqlAlchemyStaleDeliveries(session)
        else:
            self.files = SqlAlchemyFileRepository(session, self._tenant_id, self._clock, self._seen)
            self.file_views = SqlAlchemyFileReader(session, self._tenant_id)
            self.clients = SqlAlchemyClientRepository(session, self._tenant_id, self._seen)
            self.client_views = SqlAlchemyClientReader(session, self._tenant_id)
            self.invoices = SqlAlchemyInvoiceRepository(session, self._tenant_id, self._seen)
            self.invoice_views = SqlAlchemyInvoiceReader(session, self._tenant_id)
            self.quotes = SqlAlchemyQuoteRepository(session, self._tenant_id, self._seen)
            self.quote_views = SqlAlchemyQuoteReader(session, self._tenant_id)
            self.pdf_templates = SqlAlchemyPdfTemplateRepository(
                session, self._tenant_id, self._clock, self._seen
            )
            self.pdf_template_views = SqlAlchemyPdfTemplateReader(session, self._tenant_id)
            # --- whatsapp ---
            self.whatsapp = SqlAlchemyWhatsappRepository(session, self._tenant_id, self._seen)
            self.whatsapp_views = SqlAlchemyWhatsappReader(session, self._tenant_id)
            # --- aurinko ---
            self.aurinko_connections = SqlAlchemyAurinkoConnectionRepository(session, self._tenant_id, self._seen)
            self.aurinko_connection_views = SqlAlchemyAurinkoConnectionReader(session, self._tenant_id)
            self.oauth_states = SqlAlchemyOAuthStateStore(session, self._tenant_id)
            self.inbox = SqlAlchemyInboxStore(session, self._tenant_id)
            self.inbox_views = SqlAlchemyInboxReader(session, self._tenant_id)
            self.aurinko_directory = _NoTenant()  # type: ignore[assignment]
            self.stale_deliveries = _NoTenant()  # type: ignore[assignment]
            # --- emails ---
            self.client_emails = SqlAlchemyClientEmailRepository(session, self._tenant_id, self._seen)
            self.client_email_views = SqlAlchemyClientEmailReader(session, self._tenant_id)
            self.email_messages = SqlAlchemyEmailMessageRepository(session, self._tenant_id, self._seen)
            self.email_message_views = SqlAlchemyEmailMessageReader(session, self._tenant_id)
            self.email_templates = SqlAlchemyEmailTemplateRepository(session, self._tenant_id, self._seen)
            self.email_settings = SqlAlchemyEmailSettingsRepository(session, self._tenant_id, self._seen)
            # --- end emails ---
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session, self._session = self._session, None
        self._forget()
        if session is not None:
            try:
                session.rollback()
            finally:
                session.close()

    def commit(self) -> None:
        session = self.session
        try:
            session.commit()
        except IntegrityError as error:
            session.rollback()
            raise DuplicateEntry(str(error.orig)) from error
        for aggregate in {id(a): a for a in self._seen}.values():
            self._events.extend(aggregate.pull_events())
        self._seen.clear()

    def rollback(self) -> None:
        self.session.rollback()
        self._forget()

    def _forget(self) -> None:
        """Events of work that was not committed are dropped with it."""
        for aggregate in self._seen:
            aggregate.pull_events()
        self._seen.clear()

    def collect_events(self) -> list[DomainEvent]:
        events, self._events = self._events, []
        return events
