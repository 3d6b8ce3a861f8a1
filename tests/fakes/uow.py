"""In-memory unit of work and repositories with the semantics of ``adapters.db.uow``.

``FakeStore`` is the committed state every unit of work shares (what the database holds).
A ``FakeUnitOfWork`` works on a private copy of it inside its ``with`` block: ``commit()``
writes what changed back to the store (refusing a duplicate key with ``DuplicateEntry``, as
the unique constraints do), and leaving the block without committing throws the copy away.
Domain events are collected from the aggregates the unit of work saw, on commit only.

The reader mirrors ``SqlAlchemyFileReader`` query for query (ordering, keyset paging,
case-insensitive ``LIKE`` with literal ``%`` and ``_``, tenant filtering everywhere);
``tests/integration/test_file_store_contract.py`` runs one contract against both so they
cannot drift. The invoicing repositories and readers mirror ``adapters.db.invoicing`` the same
way, checked by ``tests/integration/test_invoicing_store_contract.py``, and the PDF template ones
mirror ``adapters.db.pdf_templates``, checked by ``tests/integration/test_pdf_template_store_contract.py``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from types import TracebackType
from typing import Any

from application.invoicing.handlers import client_view, invoice_view, quote_view
from application.invoicing.views import (
    ClientCursor,
    ClientView,
    InvoiceCursor,
    InvoiceFilter,
    InvoiceSort,
    InvoiceSortField,
    InvoiceView,
    QuoteCursor,
    QuoteFilter,
    QuoteView,
    SortDirection,
)
from application.pdf_templates.handlers import pdf_template_view
from application.pdf_templates.views import PdfTemplateView
from application.tenancy.ports import Principal
from application.files.views import EntityRef, FileCursor, FileEntityView, FileFilter, FileView
from application.shared.ports import Clock, DuplicateEntry
from domain.files.model import File, FileEntity, FileStatus
from domain.invoicing.clients import Client, ClientContact
from domain.invoicing.invoices import Invoice, InvoiceLine, Payment
from domain.invoicing.quotes import Quote, QuoteLine
from domain.invoicing.statements import StatementInvoice, StatementPayment
from domain.invoicing.values import Currency
from domain.jobs.model import Job
from domain.pdf.layout import DocumentType
from domain.pdf_templates.model import PdfTemplate
from domain.shared.model import Aggregate, DomainEvent, new_id
from domain.tenancy.model import Tenant, User
from domain.webhooks.model import WebhookEvent
from tests.fakes.webhooks import FakeWebhookEventReader, FakeWebhookEventRepository
from tests.fakes.whatsapp import FakeWhatsappDirectory, FakeWhatsappReader, FakeWhatsappRepository, WhatsappData
from tests.fakes import emails as fake_emails  # emails

# --- copies: the store never shares an object with a unit of work ------------------------


def _copy_file(file: File) -> File:
    copy = File(
        id=file.id,
        tenant_id=file.tenant_id,
        name=file.name,
        sha256=file.sha256,
        mime=file.mime,
        size=file.size,
        status=FileStatus(file.status),
        created_by=file.created_by,
        created_at=file.created_at,
        expires_at=file.expires_at,
    )
    copy.links = [
        FileEntity(
            id=link.id,
            tenant_id=link.tenant_id,
            file_id=link.file_id,
            entity_type=link.entity_type,
            entity_id=link.entity_id,
            created_at=link.created_at,
        )
        for link in file.links
    ]
    return copy


def _copy_tenant(tenant: Tenant) -> Tenant:
    return Tenant(
        id=tenant.id,
        slug=tenant.slug,
        name=tenant.name,
        external_id=tenant.external_id,
        created_at=tenant.created_at,
    )


def _copy_user(user: User) -> User:
    return User(
        id=user.id,
        tenant_id=user.tenant_id,
        email=user.email,
        role=user.role,
        external_id=user.external_id,
        active=user.active,
        created_at=user.created_at,
    )


def _file_row(file: File) -> tuple[Any, ...]:
    """What the database would hold for a file and its links: used to see what changed."""
    return (
        file.tenant_id,
        file.name,
        file.sha256,
        file.mime,
        file.size,
        FileStatus(file.status),
        file.created_by,
        file.created_at,
        file.expires_at,
        tuple(
            (link.id, link.tenant_id, link.file_id, link.entity_type, link.entity_id, link.created_at)
            for link in file.links
        ),
    )


def _user_row(user: User) -> tuple[Any, ...]:
    return (user.tenant_id, user.email, user.role, user.external_id, user.active, user.created_at)


# --- invoicing copies: built through the constructors (the classes may be mapped by the ORM) ---

_CLIENT_FIELDS = (
    "id", "tenant_id", "name", "ruc", "dv", "taxpayer_type", "address", "created_at", "updated_at",
)
_CONTACT_FIELDS = ("id", "tenant_id", "client_id", "position", "name", "email", "phone", "role")
_LINE_FIELDS = ("id", "tenant_id", "position", "description", "quantity", "unit_price", "discount", "tax_rate")
_PAYMENT_FIELDS = ("id", "tenant_id", "invoice_id", "amount", "paid_on", "method", "reference", "created_at")
_DOCUMENT_FIELDS = (
    "id", "tenant_id", "number", "client_id", "client_name", "client_ruc", "client_dv", "ad_hoc_emails",
    "issue_date", "currency", "subtotal", "discount_total", "tax_total", "total", "created_by", "created_at",
)
_INVOICE_FIELDS = _DOCUMENT_FIELDS + (
    "due_date", "paid", "balance", "voided_at", "legal_status", "cufe", "pac_document_id", "qr_url",
    "authorization_protocol", "authorized_at", "legal_message",
)
_QUOTE_FIELDS = _DOCUMENT_FIELDS + ("valid_until", "status")


_TEMPLATE_FIELDS = (
    "id", "tenant_id", "document_type", "name", "is_default", "logo_file_id", "primary_color", "secondary_color",
    "header_text", "footer_disclaimer", "paper_size", "locale", "custom_css", "custom_body_template", "version",
    "created_at", "updated_at",
)


def _values(obj: object, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in names}


def _copy_client(client: Client) -> Client:
    copy = Client(**_values(client, _CLIENT_FIELDS))
    copy.default_channel = client.default_channel  # whatsapp: not an __init__ argument
    copy.contacts = [ClientContact(**_values(c, _CONTACT_FIELDS)) for c in client.contacts]
    return copy


def _copy_invoice(invoice: Invoice) -> Invoice:
    copy = Invoice(**_values(invoice, _INVOICE_FIELDS))
    copy.lines = [InvoiceLine(invoice_id=line.invoice_id, **_values(line, _LINE_FIELDS)) for line in invoice.lines]
    copy.payments = [Payment(**_values(payment, _PAYMENT_FIELDS)) for payment in invoice.payments]
    return copy


def _copy_quote(quote: Quote) -> Quote:
    copy = Quote(**_values(quote, _QUOTE_FIELDS))
    copy.lines = [QuoteLine(quote_id=line.quote_id, **_values(line, _LINE_FIELDS)) for line in quote.lines]
    return copy


def _copy_template(template: PdfTemplate) -> PdfTemplate:
    return PdfTemplate(**_values(template, _TEMPLATE_FIELDS))


def _state(value: Any) -> Any:
    """What the database would hold for an object and its children: used to see what changed."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return tuple(_state(item) for item in value)
    if hasattr(value, "__dict__"):
        return tuple(sorted((k, _state(v)) for k, v in vars(value).items() if not k.startswith("_")))
    return value


