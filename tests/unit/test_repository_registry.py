"""The unit of work's repository registry: assembled from the domains' modules, each repository
offered by binding, and the fakes offering theirs with the same bindings as the real ones."""

from __future__ import annotations

import pytest

from adapters.db.modules import REPOSITORIES
from adapters.db.registry import Binding, DbModule, Repository, repository_registry
from tests.fakes.modules import FAKE_REPOSITORIES


def test_a_repository_registered_by_two_modules_is_refused_at_start_up() -> None:
    def entry() -> Repository:
        return Repository(lambda scope: object())

    one = DbModule(name="one", repositories={"things": entry()})
    two = DbModule(name="two", repositories={"things": entry()})
    with pytest.raises(RuntimeError, match="uow.things.*one.*two"):
        repository_registry([one, two])


@pytest.mark.parametrize(
    ("binding", "with_tenant", "without_tenant"),
    [(Binding.TENANT, True, False), (Binding.ANY, True, True), (Binding.SYSTEM, False, True)],
)
def test_a_binding_says_which_units_of_work_offer_a_repository(
    binding: Binding, with_tenant: bool, without_tenant: bool
) -> None:
    assert binding.offered("t1") is with_tenant
    assert binding.offered(None) is without_tenant


def test_system_work_sees_the_directories_and_the_inbox_but_no_tenant_s_records() -> None:
    across = {name for name, repository in REPOSITORIES.items() if repository.binding.offered(None)}
    assert across == {
        "tenants", "jobs", "webhook_events", "webhook_event_views", "pac_settings",
        "whatsapp_directory", "aurinko_directory", "stale_emails", "stale_whatsapps", "quickbooks_directory",
        "signing_links",  # a signing link's token hash -> its tenant and request (the link is the credential)
        "signature_chain_heads",  # the daily timestamp of every tenant's audit chain head
    }
    tenant_less = {name for name, repository in REPOSITORIES.items() if not repository.binding.offered("t1")}
    assert tenant_less == {
        "aurinko_directory", "stale_emails", "stale_whatsapps", "quickbooks_directory", "signature_chain_heads",
    }


def test_the_fakes_offer_their_repositories_with_the_real_bindings() -> None:
    assert set(FAKE_REPOSITORIES) <= set(REPOSITORIES)
    for name, fake in FAKE_REPOSITORIES.items():
        assert fake.binding is REPOSITORIES[name].binding, name
