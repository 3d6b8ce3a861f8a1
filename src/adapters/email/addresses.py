"""``AddressValidator`` on ``email-validator``: RFC 5321/5322 syntax, internationalised domains.

Chosen over ``domain.shared.email.parse_email`` (an ASCII dot-atom check) because it is a
well-kept implementation of the standards, accepts IDN domains (``ventas@peña.com.pa``) and
normalises them; no DNS look-up is made (``check_deliverability=False``): sending must not depend
on a resolver, and the SMTP server reports bad domains.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from domain.shared.email import MAX_EMAIL_LENGTH, InvalidEmail


class EmailValidatorAddressValidator:
    def normalize(self, value: object, *, field: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise InvalidEmail(f"{field} is required: an email address like name@example.com.pa", field=field)
        text = value.strip()
        if len(text) > MAX_EMAIL_LENGTH or any(ch in text for ch in "\r\n,;<>"):
            raise InvalidEmail(f"{field} is not an email address (like name@example.com.pa): {text[:80]!r}", field=field)
        try:
            checked = validate_email(text, check_deliverability=False, allow_smtputf8=True)
        except EmailNotValidError as error:
            raise InvalidEmail(f"{field} is not an email address ({error}): {text[:80]!r}", field=field) from None
        return checked.normalized