@dataclass
class FakeStore:
    """What the database holds: committed tenants, users and files (with their links)."""

    tenants: dict[str, Tenant] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    files: dict[str, File] = field(default_factory=dict)
    clients: dict[str, Client] = field(default_factory=dict)
    invoices: dict[str, Invoice] = field(default_factory=dict)
    quotes: dict[str, Quote] = field(default_factory=dict)
    counters: dict[tuple[str, str], int] = field(default_factory=dict)
    pdf_templates: dict[str, PdfTemplate] = field(default_factory=dict)
    commits: int = 0
    locked: list[tuple[str, str]] = field(default_factory=list)
    template_locks: list[tuple[str, DocumentType]] = field(default_factory=list)
    jobs: dict[str, Job] = field(default_factory=dict)
    webhook_events: dict[str, WebhookEvent] = field(default_factory=dict)  # tests/fakes/webhooks.py
    whatsapp: WhatsappData = field(default_factory=WhatsappData)  # tests/fakes/whatsapp.py
    emails: fake_emails.EmailState = field(default_factory=fake_emails.EmailState)  # emails

    # --- helpers for assertions in tests ------------------------------------------------

    def clients_of(self, tenant_id: str) -> list[Client]:
        return [client for client in self.clients.values() if client.tenant_id == tenant_id]

    def invoices_of(self, tenant_id: str) -> list[Invoice]:
        return [invoice for invoice in self.invoices.values() if invoice.tenant_id == tenant_id]

    def quotes_of(self, tenant_id: str) -> list[Quote]:
        return [quote for quote in self.quotes.values() if quote.tenant_id == tenant_id]

    def templates_of(self, tenant_id: str) -> list[PdfTemplate]:
        return [template for template in self.pdf_templates.values() if template.tenant_id == tenant_id]

    def files_of(self, tenant_id: str) -> list[File]:
        return [file for file in self.files.values() if file.tenant_id == tenant_id]

    def links_of(self, tenant_id: str) -> list[FileEntity]:
        return [link for file in self.files_of(tenant_id) for link in file.links]


class _Workspace:
    """A unit of work's private copy of the store, and what it started from."""

    def __init__(self, store: FakeStore) -> None:
        self.tenants = {key: _copy_tenant(value) for key, value in store.tenants.items()}
        self.users = {key: _copy_user(value) for key, value in store.users.items()}
        self.files = {key: _copy_file(value) for key, value in store.files.items()}
        self.deleted: dict[str, File] = {}
        self.clients = {key: _copy_client(value) for key, value in store.clients.items()}
        self.invoices = {key: _copy_invoice(value) for key, value in store.invoices.items()}
        self.quotes = {key: _copy_quote(value) for key, value in store.quotes.items()}
        self.counters = dict(store.counters)
        self.pdf_templates = {key: _copy_template(value) for key, value in store.pdf_templates.items()}
        self.deleted_templates: dict[str, PdfTemplate] = {}
        self.new_jobs: dict[str, Job] = {}
        self.webhook_events: dict[str, WebhookEvent] = {}  # written (inserted or saved) by this unit of work
        self.whatsapp = store.whatsapp.copy()  # tests/fakes/whatsapp.py: written back whole on commit
        self.emails = store.emails.checkout()  # emails
        self.rebase()

    def rebase(self) -> None:
        """Remember the current copy as what the store holds (after a commit)."""
        self.base_tenants = set(self.tenants)
        self.base_users = {key: _user_row(user) for key, user in self.users.items()}
        self.base_files = {key: _file_row(file) for key, file in self.files.items()}
        self.base_clients = {key: _state(client) for key, client in self.clients.items()}
        self.base_invoices = {key: _state(invoice) for key, invoice in self.invoices.items()}
        self.base_quotes = {key: _state(quote) for key, quote in self.quotes.items()}
        self.base_counters = dict(self.counters)
        self.base_templates = {key: _state(template) for key, template in self.pdf_templates.items()}

    def aggregates(self) -> Iterable[Aggregate]:
        yield from self.tenants.values()
        yield from self.users.values()
        yield from self.files.values()
        yield from self.deleted.values()
        yield from self.clients.values()
        yield from self.invoices.values()
        yield from self.quotes.values()
        yield from self.pdf_templates.values()
        yield from self.deleted_templates.values()
        yield from self.emails.aggregates()  # emails


