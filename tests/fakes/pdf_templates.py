"""In-memory PDF templates with the semantics of ``adapters.db.pdf_templates`` (checked by
``tests/integration/test_pdf_template_store_contract.py``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from application.pdf_templates.handlers import pdf_template_view
from application.pdf_templates.views import PdfTemplateView
from domain.pdf.layout import DocumentType
from domain.pdf_templates.model import PdfTemplate
from domain.shared.model import Aggregate
from tests.fakes.state import FakeDomain, FakeRepository, States, snapshot, unique, values

if TYPE_CHECKING:
    from tests.fakes.uow import FakeUnitOfWork

_TEMPLATE_FIELDS = (
    "id", "tenant_id", "document_type", "name", "is_default", "logo_file_id", "primary_color", "secondary_color",
    "header_text", "footer_disclaimer", "paper_size", "locale", "custom_css", "custom_body_template", "version",
    "created_at", "updated_at",
)


def _copy_template(template: PdfTemplate) -> PdfTemplate:
    return PdfTemplate(**values(template, _TEMPLATE_FIELDS))


@dataclass
class PdfTemplatesState:
    pdf_templates: dict[str, PdfTemplate] = field(default_factory=dict)
    deleted_templates: dict[str, PdfTemplate] = field(default_factory=dict)
    """A copy's templates deleted since it last committed (their events are still to publish)."""
    template_locks: list[tuple[str, DocumentType]] = field(default_factory=list)
    """Every (tenant, document type) lock taken, in order (committed state only)."""

    def checkout(self) -> PdfTemplatesState:
        work = PdfTemplatesState(
            pdf_templates={key: _copy_template(value) for key, value in self.pdf_templates.items()}
        )
        work._rebase()
        return work

    def _rebase(self) -> None:
        self.deleted_templates.clear()
        self._base = {key: snapshot(template) for key, template in self.pdf_templates.items()}

    def _changes(self) -> tuple[list[PdfTemplate], list[str]]:
        changed = [t for key, t in self.pdf_templates.items() if self._base.get(key) != snapshot(t)]
        removed = [key for key in self._base if key not in self.pdf_templates]
        return changed, removed

    def check(self, work: PdfTemplatesState, store: States, workspace: States) -> None:
        """The partial unique index of defaults, and the tenants' foreign key."""
        changed, removed = work._changes()
        after = {**self.pdf_templates, **{t.id: t for t in changed}}
        for key in removed:
            after.pop(key, None)
        unique(
            "pdf_templates(tenant_id, document_type) WHERE is_default",
            ((t.tenant_id, DocumentType(t.document_type)) for t in after.values() if t.is_default),
        )
        tenants = {**store.tenants, **workspace.tenants}
        for template in changed:
            if template.tenant_id not in tenants:
                raise LookupError(f"pdf_templates.tenant_id: no tenant {template.tenant_id} (foreign key)")

    def apply(self, work: PdfTemplatesState) -> None:
        changed, removed = work._changes()
        for template in changed:
            self.pdf_templates[template.id] = _copy_template(template)
        for template_id in removed:
            self.pdf_templates.pop(template_id, None)
        work._rebase()

    def aggregates(self) -> Iterable[Aggregate]:
        yield from self.pdf_templates.values()
        yield from self.deleted_templates.values()

    def templates_of(self, tenant_id: str) -> list[PdfTemplate]:
        return [template for template in self.pdf_templates.values() if template.tenant_id == tenant_id]


class _Bound:
    def __init__(self, uow: FakeUnitOfWork, tenant_id: str) -> None:
        self._uow = uow
        self._tenant_id = tenant_id

    @property
    def _state(self) -> PdfTemplatesState:
        return self._uow.workspace().state("pdf_templates")  # type: ignore[return-value]


class FakePdfTemplateRepository(_Bound):
    def _templates(self) -> list[PdfTemplate]:
        return [t for t in self._state.pdf_templates.values() if t.tenant_id == self._tenant_id]

    def lock_document_type(self, document_type: DocumentType) -> None:
        self._uow.workspace()
        self._uow.store.template_locks.append((self._tenant_id, DocumentType(document_type)))

    def add(self, template: PdfTemplate) -> None:
        if template.tenant_id != self._tenant_id:
            raise PermissionError("a PDF template of another tenant cannot be added here")
        self._state.pdf_templates[template.id] = template

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
        state = self._state
        if state.pdf_templates.pop(template.id, None) is not None:
            state.deleted_templates[template.id] = template


class FakePdfTemplateReader(_Bound):
    def _views(self, keep: Callable[[PdfTemplate], bool]) -> list[PdfTemplateView]:
        found = [
            t for t in self._state.pdf_templates.values() if t.tenant_id == self._tenant_id and keep(t)
        ]
        found.sort(key=lambda t: (str(t.document_type), not t.is_default, t.created_at, t.id))
        return [pdf_template_view(t) for t in found]

    def get(self, template_id: str) -> PdfTemplateView | None:
        return next(iter(self._views(lambda t: t.id == template_id)), None)

    def default_for(self, document_type: DocumentType) -> PdfTemplateView | None:
        return next(iter(self._views(lambda t: t.document_type == document_type and t.is_default)), None)

    def find(self, document_type: DocumentType | None) -> list[PdfTemplateView]:
        return self._views(lambda t: document_type is None or t.document_type == document_type)


FAKE_DOMAIN = FakeDomain(
    name="pdf_templates",
    state=PdfTemplatesState,
    repositories={
        "pdf_templates": FakeRepository(lambda uow: FakePdfTemplateRepository(uow, uow.tenant)),
        "pdf_template_views": FakeRepository(lambda uow: FakePdfTemplateReader(uow, uow.tenant)),
    },
)
