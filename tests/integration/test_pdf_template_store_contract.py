"""One contract for the PDF template repository and reader of the unit of work.

It runs against the in-memory fakes (``tests/fakes/pdf_templates.py``) and against the SQLAlchemy adapters
on SQLite and PostgreSQL, so the fakes the unit tests rely on cannot drift from the real thing.
Views are compared by ``repr``: a plain string instead of an enum is a difference.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from adapters.db.uow import SqlAlchemyUnitOfWork
from application.pdf_templates.handlers import pdf_template_view
from application.shared.ports import DuplicateEntry, UnitOfWork
from domain.pdf.layout import DocumentType, Locale, PaperSize
from domain.pdf_templates.model import PdfTemplate, PdfTemplateCreated, PdfTemplateDeleted, TemplateDesign
from domain.tenancy.model import Tenant
from tests.fakes.clock import FakeClock
from tests.fakes.uow import FakeStore, fake_uow_factory

T0 = datetime(2026, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)
DESIGN = TemplateDesign(
    logo_file_id=str(uuid.uuid4()),
    primary_color="#0B5394",
    secondary_color="#6FA8DC",
    header_text="Ferretería El Istmo",
    footer_disclaimer="Gracias por su compra.\nConserve este documento.",
    paper_size=PaperSize.LETTER,
    locale=Locale.EN,
    custom_css="p { color: red }",
    custom_body_template="<h1>{{ doc.number }}</h1>",
)


@dataclass
class Backend:
    name: str
    uow: Callable[[str | None], UnitOfWork]

    def tenant(self, slug: str) -> str:
        with self.uow(None) as uow:
            tenant = Tenant.create(slug=slug, name=slug.title(), now=T0)
            uow.tenants.add(tenant)
            uow.commit()
        return tenant.id

    def keep(self, tenant_id: str, *templates: PdfTemplate) -> list[PdfTemplate]:
        with self.uow(tenant_id) as uow:
            for template in templates:
                uow.pdf_templates.add(template)
            uow.commit()
        return list(templates)


def new_template(
    tenant_id: str,
    name: str = "Facturas",
    *,
    document_type: DocumentType = DocumentType.INVOICE,
    default: bool = False,
    at: datetime = T0,
    design: TemplateDesign = TemplateDesign(),
) -> PdfTemplate:
    return PdfTemplate.create(
        tenant_id=tenant_id, document_type=document_type, name=name, is_default=default, design=design, now=at
    )


def ids(views: list[object]) -> list[str]:
    return [view.id for view in views]  # type: ignore[attr-defined]


class PdfTemplateStoreContract:
    @pytest.fixture
    def backend(self) -> Backend:
        raise NotImplementedError

    @pytest.fixture
    def acme(self, backend: Backend) -> str:
        return backend.tenant("acme")

    @pytest.fixture
    def globex(self, backend: Backend) -> str:
        return backend.tenant("globex")

    def test_a_committed_template_reads_back_exactly(self, backend: Backend, acme: str) -> None:
        template = backend.keep(acme, new_template(acme, default=True, design=DESIGN))[0]
        with backend.uow(acme) as uow:
            assert repr(uow.pdf_template_views.get(template.id)) == repr(pdf_template_view(template))
            assert repr(uow.pdf_template_views.default_for(DocumentType.INVOICE)) == repr(pdf_template_view(template))
            loaded = uow.pdf_templates.get(template.id)
            assert repr(pdf_template_view(loaded)) == repr(pdf_template_view(template))
            assert loaded.design == DESIGN

    def test_templates_are_the_tenants_own(self, backend: Backend, acme: str, globex: str) -> None:
        mine = backend.keep(acme, new_template(acme, default=True))[0]
        theirs = backend.keep(globex, new_template(globex, default=True))[0]
        with backend.uow(acme) as uow:
            assert uow.pdf_templates.get(theirs.id) is None
            assert uow.pdf_template_views.get(theirs.id) is None
            assert uow.pdf_templates.default_for(DocumentType.INVOICE).id == mine.id
            assert uow.pdf_template_views.default_for(DocumentType.INVOICE).id == mine.id
            assert ids(uow.pdf_template_views.find(None)) == [mine.id]
            with pytest.raises(PermissionError):
                uow.pdf_templates.add(new_template(globex))

    def test_find_by_type_the_default_first_then_oldest_first(self, backend: Backend, acme: str) -> None:
        later = new_template(acme, "B", at=T0 + timedelta(seconds=2))
        earlier = new_template(acme, "C", at=T0 + timedelta(seconds=1))
        default = new_template(acme, "Z", default=True, at=T0 + timedelta(seconds=3))
        quote = new_template(acme, "A", document_type=DocumentType.QUOTE)
        statement = new_template(acme, "S", document_type=DocumentType.STATEMENT, default=True)
        backend.keep(acme, later, earlier, default, quote, statement)
        with backend.uow(acme) as uow:
            assert ids(uow.pdf_template_views.find(DocumentType.INVOICE)) == [default.id, earlier.id, later.id]
            assert ids(uow.pdf_template_views.find(None)) == [default.id, earlier.id, later.id, quote.id, statement.id]
            assert uow.pdf_template_views.find(DocumentType.REPORT) == []
            assert uow.pdf_template_views.default_for(DocumentType.QUOTE) is None
            assert uow.pdf_templates.default_for(DocumentType.QUOTE) is None

    def test_at_most_one_default_per_tenant_and_type(self, backend: Backend, acme: str, globex: str) -> None:
        backend.keep(acme, new_template(acme, default=True))
        backend.keep(acme, new_template(acme, document_type=DocumentType.QUOTE, default=True))
        backend.keep(globex, new_template(globex, default=True))
        backend.keep(acme, new_template(acme), new_template(acme))  # any number that are not the default
        with pytest.raises(DuplicateEntry):
            backend.keep(acme, new_template(acme, "Segunda", default=True))
        with backend.uow(acme) as uow:
            assert [v.name for v in uow.pdf_template_views.find(DocumentType.INVOICE) if v.is_default] == ["Facturas"]

    @pytest.mark.parametrize("new_sorts_first", [True, False])
    def test_the_default_is_handed_over_in_one_transaction(
        self, backend: Backend, acme: str, new_sorts_first: bool
    ) -> None:
        """Whatever order the rows are written in, the old default gives up its flag first (``save``)."""
        low, high = sorted([new_template(acme, "X"), new_template(acme, "Y")], key=lambda t: t.id)
        old, new = (high, low) if new_sorts_first else (low, high)
        old.is_default = True
        backend.keep(acme, old, new)
        with backend.uow(acme) as uow:
            uow.pdf_templates.lock_document_type(DocumentType.INVOICE)
            chosen = uow.pdf_templates.get(new.id)
            current = uow.pdf_templates.default_for(DocumentType.INVOICE)
            current.give_up_default(now=T0 + timedelta(hours=1))
            uow.pdf_templates.save(current)
            chosen.update(
                expected_version=1, name=chosen.name, is_default=True, design=chosen.design, now=T0 + timedelta(hours=1)
            )
            uow.commit()
        with backend.uow(acme) as uow:
            views = {v.id: v for v in uow.pdf_template_views.find(None)}
        assert (views[new.id].is_default, views[new.id].version) == (True, 2)
        assert (views[old.id].is_default, views[old.id].version) == (False, 2)
        assert views[old.id].updated_at == T0 + timedelta(hours=1)

    def test_nothing_is_kept_without_a_commit(self, backend: Backend, acme: str) -> None:
        template = backend.keep(acme, new_template(acme, default=True))[0]
        with backend.uow(acme) as uow:
            uow.pdf_templates.lock_document_type(DocumentType.INVOICE)
            loaded = uow.pdf_templates.get(template.id)
            loaded.give_up_default(now=T0)
            uow.pdf_templates.save(loaded)
        with backend.uow(acme) as uow:
            view = uow.pdf_template_views.get(template.id)
        assert (view.is_default, view.version) == (True, 1)

    def test_a_deleted_template_is_gone_and_its_events_are_published(self, backend: Backend, acme: str) -> None:
        template = new_template(acme, default=True)
        uow = backend.uow(acme)
        with uow:
            uow.pdf_templates.add(template)
            uow.commit()
        assert [type(e) for e in uow.collect_events()] == [PdfTemplateCreated]
        with uow:
            loaded = uow.pdf_templates.get(template.id)
            loaded.delete()
            uow.pdf_templates.delete(loaded)
            uow.commit()
        assert uow.collect_events() == [PdfTemplateDeleted(tenant_id=acme, template_id=template.id)]
        with backend.uow(acme) as uow:
            assert uow.pdf_templates.get(template.id) is None
            assert uow.pdf_template_views.default_for(DocumentType.INVOICE) is None
        backend.keep(acme, new_template(acme, "Nueva", default=True))  # the default is free again


class TestFakePdfTemplateStore(PdfTemplateStoreContract):
    @pytest.fixture
    def backend(self) -> Backend:
        clock = FakeClock(T0)
        return Backend("fake", fake_uow_factory(FakeStore(), clock))


class TestSqlAlchemyPdfTemplateStore(PdfTemplateStoreContract):
    @pytest.fixture
    def backend(self, engine: Engine) -> Iterator[Backend]:
        clock = FakeClock(T0)
        sessions = sessionmaker(bind=engine, expire_on_commit=False)
        yield Backend(
            engine.dialect.name,
            lambda tenant_id: SqlAlchemyUnitOfWork(tenant_id, session_factory=sessions, clock=clock),
        )