class _NoTenant:
    """What a unit of work without a tenant offers instead of tenant-bound repositories."""

    def __getattr__(self, name: str) -> object:
        raise PermissionError("this unit of work is not bound to a tenant")


class FakeUnitOfWork:
    tenants: FakeTenantDirectory
    files: FakeFileRepository
    file_views: FakeFileReader
    clients: FakeClientRepository
    client_views: FakeClientReader
    invoices: FakeInvoiceRepository
    invoice_views: FakeInvoiceReader
    quotes: FakeQuoteRepository
    quote_views: FakeQuoteReader
    pdf_templates: FakePdfTemplateRepository
    pdf_template_views: FakePdfTemplateReader
    jobs: FakeJobOutbox
    webhook_events: FakeWebhookEventRepository
    webhook_event_views: FakeWebhookEventReader

    def __init__(self, store: FakeStore, tenant_id: str | None, clock: Clock) -> None:
        self._store = store
        self._tenant_id = tenant_id
        self._clock = clock
        self._work: _Workspace | None = None
        self._events: list[DomainEvent] = []
        self.committed = 0

    @property
    def tenant_id(self) -> str | None:
        return self._tenant_id

    @property
    def store(self) -> FakeStore:
        return self._store

    def workspace(self) -> _Workspace:
        if self._work is None:
            raise RuntimeError("the unit of work is used outside its `with` block")
        return self._work

    def __enter__(self) -> FakeUnitOfWork:
        if self._work is not None:
            raise RuntimeError("the unit of work is already open")
        self._work = _Workspace(self._store)
        self.tenants = FakeTenantDirectory(self)
        self.jobs = FakeJobOutbox(self, self._tenant_id, self._clock)
        self.webhook_events = FakeWebhookEventRepository(self, self._tenant_id)
        self.webhook_event_views = FakeWebhookEventReader(self, self._tenant_id)
        self.whatsapp_directory = FakeWhatsappDirectory(self)  # whatsapp
        self.whatsapp = FakeWhatsappRepository(self, self._tenant_id)
        self.whatsapp_views = FakeWhatsappReader(self, self._tenant_id)
        if self._tenant_id is None:
            self.files = self.file_views = _NoTenant()  # type: ignore[assignment]
            self.clients = self.client_views = _NoTenant()  # type: ignore[assignment]
            self.invoices = self.invoice_views = _NoTenant()  # type: ignore[assignment]
            self.quotes = self.quote_views = _NoTenant()  # type: ignore[assignment]
            self.pdf_templates = self.pdf_template_views = _NoTenant()  # type: ignore[assignment]
            self.whatsapp = self.whatsapp_views = _NoTenant()  # type: ignore[assignment]
            self.client_emails = self.client_email_views = _NoTenant()  # type: ignore[assignment]  # emails
            self.email_messages = self.email_message_views = _NoTenant()  # type: ignore[assignment]  # emails
            self.email_templates = self.email_settings = _NoTenant()  # type: ignore[assignment]  # emails
        else:
            self.files = FakeFileRepository(self, self._tenant_id, self._clock)
            self.file_views = FakeFileReader(self, self._tenant_id)
            self.clients = FakeClientRepository(self, self._tenant_id)
            self.client_views = FakeClientReader(self, self._tenant_id)
            self.invoices = FakeInvoiceRepository(self, self._tenant_id)
            self.invoice_views = FakeInvoiceReader(self, self._tenant_id)
            self.quotes = FakeQuoteRepository(self, self._tenant_id)
            self.quote_views = FakeQuoteReader(self, self._tenant_id)
            self.pdf_templates = FakePdfTemplateRepository(self, self._tenant_id)
            self.pdf_template_views = FakePdfTemplateReader(self, self._tenant_id)
            fake_emails.attach(self, self._tenant_id)  # emails
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._work = None

    def commit(self) -> None:
        work = self.workspace()
        store = self._store
        try:
            tenants, users, files, removed = self._changes(work, store)
            invoicing = self._invoicing_changes(work, store)
            templates, removed_templates = self._template_changes(work, store)
            work.whatsapp.check_unique()
            work.emails.check({**store.clients, **work.clients})  # emails
        except DuplicateEntry:
            self._work = _Workspace(store)  # the session rolls back: start again from the store
            raise
        for client in invoicing.clients:
            store.clients[client.id] = _copy_client(client)
        for invoice in invoicing.invoices:
            store.invoices[invoice.id] = _copy_invoice(invoice)
        for quote in invoicing.quotes:
            store.quotes[quote.id] = _copy_quote(quote)
        store.counters.update(invoicing.counters)
        for template in templates:
            store.pdf_templates[template.id] = _copy_template(template)
        for template_id in removed_templates:
            store.pdf_templates.pop(template_id, None)
        for tenant in tenants:
            store.tenants[tenant.id] = _copy_tenant(tenant)
        store.jobs.update(work.new_jobs)
        work.new_jobs.clear()
        store.webhook_events.update(work.webhook_events)
        work.webhook_events.clear()
        store.whatsapp = work.whatsapp.copy()
        store.emails.apply(work.emails)  # emails
        for user in users:
            store.users[user.id] = _copy_user(user)
        for file in files:
            store.files[file.id] = _copy_file(file)
        for file_id in removed:
            store.files.pop(file_id, None)
        store.commits += 1
        self.committed += 1
        for aggregate in work.aggregates():
            self._events.extend(aggregate.pull_events())
        work.deleted.clear()
        work.deleted_templates.clear()
        work.rebase()

    def _changes(
        self, work: _Workspace, store: FakeStore
    ) -> tuple[list[Tenant], list[User], list[File], list[str]]:
        """What this commit writes, checked against the store's unique and foreign keys."""
        tenants = [tenant for key, tenant in work.tenants.items() if key not in work.base_tenants]
        users = [user for key, user in work.users.items() if work.base_users.get(key) != _user_row(user)]
        files = [file for key, file in work.files.items() if work.base_files.get(key) != _file_row(file)]
        removed = [key for key in work.base_files if key not in work.files]
        for file in files:
            if file.id in work.base_files and file.id not in store.files:
                raise RuntimeError(f"file {file.id} was deleted by another unit of work (stale data)")

        after_tenants = {**store.tenants, **{tenant.id: tenant for tenant in tenants}}
        _unique("tenants.slug", (t.slug for t in after_tenants.values()))
        _unique("tenants.external_id", (t.external_id for t in after_tenants.values() if t.external_id))
        after_users = {**store.users, **{user.id: user for user in users}}
        _unique("users(tenant_id, email)", ((u.tenant_id, u.email) for u in after_users.values()))
        after_files = {**store.files, **{file.id: file for file in files}}
        for key in removed:
            after_files.pop(key, None)
        _unique("files(tenant_id, sha256)", ((f.tenant_id, f.sha256) for f in after_files.values()))
        _unique(
            "file_entities(file_id, entity_type, entity_id)",
            (
                (link.file_id, link.entity_type, link.entity_id)
                for f in after_files.values()
                for link in f.links
            ),
        )
        _unique("file_entities.id", (link.id for f in after_files.values() for link in f.links))
        for user in users:
            if user.tenant_id not in after_tenants:
                raise LookupError(f"users.tenant_id: no tenant {user.tenant_id} (foreign key)")
        for file in files:
            if file.tenant_id not in after_tenants:
                raise LookupError(f"files.tenant_id: no tenant {file.tenant_id} (foreign key)")
        return tenants, users, files, removed

    def _invoicing_changes(self, work: _Workspace, store: FakeStore) -> _InvoicingChanges:
        """What this commit writes of invoicing, checked against the unique and foreign keys."""
        changes = _InvoicingChanges(
            clients=[c for key, c in work.clients.items() if work.base_clients.get(key) != _state(c)],
            invoices=[i for key, i in work.invoices.items() if work.base_invoices.get(key) != _state(i)],
            quotes=[q for key, q in work.quotes.items() if work.base_quotes.get(key) != _state(q)],
            counters={k: v for k, v in work.counters.items() if work.base_counters.get(k) != v},
        )
        tenants = {**store.tenants, **work.tenants}
        after_clients = {**store.clients, **{c.id: c for c in changes.clients}}
        after_invoices = {**store.invoices, **{i.id: i for i in changes.invoices}}
        after_quotes = {**store.quotes, **{q.id: q for q in changes.quotes}}
        _unique("invoices(tenant_id, number)", ((i.tenant_id, i.number) for i in after_invoices.values()))
        _unique("quotes(tenant_id, number)", ((q.tenant_id, q.number) for q in after_quotes.values()))
        for document in [*changes.clients, *changes.invoices, *changes.quotes]:
            if document.tenant_id not in tenants:
                raise LookupError(f"tenant_id: no tenant {document.tenant_id} (foreign key)")
        for document in [*changes.invoices, *changes.quotes]:
            if document.client_id is not None and document.client_id not in after_clients:
                raise LookupError(f"client_id: no client {document.client_id} (foreign key)")
        return changes

    def _template_changes(self, work: _Workspace, store: FakeStore) -> tuple[list[PdfTemplate], list[str]]:
        """What this commit writes of PDF templates, checked against the partial unique index."""
        changed = [t for key, t in work.pdf_templates.items() if work.base_templates.get(key) != _state(t)]
        removed = [key for key in work.base_templates if key not in work.pdf_templates]
        after = {**store.pdf_templates, **{t.id: t for t in changed}}
        for key in removed:
            after.pop(key, None)
        _unique(
            "pdf_templates(tenant_id, document_type) WHERE is_default",
            ((t.tenant_id, DocumentType(t.document_type)) for t in after.values() if t.is_default),
        )
        tenants = {**store.tenants, **work.tenants}
        for template in changed:
            if template.tenant_id not in tenants:
                raise LookupError(f"pdf_templates.tenant_id: no tenant {template.tenant_id} (foreign key)")
        return changed, removed

    def rollback(self) -> None:
        self.workspace()
        self._work = _Workspace(self._store)

    def collect_events(self) -> list[DomainEvent]:
        events, self._events = self._events, []
        return events


