"""Ports every domain shares: the clock, the unit of work, and its failure modes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

from domain.shared.model import DomainEvent

if TYPE_CHECKING:
    from application.emails.ports import (  # emails
        ClientEmailReader,
        ClientEmailRepository,
        EmailMessageReader,
        EmailMessageRepository,
        EmailSettingsRepository,
        EmailTemplateRepository,
    )
    from application.files.ports import FileReader, FileRepository
    from application.integrations.aurinko.ports import (  # aurinko
        AurinkoConnectionReader,
        AurinkoConnectionRepository,
        AurinkoDirectory,
        InboxReader,
        InboxStore,
        OAuthStateStore,
    )
    from application.jobs.ports import JobOutbox
    from application.invoicing.ports import (
        ClientReader,
        ClientRepository,
        InvoiceReader,
        InvoiceRepository,
        QuoteReader,
        QuoteRepository,
    )
    from application.pdf_templates.ports import PdfTemplateReader, PdfTemplateRepository
    from application.tenancy.ports import TenantDirectory
    from application.webhooks.ports import PacSettingsRepository, WebhookEventReader, WebhookEventRepository
    from application.whatsapp.ports import WhatsappDirectory, WhatsappReader, WhatsappRepository
    from application.deliveries.ports import StaleDeliveries


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class DuplicateEntry(Exception):
    """A unique constraint refused the commit: another transaction wrote the same key first."""


class UnitOfWork(Protocol):
    """One transaction over the repositories of one tenant.

    Used as a context manager: leaving the block without ``commit()`` rolls back.
    Events recorded by aggregates it saw are handed out by ``collect_events()`` after commit.
    """

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
    """Jobs queued here commit (or roll back) with the rest of the unit of work."""
    webhook_events: WebhookEventRepository
    """The webhook inbox: the tenant's events, or every tenant's in a unit of work without one."""
    webhook_event_views: WebhookEventReader
    # --- whatsapp ---
    whatsapp: WhatsappRepository
    whatsapp_views: WhatsappReader
    whatsapp_directory: WhatsappDirectory
    """Across tenants (also in a unit of work without one): who a webhook or handshake is for."""
    # --- aurinko: the tenant's mailbox connection and synced inbox ---
    aurinko_connections: AurinkoConnectionRepository
    aurinko_connection_views: AurinkoConnectionReader
    oauth_states: OAuthStateStore
    inbox: InboxStore
    inbox_views: InboxReader
    aurinko_directory: AurinkoDirectory
    """Across tenants: only in a unit of work without a tenant (system work)."""
    pac_settings: PacSettingsRepository
    """The tenants' PAC settings: the tenant's own, or every tenant's without one (by company id always)."""
    # --- emails ---
    client_emails: ClientEmailRepository
    client_email_views: ClientEmailReader
    email_messages: EmailMessageRepository
    email_message_views: EmailMessageReader
    email_templates: EmailTemplateRepository
    email_settings: EmailSettingsRepository
    # --- end emails ---
    stale_deliveries: StaleDeliveries
    """Emails and WhatsApp messages left SENDING: only in a unit of work without a tenant."""

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def collect_events(self) -> list[DomainEvent]: ...


UnitOfWorkFactory = Callable[[str | None], UnitOfWork]
"""Builds a unit of work bound to one tenant (``None``: system work across tenants)."""
