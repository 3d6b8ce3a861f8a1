"""ISO 20022 CAMT.053 (bank-to-customer statement), any ``camt.053.001.NN`` version, by its field map.

Per ``Stmt/Ntry``: the amount (``Amt``, or each ``TxDtls/AmtDtls/TxAmt/Amt``), its sign from
``CdtDbtInd`` (DBIT is money out), ``BookgDt/Dt`` (or ``DtTm``), ``ValDt/Dt``, the references
(``AcctSvcrRef``, ``Refs/EndToEndId``, ``RmtInf/Strd/CdtrRefInf/Ref``, ``RmtInf/Ustrd``) and the
counterparty (``RltdPties/Dbtr`` for money in, ``Cdtr`` for money out). Each ``TxDtls`` of a batched
entry is its own line. Balances: OPBD or PRCD opening, CLBD closing.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from adapters.intake.safety import Element, local, namespace, parse_xml, xml_head
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

PREFIX = "urn:iso:std:iso:20022:tech:xsd:camt.053.001."


class _Row(Exception):
    pass


def _flatten(element: Element, skip: str = "") -> dict[str, Element]:
    """Every descendant by its path of local names (``Refs/EndToEndId``), the first of each path;
    one walk instead of a search per field (10,000 entries read in a fraction of the time)."""
    found: dict[str, Element] = {}
    stack = [(element, "")]
    while stack:
        parent, prefix = stack.pop()
        for child in parent:
            tag = child.tag
            name = prefix + tag[tag.rfind("}") + 1 :]
            if name == skip:
                continue
            found.setdefault(name, child)
            if len(child):
                stack.append((child, name + "/"))
    return found


def _text(fields: dict[str, Element], path: str) -> str | None:
    element = fields.get(path)
    if element is None or not element.text:
        return None
    return element.text.strip() or None


class Camt053Strategy:
    name = "camt.053"
    kind = DocumentKind.BANK_STATEMENT
    uses_profiles = False

    def __init__(self, limits: IntakeLimits) -> None:
        self._limits = limits

    def recognises(self, content: bytes) -> bool:
        head = xml_head(content)
        return head.startswith("<") and PREFIX in head

    def parse(self, content: bytes, context: IntakeContext) -> Parsed:
        root = parse_xml(content)
        ns = namespace(root.tag)
        if not ns.startswith(PREFIX):
            raise UnreadableDocument(f"the XML's namespace {ns[:80]!r} is not CAMT.053")
        q = "{" + ns + "}"

        def find(element: Element | None, path: str) -> Element | None:
            if element is None:
                return None
            return element.find("/".join(q + part for part in path.split("/")))

        def text(element: Element | None, path: str) -> str | None:
            found = find(element, path)
            return found.text.strip() if found is not None and found.text and found.text.strip() else None

        statements = root.findall(f"{q}BkToCstmrStmt/{q}Stmt")
        if not statements:
            raise UnreadableDocument("the CAMT.053 file holds no statement (BkToCstmrStmt/Stmt)")
        if len(statements) > 1:
            raise UnreadableDocument(f"the file holds {len(statements)} statements; upload one per file")
        stmt = statements[0]
        account = find(stmt, "Acct")
        number = text(account, "Id/IBAN") or text(account, "Id/Othr/Id")
        if not number:
            raise UnreadableDocument("the statement names no account (Acct/Id)")
        bank = text(account, "Svcr/FinInstnId/BICFI") or text(account, "Svcr/FinInstnId/BIC") \
            or text(account, "Svcr/FinInstnId/Nm") or "CAMT.053"
        opening = closing = None
        currency = text(account, "Ccy")
        for balance in stmt.findall(f"{q}Bal"):
            code = text(balance, "Tp/CdOrPrtry/Cd")
            try:
                amount = self._signed(find(balance, "Amt"), text(balance, "CdtDbtInd"), "balance")
            except _Row as error:
                raise UnreadableDocument(f"the {code} balance: {error}") from None
            balance_amount = find(balance, "Amt")
            if currency is None and balance_amount is not None:
                currency = balance_amount.get("Ccy")
            if code in ("OPBD", "PRCD") and opening is None:
                opening = amount
            elif code == "CLBD":
                closing = amount
        transactions: list[ParsedTransaction] = []
        problems: list[RowProblem] = []
        entries = stmt.findall(f"{q}Ntry")
        for index, entry in enumerate(entries, start=1):
            try:
                transactions += self._entry(entry)
            except (_Row, UnreadableDocument) as error:
                problems.append(RowProblem(index, f"entry {index}: {error}"))
            if len(transactions) > self._limits.max_rows:
                raise UnreadableDocument(f"the statement has more than {self._limits.max_rows} transactions")
        try:
            currency = parse_currency(currency or "")
        except Exception:  # noqa: BLE001
            raise UnreadableDocument("the statement names no currency (Acct/Ccy or Bal/Amt@Ccy)") from None
        return ParsedStatement(
            format=self.name,
            bank=clean_text(bank, 80) or "CAMT.053",
            account_number=number,
            currency=currency,
            transactions=tuple(transactions),
            opening_balance=opening,
            closing_balance=closing,
            period_start=self._period(text(stmt, "FrToDt/FrDtTm")),
            period_end=self._period(text(stmt, "FrToDt/ToDtTm")),
            problems=tuple(problems),
        )

    def _entry(self, entry: Element) -> list[ParsedTransaction]:
        fields = _flatten(entry, skip="NtryDtls")
        indicator = _text(fields, "CdtDbtInd")
        if indicator not in ("CRDT", "DBIT"):
            raise _Row(f"CdtDbtInd {indicator!r} is neither CRDT nor DBIT")
        if _text(fields, "RvslInd") == "true":
            indicator = "DBIT" if indicator == "CRDT" else "CRDT"
        booked = self._day(_text(fields, "BookgDt/Dt") or _text(fields, "BookgDt/DtTm"))
        if booked is None:
            raise _Row("it has no booking date (BookgDt)")
        value_on = self._day(_text(fields, "ValDt/Dt") or _text(fields, "ValDt/DtTm"))
        service_ref = _text(fields, "AcctSvcrRef")
        entry_info = _text(fields, "AddtlNtryInf")
        details = [d for group in entry if local(group.tag) == "NtryDtls" for d in group if local(d.tag) == "TxDtls"]
        if not details:
            amount = self._signed(fields.get("Amt"), indicator, "amount")
            return [ParsedTransaction(
                booked_on=booked, value_on=value_on, amount=amount, description=clean_text(entry_info),
                reference=None, counterparty=None, bank_id=service_ref,
            )]
        lines = []
        for position, detail in enumerate(details, start=1):
            tx = _flatten(detail)
            tx_indicator = _text(tx, "CdtDbtInd") or indicator
            amount_element = tx.get("AmtDtls/TxAmt/Amt")
            if amount_element is None:
                amount_element = tx.get("Amt")
            if amount_element is None and len(details) == 1:
                amount_element = fields.get("Amt")
            if amount_element is None:
                raise _Row(f"transaction {position} of a batch has no amount (AmtDtls/TxAmt/Amt)")
            amount = self._signed(amount_element, tx_indicator, "amount")
            party = "Dbtr" if tx_indicator == "CRDT" else "Cdtr"
            counterparty = _text(tx, f"RltdPties/{party}/Nm") or _text(tx, f"RltdPties/{party}/Pty/Nm")
            party_account = _text(tx, f"RltdPties/{party}Acct/Id/IBAN") or _text(tx, f"RltdPties/{party}Acct/Id/Othr/Id")
            reference = _text(tx, "RmtInf/Strd/CdtrRefInf/Ref") or _text(tx, "Refs/EndToEndId")
            if reference == "NOTPROVIDED":
                reference = None
            unstructured = [u.text.strip() for u in detail.iter() if local(u.tag) == "Ustrd" and u.text and u.text.strip()]
            description = " ".join(unstructured) or _text(tx, "AddtlTxInf") or entry_info
            detail_ref = _text(tx, "Refs/AcctSvcrRef") or _text(tx, "Refs/TxId")
            bank_id = detail_ref or (f"{service_ref}#{position}" if service_ref and len(details) > 1 else service_ref)
            lines.append(ParsedTransaction(
                booked_on=booked, value_on=value_on, amount=amount,
                description=clean_text(description),
                reference=clean_text(reference, MAX_REFERENCE),
                counterparty=clean_text(" ".join(p for p in (counterparty, party_account) if p) or None),
                bank_id=clean_text(bank_id, 255),
            ))
        return lines

    @staticmethod
    def _signed(amount: Element | None, indicator: str | None, what: str) -> Decimal:
        if amount is None or not (amount.text or "").strip():
            raise _Row(f"it has no {what}")
        raw = amount.text.strip()  # type: ignore[union-attr]
        if not raw.isascii():
            raise _Row(f"the {what} {raw[:30]!r} is not an amount")
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise _Row(f"the {what} {raw[:30]!r} is not an amount") from None
        if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
            raise _Row(f"the {what} {raw[:30]!r} is not a positive amount to the cent")
        return -value if indicator == "DBIT" else value

    @classmethod
    def _period(cls, value: str | None) -> date | None:
        try:
            return cls._day(value)
        except _Row:
            raise UnreadableDocument(f"the statement's period {value!r:.40} is not a date") from None

    @staticmethod
    def _day(value: str | None) -> date | None:
        if not value:
            return None
        try:
            return datetime.fromisoformat(value[:10]).date()
        except ValueError:
            raise _Row(f"{value[:30]!r} is not a date") from None
