"""``LibPhoneNumbers``: phone numbers to E.164 with ``phonenumbers`` (Google's libphonenumber metadata).

Why an adapter: the dependency rule keeps third-party libraries out of ``domain`` and
``application`` (import-linter forbids ``phonenumbers`` there); the application sees the
``PhoneNumbers`` port, and the domain only checks the E.164 shape of what it is given.
"""

from __future__ import annotations

import phonenumbers

from domain.invoicing.errors import InvalidPhone

MAX_INPUT = 40
# What WhatsApp cannot reach (issue 18: a Panamanian landline, 264-1234, was taken as a number).
_NOT_MOBILE = {
    phonenumbers.PhoneNumberType.FIXED_LINE: "a landline",
    phonenumbers.PhoneNumberType.TOLL_FREE: "a toll-free number",
    phonenumbers.PhoneNumberType.PREMIUM_RATE: "a premium-rate number",
    phonenumbers.PhoneNumberType.SHARED_COST: "a shared-cost number",
    phonenumbers.PhoneNumberType.UAN: "a company switchboard number",
    phonenumbers.PhoneNumberType.VOICEMAIL: "a voicemail number",
    phonenumbers.PhoneNumberType.PAGER: "a pager number",
}


class LibPhoneNumbers:
    def __init__(self, default_region: str = "PA") -> None:
        self._region = default_region

    def normalize(self, raw: object, *, field: str) -> str:
        text = raw.strip() if isinstance(raw, str) else ""
        if not text:
            raise InvalidPhone(f"{field} is required", field=field)
        if len(text) > MAX_INPUT:
            raise InvalidPhone(f"{field} must be at most {MAX_INPUT} characters", field=field)
        if text.startswith("00"):
            text = "+" + text[2:]
        try:
            number = phonenumbers.parse(text, self._region)
        except phonenumbers.NumberParseException:
            raise InvalidPhone(
                f"{field} is not a phone number (like +507 6123-4567, or 6123-4567 in Panama): {text!r}", field=field
            ) from None
        if not phonenumbers.is_valid_number(number):
            raise InvalidPhone(
                f"{field} is not a valid number for its country (like +507 6123-4567): {text!r}", field=field
            )
        kind = _NOT_MOBILE.get(phonenumbers.number_type(number))
        if kind is not None:
            raise InvalidPhone(
                f"{field} is {kind} ({text!r}): WhatsApp needs a mobile number (like +507 6123-4567)", field=field
            )
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
