"""PDF templates under concurrency, with the real container on SQLite and on PostgreSQL.

Templates made the default at once end with exactly one default of their type; updates racing
from the same version end with exactly one of them applied, the others refused as stale. What
makes this hold: the per-(tenant, document type) lock (``lock_document_type``) held until the
transaction ends, the read again under it, and the partial unique index behind both.
"""

from __future__ import annotations

from application.pdf_templates.commands import CreatePdfTemplate, FindPdfTemplates, UpdatePdfTemplate
from domain.pdf_templates.model import PdfTemplateInput, StaleVersion
from tests.conftest import Service
from tests.integration.test_invoicing_concurrency import THREADS, _actor, _race


def test_templates_made_the_default_at_once_leave_exactly_one_default(service: Service) -> None:
    acme = _actor(service.tenant("acme"))
    bus = service.container.bus()

    def create(index: int) -> object:
        template = PdfTemplateInput(name=f"Plantilla {index}", is_default=True)
        return bus.handle(CreatePdfTemplate(actor=acme, document_type="INVOICE", template=template))

    outcomes = _race([lambda index=index: create(index) for index in range(THREADS)])

    assert [o for o in outcomes if isinstance(o, Exception)] == []
    templates = bus.handle(FindPdfTemplates(actor=acme, document_type="INVOICE"))
    assert len(templates) == THREADS
    assert sum(t.is_default for t in templates) == 1
    # every template that lost the default was changed once more: 1 + 1
    assert sorted(t.version for t in templates) == [1] + [2] * (THREADS - 1)


def test_updates_racing_from_one_version_apply_once_and_refuse_the_rest(service: Service) -> None:
    acme = _actor(service.tenant("acme"))
    bus = service.container.bus()
    created = bus.handle(
        CreatePdfTemplate(actor=acme, document_type="QUOTE", template=PdfTemplateInput(name="Original"))
    )

    def update(index: int) -> object:
        template = PdfTemplateInput(name=f"Edición {index}", is_default=index % 2 == 0)
        return bus.handle(UpdatePdfTemplate(actor=acme, template_id=created.id, version=1, template=template))

    outcomes = _race([lambda index=index: update(index) for index in range(THREADS)])

    applied = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(applied) == 1
    assert all(isinstance(o, StaleVersion) for o in outcomes if isinstance(o, Exception))
    [final] = bus.handle(FindPdfTemplates(actor=acme, document_type="QUOTE"))
    assert (final.version, final.name, final.is_default) == (2, applied[0].name, applied[0].is_default)