@dataclass
class _InvoicingChanges:
    clients: list[Client]
    invoices: list[Invoice]
    quotes: list[Quote]
    counters: dict[tuple[str, str], int]


def _unique(constraint: str, keys: Iterable[object]) -> None:
    seen: set[object] = set()
    for key in keys:
        if key in seen:
            raise DuplicateEntry(f"UNIQUE constraint failed: {constraint} {key!r}")
        seen.add(key)


def fake_uow_factory(store: FakeStore, clock: Clock) -> Callable[[str | None], FakeUnitOfWork]:
    def factory(tenant_id: str | None) -> FakeUnitOfWork:
        return FakeUnitOfWork(store, tenant_id, clock)

    return factory


# --- tenancy ------------------------------------------------------------------------------


class FakeTenantDirectory:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    def add(self, tenant: Tenant) -> None:
        self._uow.workspace().tenants[tenant.id] = tenant

    def get(self, tenant_id: str) -> Tenant | None:
        return self._uow.workspace().tenants.get(tenant_id)

    def by_slug(self, slug: str) -> Tenant | None:
        return next((t for t in self._uow.workspace().tenants.values() if t.slug == slug), None)

    def by_reference(self, reference: str) -> Tenant | None:
        found = [
            tenant
            for tenant in self._uow.workspace().tenants.values()
            if tenant.external_id == reference or tenant.slug == reference
        ]
        found.sort(key=lambda tenant: tenant.external_id is None)
        return found[0] if found else None

    def principal(self, tenant_reference: str, user_reference: str) -> Principal | None:
        tenant = self.by_reference(tenant_reference)
        if tenant is None:
            return None
        user = self.user(tenant.id, user_reference)
        return Principal(tenant_id=tenant.id, user_active=None if user is None else user.active)

    def all_ids(self) -> list[str]:
        tenants = sorted(self._uow.workspace().tenants.values(), key=lambda tenant: tenant.created_at)
        return [tenant.id for tenant in tenants]

    def add_user(self, user: User) -> None:
        self._uow.workspace().users[user.id] = user

    def user(self, tenant_id: str, reference: str) -> User | None:
        return next(
            (
                user
                for user in self._uow.workspace().users.values()
                if user.tenant_id == tenant_id and reference in (user.id, user.external_id, user.email)
            ),
            None,
        )


