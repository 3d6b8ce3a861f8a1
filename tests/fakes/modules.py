"""The fakes of every domain, found by the names of ``application.modules.DOMAINS`` (as
``adapters.db.modules`` finds the real ones): the states the fake store holds and the repositories
a ``FakeUnitOfWork`` builds from them (each ``tests/fakes/<domain>.py`` with a ``FAKE_DOMAIN``)."""

from __future__ import annotations

from application.modules import DOMAINS
from application.shared.modules import domain_parts
from tests.fakes.state import FakeDomain, FakeRepository, exposed_attributes

FAKE_DOMAINS: tuple[FakeDomain, ...] = tuple(
    part.FAKE_DOMAIN
    for _, part in domain_parts("tests.fakes.{domain}", DOMAINS)
    if hasattr(part, "FAKE_DOMAIN")
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
