"""SWIFT MT940 statements, read with ``mt-940``: ``:25:`` the account, ``:60F:``/``:62F:`` the
balances, each ``:61:`` a line with its ``:86:`` details (bank-specific text, kept as the description).
The bank's reference of a line (``//`` part of ``:61:``) is its id when the bank gives one."""

from __future__ import annotations

import logging
import re
from datetime import date
from decimal import Decimal
from typing import Any

import mt940 as mt940_lib

from adapters.intake.safety import decode_text
from application.intake.ports import IntakeContext, IntakeLimits, Parsed, UnreadableDocument
from domain.banking.statements import (
    MAX_REFERENCE,
    ParsedStatement,
    ParsedTransaction,
    RowProblem,
    clean_text,
    parse_currency,
)
from domain.intake.model import DocumentKind

_TAG = re.compile(r"^:(20|25|28C?|60[FM]|61|62[FM]):", re.MULTILINE)


def _amount(balance: Any) -> tuple[Decimal, str] | None:
    if balance is None:
        return None
    return Decimal(balance.amount.amount).quantize(Decimal("0.01")), str(balance.amount.currency)


def _day(balance: Any) -> date | None:
    moment = getattr(balance, "date", None)
    return date(moment.year, moment.month, moment.day) if moment else None


class Mt940Strategy:
    name = "mt940"
    kind = DocumentKind.BANK_STATEMENT
    uses_profiles = False

    def __init__(self, limits: IntakeLimits) -> None:
        self._limits = limits
        # mt-940 logs each field it cannot match, with the statement's text, at ERROR: bank data has
        # no place in our logs, and the parse error it leads to is reported on the intake instead.
        logging.getLogger("mt940").setLevel(logging.CRITICAL)

    def recognises(self, content: bytes) -> bool:
        head = content[:4096].decode("latin-1")
        tags = {match.group(1) for match in _TAG.finditer(head)}
        return "25" in tags and ("60F" in tags or "60M" in tags or "61" in tags)

    def parse(self, content: bytes, context: IntakeContext) -> Parsed:
        text = decode_text(content).replace("\r\n", "\n")
        if text.count("\n:61:") > self._limits.max_rows:
            raise UnreadableDocument(f"the statement has more than {self._limits.max_rows} transactions")
        if ":62F:" not in text and ":62M:" not in text:
            raise UnreadableDocument("the MT940 file is truncated: it has no closing balance (:62F:)")
        statements = mt940_lib.models.Transactions()
        try:
            statements.parse(text)
        except Exception as error:  # noqa: BLE001 - the library raises plain exceptions for bad input
            raise UnreadableDocument(f"the MT940 file is malformed: {str(error)[:200]}") from None
        data = statements.data
        number = str(data.get("account_identification") or "").strip()
        if not number:
            raise UnreadableDocument("the MT940 statement names no account (:25:)")
        opening = _amount(data.get("final_opening_balance") or data.get("intermediate_opening_balance"))
        closing = _amount(data.get("final_closing_balance") or data.get("intermediate_closing_balance"))
        currency = (opening or closing or (None, "USD"))[1]
        transactions, problems = [], []
        for index, line in enumerate(statements, start=1):
            try:
                item = line.data
                amount = Decimal(item["amount"].amount).quantize(Decimal("0.01"))
                bank_ref = clean_text(item.get("bank_reference"), 255)
                customer_ref = item.get("customer_reference")
                booked, valued = item.get("entry_date") or item["date"], item.get("date")
                transactions.append(
                    ParsedTransaction(
                        booked_on=date(booked.year, booked.month, booked.day),
                        value_on=date(valued.year, valued.month, valued.day) if valued else None,
                        amount=amount,
                        description=clean_text(item.get("transaction_details") or item.get("extra_details")),
                        reference=clean_text(None if customer_ref == "NONREF" else customer_ref, MAX_REFERENCE),
                        counterparty=None,
                        bank_id=bank_ref,
                    )
                )
            except Exception as error:  # noqa: BLE001 - one bad :61: is listed, the rest kept
                problems.append(RowProblem(index, f"transaction {index}: {error}"))
        bank = str(data.get("account_identification", "")).split("/")[0] if "/" in number else "MT940"
        return ParsedStatement(
            format=self.name,
            bank=clean_text(bank, 80) or "MT940",
            account_number=number,
            currency=parse_currency(currency),
            transactions=tuple(transactions),
            opening_balance=opening[0] if opening else None,
            closing_balance=closing[0] if closing else None,
            period_start=_day(data.get("final_opening_balance")),
            period_end=_day(data.get("final_closing_balance")),
            problems=tuple(problems),
        )