# --- files: aggregates ----------------------------------------------------------------------


class FakeFileRepository:
    def __init__(self, uow: FakeUnitOfWork, tenant_id: str, clock: Clock) -> None:
        self._uow = uow
        self._tenant_id = tenant_id
        self._clock = clock

    def _files(self) -> list[File]:
        return [f for f in self._uow.workspace().files.values() if f.tenant_id == self._tenant_id]

    def lock_content(self, sha256: str) -> None:
        self._uow.workspace()
        self._uow.store.locked.append((self._tenant_id, sha256))

    def add(self, file: File) -> None:
        if file.tenant_id != self._tenant_id:
            raise PermissionError("a file of another tenant cannot be added here")
        work = self._uow.workspace()
        work.files[file.id] = file
        work.deleted.pop(file.id, None)

    def get(self, file_id: str) -> File | None:
        return next((f for f in self._files() if f.id == file_id), None)

    def get_by_sha256(self, sha256: str) -> File | None:
        return next((f for f in self._files() if f.sha256 == sha256), None)

    def delete(self, file: File) -> None:
        if file.tenant_id != self._tenant_id:
            raise PermissionError("a file of another tenant cannot be deleted here")
        work = self._uow.workspace()
        if work.files.pop(file.id, None) is not None:
            work.deleted[file.id] = file

    def expired(self, now: datetime, limit: int) -> list[File]:
        found = [
            f
            for f in self._files()
            if f.status == FileStatus.TEMPORARY and f.expires_at is not None and f.expires_at <= now
        ]
        found.sort(key=lambda f: f.expires_at)  # type: ignore[arg-type, return-value]
        return found[:limit]


# --- files: read side -----------------------------------------------------------------------


def _view(file: File) -> FileView:
    return FileView(
        id=file.id,
        name=file.name,
        sha256=file.sha256,
        mime=file.mime,
        size=file.size,
        status=FileStatus(file.status),
        created_by=file.created_by,
        created_at=file.created_at,
        expires_at=file.expires_at,
    )


def _newest_first(files: Iterable[File]) -> list[File]:
    return sorted(files, key=lambda f: (f.created_at, f.id), reverse=True)


def _contains(name: str, text: str) -> bool:
    """``lower(name) LIKE '%' || escaped(lower(text)) || '%'``: ``%`` and ``_`` are literal."""
    return text.lower() in name.lower()


