"""Refusals of the invoicing domain, each with a stable code; ``field`` names the input at fault."""

from __future__ import annotations

from domain.shared.errors import Conflict, InvalidInput


class InvalidRuc(InvalidInput):
    code = "INVALID_RUC"


class InvalidDv(InvalidInput):
    code = "INVALID_DV"


class InvalidPhone(InvalidInput):
    code = "INVALID_PHONE"


class InvalidAmount(InvalidInput):
    """A quantity, price, discount or payment that is negative, too precise or too large."""

    code = "INVALID_AMOUNT"


class InvalidTaxRate(InvalidInput):
    code = "INVALID_TAX_RATE"


class NoLines(InvalidInput):
    code = "NO_LINES"


class InvalidDateRange(InvalidInput):
    """A date before the one it must follow: a due date before the issue date, say."""

    code = "INVALID_DATE_RANGE"


class PaymentExceedsBalance(InvalidInput):
    code = "PAYMENT_EXCEEDS_BALANCE"


class CreditExceedsBalance(InvalidInput):
    """A credit note for more than its invoice still owes."""

    code = "CREDIT_EXCEEDS_BALANCE"


class InvoiceHasCreditNotes(Conflict):
    code = "INVOICE_HAS_CREDIT_NOTES"


class InvoiceIsVoid(Conflict):
    code = "INVOICE_VOID"


class InvoiceHasPayments(Conflict):
    code = "INVOICE_HAS_PAYMENTS"


class InvoiceIsFiscal(Conflict):
    """An invoice the PAC or the DGI authorised is cancelled with a credit note, not voided."""

    code = "INVOICE_AUTHORIZED"


class QuoteIsClosed(Conflict):
    code = "QUOTE_CLOSED"


class DuplicateNumber(Conflict):
    code = "DUPLICATE_NUMBER"
