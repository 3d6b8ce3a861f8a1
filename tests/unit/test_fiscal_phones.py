"""Issue 18: WhatsApp numbers must be mobile numbers. The adapter (libphonenumber's metadata)
refuses a Panamanian landline with INVALID_PHONE naming the field, and other numbers WhatsApp
cannot reach; mobile numbers of Panama and elsewhere pass, as do numbers a country's plan does
not tell apart (the US)."""

from __future__ import annotations

import pytest

from adapters.phones.libphonenumber import LibPhoneNumbers
from domain.invoicing.errors import InvalidPhone
from tests.fakes.whatsapp import FakePhoneNumbers


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("264-1234", "a landline"),
        ("+507 264-1234", "a landline"),
        ("00507 264 1234", "a landline"),
        ("+44 20 7946 0958", "a landline"),
        ("+507 800-1234", "a toll-free number"),
    ],
)
def test_numbers_whatsapp_cannot_reach_are_refused_naming_the_field(raw: str, kind: str) -> None:
    with pytest.raises(InvalidPhone) as refused:
        LibPhoneNumbers().normalize(raw, field="phone")
    assert refused.value.field == "phone" and refused.value.code == "INVALID_PHONE"
    assert kind in refused.value.message and "mobile" in refused.value.message


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("6123-4567", "+50761234567"),
        ("+507 6123-4567", "+50761234567"),
        ("+44 7911 123456", "+447911123456"),
        ("+1 650 253 0000", "+16502530000"),  # the US plan does not tell mobiles apart
    ],
)
def test_mobile_numbers_pass(raw: str, e164: str) -> None:
    assert LibPhoneNumbers().normalize(raw, field="phone") == e164


@pytest.mark.parametrize("raw", ["264-1234", "+507 264-1234"])
def test_the_fake_refuses_a_panamanian_landline_too(raw: str) -> None:
    with pytest.raises(InvalidPhone):
        FakePhoneNumbers().normalize(raw, field="phone")
    assert FakePhoneNumbers().normalize("6123-4567", field="phone") == "+50761234567"