class FakeFileReader:
    def __init__(self, uow: FakeUnitOfWork, tenant_id: str) -> None:
        self._uow = uow
        self._tenant_id = tenant_id

    def _files(self) -> list[File]:
        return [f for f in self._uow.workspace().files.values() if f.tenant_id == self._tenant_id]

    def get(self, file_id: str) -> FileView | None:
        return next((_view(f) for f in self._files() if f.id == file_id), None)

    def get_many(self, file_ids: Sequence[str]) -> list[FileView]:
        wanted = set(file_ids)
        return [_view(f) for f in self._files() if f.id in wanted]

    def by_sha256(self, sha256: str) -> FileView | None:
        return next((_view(f) for f in self._files() if f.sha256 == sha256), None)

    def find(self, filter: FileFilter, *, first: int, after: FileCursor | None) -> list[FileView]:
        found = self._files()
        if filter.name_contains:
            found = [f for f in found if _contains(f.name, filter.name_contains)]
        if filter.mime:
            found = [f for f in found if f.mime == filter.mime]
        if filter.created_from:
            found = [f for f in found if f.created_at >= filter.created_from]
        if filter.created_to:
            found = [f for f in found if f.created_at < filter.created_to]
        if filter.entity_type:
            found = [f for f in found if any(link.entity_type == filter.entity_type for link in f.links)]
        if after:
            found = [f for f in found if (f.created_at, f.id) < (after.created_at, after.file_id)]
        return [_view(f) for f in _newest_first(found)[:first]]

    def search(self, text: str, *, limit: int) -> list[FileView]:
        found = [f for f in self._files() if _contains(f.name, text)]
        return [_view(f) for f in _newest_first(found)[:limit]]

    def by_name(self, name: str, *, limit: int) -> list[FileView]:
        found = [f for f in self._files() if f.name == name]
        return [_view(f) for f in _newest_first(found)[:limit]]

    def by_entities(self, refs: Sequence[EntityRef]) -> dict[EntityRef, list[FileView]]:
        if not refs:
            return {}
        keys = {(ref.entity_type, ref.entity_id) for ref in refs}
        found: dict[EntityRef, list[FileView]] = defaultdict(list)
        for file in sorted(self._files(), key=lambda f: (f.created_at, f.id)):
            for link in file.links:
                if link.tenant_id == self._tenant_id and (link.entity_type, link.entity_id) in keys:
                    found[EntityRef(link.entity_type, link.entity_id)].append(_view(file))
        return dict(found)

    def links_of(self, file_ids: Sequence[str]) -> dict[str, list[FileEntityView]]:
        if not file_ids:
            return {}
        wanted = set(file_ids)
        links = [
            link
            for file in self._uow.workspace().files.values()
            for link in file.links
            if link.tenant_id == self._tenant_id and link.file_id in wanted
        ]
        links.sort(key=lambda link: (link.created_at, link.id))
        found: dict[str, list[FileEntityView]] = defaultdict(list)
        for link in links:
            found[link.file_id].append(
                FileEntityView(
                    id=link.id,
                    file_id=link.file_id,
                    entity_type=link.entity_type,
                    entity_id=link.entity_id,
                    created_at=link.created_at,
                )
            )
        return dict(found)


# --- invoicing: aggregates ------------------------------------------------------------------


class FakeClientRepository:
    def __init__(self, uow: FakeUnitOfWork, tenant_id: str) -> None:
        self._uow = uow
        self._tenant_id = tenant_id

    def add(self, client: Client) -> None:
        if client.tenant_id != self._tenant_id:
            raise PermissionError("a client of another tenant cannot be added here")
        self._uow.workspace().clients[client.id] = client

    def get(self, client_id: str) -> Client | None:
        client = self._uow.workspace().clients.get(client_id)
        return client if client is not None and client.tenant_id == self._tenant_id else None


def _take_next_value(uow: FakeUnitOfWork, tenant_id: str, series: str) -> int:
    counters = uow.workspace().counters
    counters[(tenant_id, series)] = counters.get((tenant_id, series), 0) + 1
    return counters[(tenant_id, series)]


class FakeInvoiceRepository:
    def __init__(self, uow: FakeUnitOfWork, tenant_id: str) -> None:
        self._uow = uow
        self._tenant_id = tenant_id

    def next_sequence(self) -> int:
        return _take_next_value(self._uow, self._tenant_id, "INVOICE")

    def number_taken(self, number: str) -> bool:
        return any(
            i.tenant_id == self._tenant_id and i.number == number for i in self._uow.workspace().invoices.values()
        )

    def add(self, invoice: Invoice) -> None:
        if invoice.tenant_id != self._tenant_id:
            raise PermissionError("an invoice of another tenant cannot be added here")
        self._uow.workspace().invoices[invoice.id] = invoice

    def get(self, invoice_id: str) -> Invoice | None:
        invoice = self._uow.workspace().invoices.get(invoice_id)
        return invoice if invoice is not None and invoice.tenant_id == self._tenant_id else None

    def get_for_update(self, invoice_id: str) -> Invoice | None:
        """Nothing to wait for (units of work on the fakes run one at a time), but as after a lock,
        what another unit of work committed meanwhile is read again, unless this one changed it."""
        work = self._uow.workspace()
        committed = self._uow.store.invoices.get(invoice_id)
        mine = work.invoices.get(invoice_id)
        if committed is not None and mine is not None and work.base_invoices.get(invoice_id) == _state(mine):
            work.invoices[invoice_id] = _copy_invoice(committed)
            work.base_invoices[invoice_id] = _state(work.invoices[invoice_id])
        return self.get(invoice_id)


    # --- the PAC (webhooks): mirrors SqlAlchemyInvoiceRepository ---

    def by_pac_document_id(self, document_id: str, *, for_update: bool = False) -> Invoice | None:
        mine = sorted(
            (i for i in self._uow.workspace().invoices.values()
             if i.tenant_id == self._tenant_id and i.pac_document_id == document_id),
            key=lambda i: i.created_at,
        )
        if not mine:
            return None
        return self.get_for_update(mine[0].id) if for_update else mine[0]

    def awaiting_pac(self, *, cutoff: datetime, limit: int) -> list[tuple[str, str]]:
        waiting = sorted(
            (
                i for i in self._uow.workspace().invoices.values()
                if i.tenant_id == self._tenant_id and i.pac_document_id is not None and i.voided_at is None
                and str(i.legal_status) in ("NONE", "PAC_AUTHORIZED")
                and (i.authorized_at or i.created_at) <= cutoff
            ),
            key=lambda i: (i.created_at, i.id),
        )
        return [(i.id, i.pac_document_id) for i in waiting[:limit]]


