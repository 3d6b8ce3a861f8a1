"""Issue 18, the tenant's fiscal profile: validated like a client's RUC and DV, replaced whole by
owners and admins, the tenant's own; and what the documents print about their issuer."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from application.invoicing.profiles import GetTenantProfile, UpdateTenantProfile
from application.pdf.documents import Party
from application.pdf.mapping import issuer_party
from domain.invoicing.errors import InvalidDv, InvalidPhone, InvalidRuc
from domain.invoicing.issuer import MAX_PAYMENT_TERMS_DAYS, Province
from domain.shared.email import InvalidEmail
from domain.shared.errors import InvalidInput, PermissionDenied
from domain.tenancy.model import Actor, Role
from tests.unit.test_invoicing_handlers import TODAY, World, nothing_written

PROFILE: dict[str, Any] = {
    "legal_name": "Ferretería El Istmo, S.A.",
    "trade_name": "El Istmo",
    "taxpayer_type": "JURIDICO",
    "ruc": "155612345-2-2021",
    "dv": "45",
    "address": "Vía España, Torre Sol, Local 3",
    "province": "PANAMA",
    "phone": "+507 264-0000",
    "email": "Facturas@ElIstmo.com.pa",
    "website": "www.elistmo.com.pa",
    "payment_terms_days": 30,
    "payment_instructions": "Banco General, cuenta corriente 03-01-01-123456-7\nYappy: 6000-0000",
    "currency": "USD",
}


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def acme(world: World) -> Actor:
    return world.tenant("acme")


def save(world: World, actor: Actor, **kw: Any) -> Any:
    return world.bus.handle(UpdateTenantProfile(actor=actor, **{**PROFILE, **kw}))


def test_a_tenant_has_no_profile_until_one_is_saved_then_reads_it_back(world: World, acme: Actor) -> None:
    assert world.bus.handle(GetTenantProfile(actor=acme)) is None
    saved = save(world, acme)
    assert (saved.legal_name, saved.ruc, saved.dv, saved.email, saved.province) == (
        "Ferretería El Istmo, S.A.", "155612345-2-2021", "45", "facturas@elistmo.com.pa", Province.PANAMA,
    )
    assert world.bus.handle(GetTenantProfile(actor=acme)) == saved
    again = save(world, acme, legal_name="El Istmo Dos, S.A.", trade_name=None, province=None)
    assert (again.legal_name, again.trade_name, again.province) == ("El Istmo Dos, S.A.", None, None)
    assert world.bus.handle(GetTenantProfile(actor=acme)) == again


def test_another_tenant_sees_only_its_own_profile(world: World, acme: Actor) -> None:
    save(world, acme)
    globex = world.tenant("globex")
    assert world.bus.handle(GetTenantProfile(actor=globex)) is None
    save(world, globex, legal_name="Globex, S.A.")
    assert world.bus.handle(GetTenantProfile(actor=acme)).legal_name == "Ferretería El Istmo, S.A."


def test_only_owners_and_admins_change_it(world: World, acme: Actor) -> None:
    member = Actor(tenant_id=acme.tenant_id, user_id="m@acme.pa", role=Role.MEMBER)
    with nothing_written(world), pytest.raises(PermissionDenied):
        save(world, member)
    admin = Actor(tenant_id=acme.tenant_id, user_id="a@acme.pa", role=Role.ADMIN)
    assert save(world, admin).legal_name == PROFILE["legal_name"]


@pytest.mark.parametrize(
    ("change", "error", "field"),
    [
        ({"ruc": ""}, InvalidRuc, "ruc"),
        ({"ruc": "155612345--2"}, InvalidRuc, "ruc"),
        ({"ruc": "1.2.3"}, InvalidRuc, "ruc"),
        ({"ruc": "1" * 31}, InvalidRuc, "ruc"),
        ({"ruc": "١٥٥٦"}, InvalidRuc, "ruc"),  # Arabic-Indic digits are not a RUC
        ({"dv": ""}, InvalidDv, "dv"),
        ({"dv": "123"}, InvalidDv, "dv"),
        ({"dv": "4\x005"}, InvalidDv, "dv"),
        ({"taxpayer_type": "CONSUMIDOR_FINAL"}, InvalidInput, "taxpayerType"),
        ({"taxpayer_type": "SOCIEDAD"}, InvalidInput, "taxpayerType"),
        ({"legal_name": "  "}, InvalidInput, "legalName"),
        ({"legal_name": "x" * 201}, InvalidInput, "legalName"),
        ({"address": ""}, InvalidInput, "address"),
        ({"address": "x" * 501}, InvalidInput, "address"),
        ({"province": "MIAMI"}, InvalidInput, "province"),
        ({"phone": "264-12a4"}, InvalidPhone, "phone"),
        ({"email": "facturas@elistmo"}, InvalidEmail, "email"),
        ({"website": "not a site"}, InvalidInput, "website"),
        ({"website": "www..elistmo.pa"}, InvalidInput, "website"),
        ({"payment_terms_days": -1}, InvalidInput, "paymentTermsDays"),
        ({"payment_terms_days": MAX_PAYMENT_TERMS_DAYS + 1}, InvalidInput, "paymentTermsDays"),
        ({"payment_terms_days": True}, InvalidInput, "paymentTermsDays"),
        ({"payment_instructions": "x" * 1001}, InvalidInput, "paymentInstructions"),
        ({"currency": "EUR"}, InvalidInput, "currency"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(
    world: World, acme: Actor, change: dict[str, Any], error: type[Exception], field: str
) -> None:
    with nothing_written(world), pytest.raises(error) as refused:
        save(world, acme, **change)
    assert refused.value.field == field  # type: ignore[attr-defined]
    assert world.bus.handle(GetTenantProfile(actor=acme)) is None


def test_limits_are_inclusive_and_control_characters_never_reach_the_profile(world: World, acme: Actor) -> None:
    saved = save(
        world, acme, legal_name="x" * 200, address="a" * 500, payment_terms_days=MAX_PAYMENT_TERMS_DAYS,
        payment_instructions="p" * 1000, ruc="1" * 30, dv="1", trade_name="Tab\there\x07",
    )
    assert (len(saved.legal_name), len(saved.address), saved.payment_terms_days) == (200, 500, 365)
    assert saved.trade_name == "Tab here"
    assert save(world, acme, payment_terms_days=0).payment_terms_days == 0


def test_payment_terms_set_the_due_date_of_an_invoice_given_none(world: World, acme: Actor) -> None:
    assert world.invoice(acme).due_date == TODAY
    save(world, acme, payment_terms_days=30)
    assert world.invoice(acme).due_date == TODAY + timedelta(days=30)
    assert world.invoice(acme, due_date=date(2027, 1, 1)).due_date == date(2027, 1, 1)


def test_the_issuer_block_prints_the_profile_with_its_province(world: World, acme: Actor) -> None:
    party = issuer_party(save(world, acme))
    assert party == Party(
        name="Ferretería El Istmo, S.A.", trade_name="El Istmo", ruc="155612345-2-2021", dv="45",
        address="Vía España, Torre Sol, Local 3, Panamá", email="facturas@elistmo.com.pa",
        phone="+507 264-0000", website="www.elistmo.com.pa",
    )
    same = issuer_party(save(world, acme, address="Calle 50, Panamá", province="PANAMA"))
    assert same.address == "Calle 50, Panamá"  # the province is not printed twice
