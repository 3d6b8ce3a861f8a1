"""SWIFT MT940 statements, read with ``mt-940``: ``:25:`` the account, ``:60F:``/``:62F:`` the
balances, each ``:61:`` a line with its ``:86:`` details (bank-specific text, kept as the description).
The bank's reference of a line (``//`` part of ``:61:``) is its id when the bank gives one.

The library reads a statement whole and stops at the first tag it cannot match, so one bad line
would lose every other. The statement is therefore cut in two: its frame (account, balances: the
tags around the transactions) read first, then each transaction (a ``:61:`` with its ``:86:``) read
on its own with the frame's currency; a transaction that cannot be read is listed as a problem on
the intake and the others are kept. A frame that cannot be read fails the file: without its account
and balances nothing in it can be placed.

A file may hold several statements of one account (one a day, each ``:20:`` to ``:62F:``): the
balances are the first one's opening and the last one's closing, and every transaction is kept."""

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
_ANY_TAG = re.compile(r"^:(?P<tag>[0-9]{2}[A-Z]?|NS):", re.MULTILINE)
_STATEMENT_START = re.compile(r"^:20:", re.MULTILINE)
_IN_TRANSACTION = frozenset({"61", "86", "NS"})
"""Tags that belong to the transaction a ``:61:`` opens (its details); any other one ends it."""


def _cut(text: str) -> tuple[str, list[tuple[int, str]]]:
    """The statement's frame (everything but its transactions) and each transaction's text with
    the line it starts on."""
    frame: list[str] = []
    transactions: list[tuple[int, str]] = []
    tags = list(_ANY_TAG.finditer(text))
    ends = [match.start() for match in tags[1:]] + [len(text)]
    frame.append(text[: tags[0].start()] if tags else text)
    inside, line, counted = False, 1, 0
    for match, end in zip(tags, ends, strict=True):
        tag, piece = match.group("tag"), text[match.start():end]
        if tag == "61":
            line, counted = line + text.count("\n", counted, match.start()), match.start()
            transactions.append((line, piece))
            inside = True
        elif inside and tag in _IN_TRANSACTION:
            line, before = transactions[-1]
            transactions[-1] = (line, before + piece)
        else:
            inside = False
            frame.append(piece)
    return "".join(frame), transactions


def _transaction(item: dict[str, Any]) -> ParsedTransaction:
    amount = Decimal(item["amount"].amount).quantize(Decimal("0.01"))
    customer_ref = item.get("customer_reference")
    booked, valued = item.get("entry_date") or item["date"], item.get("date")
    return ParsedTransaction(
        booked_on=date(booked.year, booked.month, booked.day),
        value_on=date(valued.year, valued.month, valued.day) if valued else None,
        amount=amount,
        description=clean_text(item.get("transaction_details") or item.get("extra_details")),
        reference=clean_text(None if customer_ref == "NONREF" else customer_ref, MAX_REFERENCE),
        counterparty=None,
        bank_id=clean_text(item.get("bank_reference"), 255),
    )


def _read(text: str, frame: dict[str, Any] | None = None) -> mt940_lib.models.Transactions:
    statements = mt940_lib.models.Transactions()
    statements.data.update(frame or {})  # the currency of a transaction's amount is the frame's
    statements.parse(text)
    return statements


def _frames(frame: str) -> list[dict[str, Any]]:
    """Each statement's frame (a ``:20:`` to the next), read; the text before the first ``:20:``
    (a file header) goes with the first."""
    starts = [match.start() for match in _STATEMENT_START.finditer(frame)][1:]
    cuts = [0, *starts, len(frame)]
    return [_read(frame[begin:end]).data for begin, end in zip(cuts, cuts[1:], strict=False)]


def _amount(balance: Any) -> tuple[Decimal, str] | None:
    if balance is None:
        return None
    return Decimal(balance.amount.amount).quantize(Decimal("0.01")), str(balance.amount.currency)


def _why(error: Exception) -> str:
    """The library's reason, without the line it quotes back (shown once, by the caller)."""
    if isinstance(error, RuntimeError) and "Unable to parse" in str(error):
        return "it does not follow the MT940 :61: layout (date, D/C mark, amount, type, reference)"
    return str(error)[:200] or type(error).__name__


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
        if ":62F:" not in text and ":62M:" not in text:
            raise UnreadableDocument("the MT940 file is truncated: it has no closing balance (:62F:)")
        frame, pieces = _cut(text)
        if len(pieces) > self._limits.max_rows:
            raise UnreadableDocument(f"the statement has more than {self._limits.max_rows} transactions")
        try:
            frames = _frames(frame)
        except Exception as error:  # noqa: BLE001 - the library raises plain exceptions for bad input
            raise UnreadableDocument(f"the MT940 statement's account or balances are malformed: {str(error)[:200]}") from None
        data, last = frames[0], frames[-1]
        number = str(data.get("account_identification") or "").strip()
        if not number:
            raise UnreadableDocument("the MT940 statement names no account (:25:)")
        others = {str(f.get("account_identification") or "").strip() for f in frames} - {number}
        if others:
            raise UnreadableDocument(f"the MT940 file holds statements of several accounts ({number}, {', '.join(sorted(others))}): upload one account a file")
        opening = _amount(data.get("final_opening_balance") or data.get("intermediate_opening_balance"))
        closing = _amount(last.get("final_closing_balance") or last.get("intermediate_closing_balance"))
        currency = (opening or closing or (None, "USD"))[1]
        transactions, problems = [], []
        for index, (line, piece) in enumerate(pieces, start=1):
            try:
                read = _read(piece, data).transactions
                if len(read) != 1:
                    raise ValueError("it holds no transaction")
                transactions.append(_transaction(read[0].data))
            except Exception as error:  # noqa: BLE001 - one bad :61: is listed, the rest kept
                shown = " ".join(piece.split("\n", 1)[0].split())[:80]
                problems.append(RowProblem(
                    index, f"transaction {index} (line {line}, {shown!r}) could not be read: {_why(error)}"
                ))
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
            period_end=_day(last.get("final_closing_balance")),
            problems=tuple(problems),
        )