class FakeQuoteRepository:
    def __init__(self, uow: FakeUnitOfWork, tenant_id: str) -> None:
        self._uow = uow
        self._tenant_id = tenant_id

    def next_sequence(self) -> int:
        return _take_next_value(self._uow, self._tenant_id, "QUOTE")

    def number_taken(self, number: str) -> bool:
        return any(
            q.tenant_id == self._tenant_id and q.number == number for q in self._uow.workspace().quotes.values()
        )

    def add(self, quote: Quote) -> None:
        if quote.tenant_id != self._tenant_id:
            raise PermissionError("a quote of another tenant cannot be added here")
        self._uow.workspace().quotes[quote.id] = quote

    def get(self, quote_id: str) -> Quote | None:
        quote = self._uow.workspace().quotes.get(quote_id)
        return quote if quote is not None and quote.tenant_id == self._tenant_id else None


# --- invoicing: read side --------------------------------------------------------------------


class FakeClientReader:
    def __init__(self, uow: FakeUnitOfWork, tenant_id: str) -> None:
        self._uow = uow
        self._tenant_id = tenant_id

    def _clients(self) -> list[Client]:
        return [c for c in self._uow.workspace().clients.values() if c.tenant_id == self._tenant_id]

    def get(self, client_id: str) -> ClientView | None:
        return next((client_view(c) for c in self._clients() if c.id == client_id), None)

    def get_many(self, client_ids: Sequence[str]) -> list[ClientView]:
        wanted = set(client_ids)
        return [client_view(c) for c in self._clients() if c.id in wanted]

    def find(self, search: str | None, *, first: int, after: ClientCursor | None) -> list[ClientView]:
        found = self._clients()
        if search:
            found = [c for c in found if _contains(c.name, search) or (c.ruc is not None and _contains(c.ruc, search))]
        if after:
            found = [c for c in found if (c.created_at, c.id) < (after.created_at, after.client_id)]
        found.sort(key=lambda c: (c.created_at, c.id), reverse=True)
        return [client_view(c) for c in found[:first]]


class FakeInvoiceReader:
    def __init__(self, uow: FakeUnitOfWork, tenant_id: str) -> None:
        self._uow = uow
        self._tenant_id = tenant_id

    def _invoices(self) -> list[Invoice]:
        return [i for i in self._uow.workspace().invoices.values() if i.tenant_id == self._tenant_id]

    def get(self, invoice_id: str, *, today: date) -> InvoiceView | None:
        return next((invoice_view(i, today) for i in self._invoices() if i.id == invoice_id), None)

    def find(
        self,
        filter: InvoiceFilter,
        sort: InvoiceSort,
        *,
        today: date,
        first: int,
        after: InvoiceCursor | None,
    ) -> list[InvoiceView]:
        found = self._invoices()
        if filter.client_id is not None:
            found = [i for i in found if i.client_id == filter.client_id]
        if filter.statuses:
            found = [i for i in found if i.status(today) in filter.statuses]
        if filter.due_before is not None:
            found = [i for i in found if i.due_date < filter.due_before]
        if filter.due_after is not None:
            found = [i for i in found if i.due_date > filter.due_after]

        def key(invoice: Invoice) -> tuple[Any, str]:
            value = invoice.issue_date if sort.field is InvoiceSortField.DATE else invoice.balance
            return (value, invoice.id)

        descending = sort.direction is SortDirection.DESC
        if after is not None:
            mark = (after.key, after.invoice_id)
            found = [i for i in found if (key(i) < mark if descending else key(i) > mark)]
        found.sort(key=key, reverse=descending)
        return [invoice_view(i, today) for i in found[:first]]

    def statement_facts(
        self, client_id: str, currency: Currency, *, until: date
    ) -> tuple[list[StatementInvoice], list[StatementPayment]]:
        mine = sorted(
            (
                i
                for i in self._invoices()
                if i.client_id == client_id and i.currency == currency and i.issue_date <= until
            ),
            key=lambda i: (i.issue_date, i.id),
        )
        invoices = [
            StatementInvoice(
                invoice_id=i.id,
                number=i.number,
                issue_date=i.issue_date,
                due_date=i.due_date,
                total=i.total,
                voided=i.voided_at is not None,
            )
            for i in mine
        ]
        payments = sorted(
            (
                StatementPayment(
                    payment_id=p.id,
                    invoice_id=i.id,
                    paid_on=p.paid_on,
                    amount=p.amount,
                    method=str(p.method),
                    reference=p.reference,
                )
                for i in mine
                for p in i.payments
                if p.tenant_id == self._tenant_id and p.paid_on <= until
            ),
            key=lambda p: (p.paid_on, p.payment_id),
        )
        return invoices, payments


