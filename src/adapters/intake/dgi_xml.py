"""The DGI's electronic invoice XML (``rFE``, or the authorised envelope ``rContFe``), read exactly.

Field names are the DGI's (namespace ``http://dgi-fep.mef.gob.pa``); their order varies between
emitters, so each is looked up by name under its group. Amounts are read as decimals, never
floats. The CUFE comes from the protocol (``xProtFe/rProtFe/gInfFE/dCufe``) when the envelope has
one, else from ``dId`` (which carries it in ``rFE``). Checking it is the purchases domain's job.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from adapters.intake.safety import Element, local, parse_xml, xml_head
from application.intake.ports import IntakeContext, IntakeLimits, Parsed, UnreadableDocument
from domain.intake.model import DocumentKind
from domain.purchases.invoices import (
    DOCUMENT_TYPES,
    ITBMS_RATES,
    InvoiceLine,
    InvoiceSource,
    ParsedInvoice,
)

NAMESPACE = "http://dgi-fep.mef.gob.pa"
MAX_LINES = 5000


def _child(element: Element | None, name: str) -> Element | None:
    if element is None:
        return None
    for item in element:
        if local(item.tag) == name:
            return item
    return None


def _path(element: Element | None, *names: str) -> Element | None:
    for name in names:
        element = _child(element, name)
    return element


def _text(element: Element | None, *names: str) -> str | None:
    found = _path(element, *names)
    return found.text.strip() if found is not None and found.text and found.text.strip() else None


class _Problems(list[str]):
    def decimal(self, value: str | None, what: str) -> Decimal | None:
        if value is None:
            self.append(f"{what} is missing")
            return None
        if not value.isascii():
            self.append(f"{what} {value[:30]!r} is not a number")
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            self.append(f"{what} {value[:30]!r} is not a number")
            return None
        if not number.is_finite():
            self.append(f"{what} {value[:30]!r} is not a number")
            return None
        return number


class DgiXmlStrategy:
    name = "dgi-xml"
    kind = DocumentKind.SUPPLIER_INVOICE
    uses_profiles = False

    def __init__(self, limits: IntakeLimits) -> None:
        self._limits = limits

    def recognises(self, content: bytes) -> bool:
        head = xml_head(content)
        return head.startswith("<") and NAMESPACE in head and ("rFE" in head or "rContFe" in head)

    def parse(self, content: bytes, context: IntakeContext) -> Parsed:
        root = parse_xml(content)
        cufe = None
        if local(root.tag) == "rContFe":
            invoice = _path(root, "xFe", "rFE")
            cufe = _text(root, "xProtFe", "rProtFe", "gInfFE", "dCufe")
        elif local(root.tag) == "rFE":
            invoice = root
        else:
            raise UnreadableDocument(f"the DGI XML's root is {local(root.tag)!r}, not rFE or rContFe")
        if invoice is None:
            raise UnreadableDocument("the authorised envelope holds no invoice (xFe/rFE)")
        cufe = cufe or _text(invoice, "dId")
        if cufe and cufe.upper().startswith("FE") is False:
            cufe = None
        problems = _Problems()
        general = _child(invoice, "gDGen")
        if general is None:
            raise UnreadableDocument("the invoice has no general data (gDGen)")
        issuer = _child(general, "gEmis")
        receiver = _child(general, "gDatRec")
        doc = _text(general, "iDoc") or ""
        if doc not in DOCUMENT_TYPES:
            problems.append(f"the document type iDoc {doc[:8]!r} is not one the DGI defines")
        issued = self._day(_text(general, "dFechaEm"), problems)
        items = [item for item in invoice if local(item.tag) == "gItem"]
        if len(items) > MAX_LINES:
            raise UnreadableDocument(f"the invoice has {len(items)} lines, more than {MAX_LINES}")
        lines = []
        for index, item in enumerate(items, start=1):
            line = self._line(item, index, problems)
            if line is not None:
                lines.append(line)
        totals = _child(invoice, "gTot")
        subtotal = problems.decimal(_text(totals, "dTotNeto"), "gTot/dTotNeto")
        tax = problems.decimal(_text(totals, "dTotITBMS"), "gTot/dTotITBMS")
        total = problems.decimal(_text(totals, "dVTot"), "gTot/dVTot")
        number = _text(general, "dNroDF")
        point = _text(general, "dPtoFacDF")
        return ParsedInvoice(
            source=InvoiceSource.XML,
            supplier_name=_text(issuer, "dNombEm"),
            supplier_ruc=_text(issuer, "gRucEmi", "dRuc"),
            supplier_dv=_text(issuer, "gRucEmi", "dDV"),
            receiver_ruc=_text(receiver, "gRucRec", "dRuc"),
            number=f"{point}-{number}" if point and number else number,
            cufe=cufe,
            document_type=DOCUMENT_TYPES.get(doc, "INVOICE"),
            issue_date=issued,
            lines=tuple(lines),
            subtotal=subtotal,
            itbms_total=tax,
            total=total,
            problems=tuple(problems),
        )

    @staticmethod
    def _day(value: str | None, problems: _Problems) -> date | None:
        if not value:
            problems.append("the issue date dFechaEm is missing")
            return None
        try:
            return datetime.fromisoformat(value).date()
        except ValueError:
            problems.append(f"the issue date {value[:40]!r} is not a date")
            return None

    @staticmethod
    def _line(item: Element, index: int, problems: _Problems) -> InvoiceLine | None:
        before = len(problems)
        quantity = problems.decimal(_text(item, "dCantCodInt"), f"line {index}: dCantCodInt")
        unit = problems.decimal(_text(item, "gPrecios", "dPrUnit"), f"line {index}: dPrUnit")
        amount = problems.decimal(_text(item, "gPrecios", "dPrItem"), f"line {index}: dPrItem")
        code = _text(item, "gITBMSItem", "dTasaITBMS") or ""
        rate = ITBMS_RATES.get(code)
        if rate is None:
            problems.append(f"line {index}: ITBMS rate code {code[:8]!r} is not 00, 01, 02 or 03")
        tax = problems.decimal(_text(item, "gITBMSItem", "dValITBMS"), f"line {index}: dValITBMS")
        if len(problems) > before or None in (quantity, unit, amount, tax) or rate is None:
            return None
        return InvoiceLine(
            description=" ".join((_text(item, "dDescProd") or "").split())[:500],
            quantity=quantity,  # type: ignore[arg-type]
            unit_price=unit,  # type: ignore[arg-type]
            amount=amount,  # type: ignore[arg-type]
            itbms_rate=rate,
            itbms=tax,  # type: ignore[arg-type]
        )
