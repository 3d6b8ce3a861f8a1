"""Issue 18: the CLI's ``--tenant`` takes a slug or an id everywhere, an unknown one is an error
(it used to list nothing, silently), and ``istmo tenants list`` lists them."""

from __future__ import annotations

import json

import jwt

from tests.integration.test_cli import Cli, cli, migrated  # noqa: F401 - fixtures


def test_tenants_list_prints_each_tenant_by_slug(migrated: Cli) -> None:
    assert migrated.ok("tenants", "list").stdout == ""
    migrated.ok("tenants", "create", "zeta", "--name", "Zeta, S.A.")
    migrated.ok("tenants", "create", "acme", "--name", "Acme")
    listed = [json.loads(line) for line in migrated.ok("tenants", "list").stdout.splitlines()]
    assert [(t["slug"], t["name"], t["deleted"]) for t in listed] == [("acme", "Acme", False), ("zeta", "Zeta, S.A.", False)]
    assert all(len(t["id"]) == 36 for t in listed)


def test_token_takes_the_tenants_id_as_well_as_its_slug(migrated: Cli) -> None:
    created = migrated.ok("tenants", "create", "acme", "--name", "Acme")
    tenant_id = created.stderr.strip().rsplit("(", 1)[1].rstrip(")")
    secret = (migrated.data_dir / "jwt-secret").read_text().strip()
    by_id = jwt.decode(migrated.ok("token", "--tenant", tenant_id).stdout.strip(), secret, algorithms=["HS256"])
    by_slug = jwt.decode(migrated.ok("token", "--tenant", "ACME ").stdout.strip(), secret, algorithms=["HS256"])
    assert by_id["org_id"] == by_slug["org_id"] == "acme"
    unknown = migrated.fails("token", "--tenant", "3f1d7e8a-0000-4000-8000-000000000000")
    assert "no tenant has the slug or id '3f1d7e8a-0000-4000-8000-000000000000'" in unknown.stderr


def test_webhooks_take_a_slug_or_an_id_and_refuse_an_unknown_tenant(migrated: Cli) -> None:
    created = migrated.ok("tenants", "create", "acme", "--name", "Acme")
    tenant_id = created.stderr.strip().rsplit("(", 1)[1].rstrip(")")
    assert migrated.ok("webhooks", "list", "--tenant", "acme").stdout == ""
    assert migrated.ok("webhooks", "list", "--tenant", tenant_id).stdout == ""
    for command in (("webhooks", "list"), ("webhooks", "replay", "--status", "FAILED")):
        failed = migrated.fails(*command, "--tenant", "ghost")
        assert "NOT_FOUND: no tenant has the slug or id 'ghost'" in failed.stderr