class FakeQuoteReader:
    def __init__(self, uow: FakeUnitOfWork, tenant_id: str) -> None:
        self._uow = uow
        self._tenant_id = tenant_id

    def _quotes(self) -> list[Quote]:
        return [q for q in self._uow.workspace().quotes.values() if q.tenant_id == self._tenant_id]

    def get(self, quote_id: str, *, today: date) -> QuoteView | None:
        return next((quote_view(q, today) for q in self._quotes() if q.id == quote_id), None)

    def find(
        self, filter: QuoteFilter, *, today: date, first: int, after: QuoteCursor | None
    ) -> list[QuoteView]:
        found = self._quotes()
        if filter.client_id is not None:
            found = [q for q in found if q.client_id == filter.client_id]
        if after is not None:
            found = [q for q in found if (q.issue_date, q.id) < (after.issue_date, after.quote_id)]
        found.sort(key=lambda q: (q.issue_date, q.id), reverse=True)
        return [quote_view(q, today) for q in found[:first]]


# --- pdf templates ---------------------------------------------------------------------------


class FakePdfTemplateRepository:
    def __init__(self, uow: FakeUnitOfWork, tenant_id: str) -> None:
        self._uow = uow
        self._tenant_id = tenant_id

    def _templates(self) -> list[PdfTemplate]:
        return [t for t in self._uow.workspace().pdf_templates.values() if t.tenant_id == self._tenant_id]

    def lock_document_type(self, document_type: DocumentType) -> None:
        self._uow.workspace()
        self._uow.store.template_locks.append((self._tenant_id, DocumentType(document_type)))

    def add(self, template: PdfTemplate) -> None:
        if template.tenant_id != self._tenant_id:
            raise PermissionError("a PDF template of another tenant cannot be added here")
        self._uow.workspace().pdf_templates[template.id] = template

    def get(self, template_id: str) -> PdfTemplate | None:
        return next((t for t in self._templates() if t.id == template_id), None)

    def default_for(self, document_type: DocumentType) -> PdfTemplate | None:
        return next((t for t in self._templates() if t.document_type == document_type and t.is_default), None)

    def save(self, template: PdfTemplate) -> None:
        """Nothing to write early: the fake checks the unique default on the state at commit."""
        if template.tenant_id != self._tenant_id:
            raise PermissionError("a PDF template of another tenant cannot be saved here")
        self._uow.workspace()

    def delete(self, template: PdfTemplate) -> None:
        if template.tenant_id != self._tenant_id:
            raise PermissionError("a PDF template of another tenant cannot be deleted here")
        work = self._uow.workspace()
        if work.pdf_templates.pop(template.id, None) is not None:
            work.deleted_templates[template.id] = template


class FakePdfTemplateReader:
    def __init__(self, uow: FakeUnitOfWork, tenant_id: str) -> None:
        self._uow = uow
        self._tenant_id = tenant_id

    def _views(self, keep: Callable[[PdfTemplate], bool]) -> list[PdfTemplateView]:
        found = [
            t for t in self._uow.workspace().pdf_templates.values() if t.tenant_id == self._tenant_id and keep(t)
        ]
        found.sort(key=lambda t: (str(t.document_type), not t.is_default, t.created_at, t.id))
        return [pdf_template_view(t) for t in found]

    def get(self, template_id: str) -> PdfTemplateView | None:
        return next(iter(self._views(lambda t: t.id == template_id)), None)

    def default_for(self, document_type: DocumentType) -> PdfTemplateView | None:
        return next(iter(self._views(lambda t: t.document_type == document_type and t.is_default)), None)

    def find(self, document_type: DocumentType | None) -> list[PdfTemplateView]:
        return self._views(lambda t: document_type is None or t.document_type == document_type)


# --- jobs -------------------------------------------------------------------------------------


class FakeJobOutbox:
    """Mirrors ``SqlAlchemyJobOutbox``: queued with the unit of work, deduplicated by (kind, key)."""

    def __init__(self, uow: FakeUnitOfWork, tenant_id: str | None, clock: Clock, max_attempts: int = 8) -> None:
        self._uow = uow
        self._tenant_id = tenant_id
        self._clock = clock
        self._max_attempts = max_attempts

    def enqueue(
        self,
        kind: str,
        payload: Any = None,
        *,
        tenant_id: str | None = None,
        idempotency_key: str | None = None,
        run_at: datetime | None = None,
        max_attempts: int | None = None,
    ) -> str:
        work = self._uow.workspace()
        if self._tenant_id is not None:
            if tenant_id not in (None, self._tenant_id):
                raise PermissionError("a job of another tenant cannot be queued here")
            tenant_id = self._tenant_id
        if idempotency_key is not None:
            for job in [*self._uow.store.jobs.values(), *work.new_jobs.values()]:
                if (job.kind, job.idempotency_key) == (kind, idempotency_key):
                    return job.id
        now = self._clock.now()
        job = Job(
            id=new_id(), tenant_id=tenant_id, kind=kind, payload=dict(payload or {}),
            idempotency_key=idempotency_key, max_attempts=max_attempts or self._max_attempts,
            run_at=run_at or now, created_at=now, updated_at=now,
        )
        work.new_jobs[job.id] = job
        return job.id
