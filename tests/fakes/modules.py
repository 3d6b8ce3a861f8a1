"""The fakes of every domain, from one list (as ``adapters.db.modules``): the states the fake store
holds and the repositories a ``FakeUnitOfWork`` builds from them."""

from __future__ import annotations

from tests.fakes import files, invoicing, jobs, messaging, pdf_templates, tenancy, webhooks
from tests.fakes.state import FakeDomain, FakeRepository, exposed_attributes

FAKE_DOMAINS: tuple[FakeDomain, ...] = (
    tenancy.FAKE_DOMAIN,
    files.FAKE_DOMAIN,
    invoicing.FAKE_DOMAIN,
    pdf_templates.FAKE_DOMAIN,
    jobs.FAKE_DOMAIN,
    webhooks.FAKE_DOMAIN,
    messaging.WHATSAPP,
    messaging.EMAILS,
)


def _repositories() -> dict[str, FakeRepository]:
    found: dict[str, FakeRepository] = {}
    for domain in FAKE_DOMAINS:
        for name, repository in domain.repositories.items():
            if name in found:
                raise RuntimeError(f"`uow.{name}` is registered by two fake domains")
            found[name] = repository
    return found


FAKE_REPOSITORIES = _repositories()
EXPOSED = exposed_attributes(FAKE_DOMAINS)
