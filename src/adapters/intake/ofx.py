"""OFX 1.x (SGML) and 2.x (XML) bank statements, read with ``ofxtools``.

Banks send headers ofxtools refuses: no newlines, spaces after the colons, ``CHARSET:NONE``,
latin-1 bodies. The header is therefore read here, tolerantly, only for its charset; the body
(from ``<OFX>``) is decoded (UTF-8, else the declared charset, else latin-1) and handed to
ofxtools' tag parser. Each ``STMTTRN`` is converted on its own, so one the library refuses is
listed as that row's problem and the others are kept. ``FITID`` is the bank's id of a line.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from xml.etree.ElementTree import Element

from ofxtools.models.base import Aggregate
from ofxtools.Parser import TreeBuilder

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

_CHARSET = re.compile(rb"CHARSET\s*:\s*([A-Za-z0-9_-]+)", re.IGNORECASE)
_ENCODING = re.compile(rb"encoding\s*=\s*[\"']([A-Za-z0-9_-]+)", re.IGNORECASE)
_CHARSETS = {b"1252": "cp1252", b"ISO-8859-1": "latin-1", b"8859-1": "latin-1", b"UTF-8": "utf-8"}


def _day(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


class OfxStrategy:
    name = "ofx"
    kind = DocumentKind.BANK_STATEMENT
    uses_profiles = False

    def __init__(self, limits: IntakeLimits) -> None:
        self._limits = limits

    def recognises(self, content: bytes) -> bool:
        head = content[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").upper()
        return head.startswith((b"OFXHEADER", b"<OFX>")) or b"<?OFX" in head

    def parse(self, content: bytes, context: IntakeContext) -> Parsed:
        root = self._tree(content)
        statement = root.find(".//STMTRS")
        card = statement is None
        if card:
            statement = root.find(".//CCSTMTRS")
        if statement is None:
            raise UnreadableDocument("the OFX file holds no bank or credit card statement (STMTRS)")
        account = statement.find("CCACCTFROM" if card else "BANKACCTFROM")
        number = (account.findtext("ACCTID") if account is not None else None) or ""
        bank = (account.findtext("BANKID") if account is not None and not card else None) or "OFX"
        if not number.strip():
            raise UnreadableDocument("the OFX statement names no account (ACCTID)")
        listing = statement.find("BANKTRANLIST")
        rows = listing.findall("STMTTRN") if listing is not None else []
        if len(rows) > self._limits.max_rows:
            raise UnreadableDocument(f"the statement has {len(rows)} transactions, more than {self._limits.max_rows}")
        transactions, problems = [], []
        for index, element in enumerate(rows, start=1):
            try:
                line = Aggregate.from_etree(element)
                transactions.append(
                    ParsedTransaction(
                        booked_on=_day(line.dtposted),  # type: ignore[arg-type]
                        value_on=_day(getattr(line, "dtavail", None)),
                        amount=Decimal(line.trnamt).quantize(Decimal("0.01")),
                        description=clean_text(" ".join(p for p in (line.name, line.memo) if p) or None),
                        reference=clean_text(line.checknum or line.refnum, MAX_REFERENCE),
                        counterparty=clean_text(getattr(line.payee, "name", None) if line.payee else None),
                        bank_id=clean_text(line.fitid, 255),
                    )
                )
            except Exception as error:  # noqa: BLE001 - ofxtools raises many types; the row is listed, not lost
                problems.append(RowProblem(index, f"transaction {index} ({element.findtext('FITID') or 'no FITID'}): {error}"))
        closing = self._amount(statement.find("LEDGERBAL"))
        try:
            currency = parse_currency(statement.findtext("CURDEF") or "USD")
        except Exception:  # noqa: BLE001
            raise UnreadableDocument("the OFX statement's currency (CURDEF) is not an ISO code") from None
        return ParsedStatement(
            format=self.name,
            bank=clean_text(bank, 80) or "OFX",
            account_number=number.strip(),
            currency=currency,
            transactions=tuple(transactions),
            opening_balance=None,  # OFX carries the ledger (closing) balance only
            closing_balance=closing,
            period_start=self._date(listing, "DTSTART"),
            period_end=self._date(listing, "DTEND"),
            problems=tuple(problems),
        )

    def _tree(self, content: bytes) -> Element:
        start = content.upper().find(b"<OFX>")
        if start < 0:
            raise UnreadableDocument("the OFX file has no <OFX> body")
        header = content[:start]
        declared = None
        match = _ENCODING.search(header) or _CHARSET.search(header)
        if match:
            declared = _CHARSETS.get(match.group(1).upper(), match.group(1).decode("ascii", "replace"))
        body = decode_text(content[start:], declared)
        if "</OFX>" not in body.upper():
            raise UnreadableDocument("the OFX file is truncated: it has no closing </OFX>")
        builder = TreeBuilder()
        try:
            builder.feed(body)
            return builder.close()
        except Exception as error:  # noqa: BLE001 - ofxtools' ParseError and ElementTree's
            raise UnreadableDocument(f"the OFX body is malformed: {str(error)[:200]}") from None

    @staticmethod
    def _amount(balance: Element | None) -> Decimal | None:
        text = balance.findtext("BALAMT") if balance is not None else None
        if not text:
            return None
        try:
            return Decimal(text.strip().replace(",", ".")).quantize(Decimal("0.01"))
        except Exception:  # noqa: BLE001
            raise UnreadableDocument(f"the OFX balance {text[:30]!r} is not an amount") from None

    @staticmethod
    def _date(listing: Element | None, tag: str) -> date | None:
        text = (listing.findtext(tag) if listing is not None else None) or ""
        digits = text.strip()[:8]
        try:
            return datetime.strptime(digits, "%Y%m%d").date() if len(digits) == 8 else None
        except ValueError:
            return None
