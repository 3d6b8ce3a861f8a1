"""Documents for the intake tests and bench, generated here (no binary fixtures in the tree):
bank statements in every format Istmo reads, with the quirks real banks send, DGI electronic
invoices, and hostile files (billion laughs, an XLSX zip bomb, truncated files)."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from domain.purchases.invoices import make_cufe

COMPANY_RUC = "8-123-4567"
COMPANY_PROFILE = {
    "legal_name": "Ana Castillo", "taxpayer_type": "NATURAL", "ruc": COMPANY_RUC, "dv": "12",
    "address": "Calle 50, Bella Vista",
}
"""The tenant's fiscal profile (``UpdateTenantProfile``): its RUC is what suppliers' invoices are addressed to."""
SUPPLIER_RUC = "155596713-2-2015"
SUPPLIER_DV = "59"


@dataclass(frozen=True)
class Line:
    day: date
    amount: Decimal
    text: str
    ref: str


def lines(count: int, *, start: date = date(2026, 11, 1), seed: int = 0) -> list[Line]:
    out = []
    for i in range(count):
        cents = ((i * 7919 + seed * 104729) % 200000) - 90000
        out.append(Line(start + timedelta(days=i % 28), Decimal(cents).scaleb(-2), f"Movimiento {seed}-{i}", f"R{seed}-{i}"))
    return out


def total(items: list[Line]) -> Decimal:
    return sum((line.amount for line in items), Decimal("0.00"))


# --- OFX ---------------------------------------------------------------------------------

def ofx_sgml(items: list[Line], *, closing: Decimal, account: str = "0301011234567", memo: str = "Panadería Ñandú") -> bytes:
    """OFX 1.02 as some banks send it: the header on one line, spaces after colons, CHARSET:NONE,
    no closing tags for elements, latin-1 text."""
    header = (
        "OFXHEADER: 100 DATA: OFXSGML VERSION: 102 SECURITY: NONE ENCODING: USASCII CHARSET: NONE "
        "COMPRESSION: NONE OLDFILEUID: NONE NEWFILEUID: NONE"
    )
    rows = "".join(
        f"<STMTTRN><TRNTYPE>{'CREDIT' if l.amount > 0 else 'DEBIT'}<DTPOSTED>{l.day:%Y%m%d}120000"
        f"<TRNAMT>{l.amount}<FITID>F{l.ref}<NAME>{l.text[:32]}<MEMO>{memo}</STMTTRN>\n"
        for l in items
    )
    body = (
        "<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS><DTSERVER>20261201<LANGUAGE>SPA"
        "</SONRS></SIGNONMSGSRSV1><BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>"
        "<STMTRS><CURDEF>USD<BANKACCTFROM><BANKID>BGENPAPA<ACCTID>" + account + "<ACCTTYPE>CHECKING</BANKACCTFROM>"
        "<BANKTRANLIST><DTSTART>20261101<DTEND>20261130\n" + rows + "</BANKTRANLIST>"
        f"<LEDGERBAL><BALAMT>{closing}<DTASOF>20261130</LEDGERBAL></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>"
    )
    return (header + body).encode("latin-1")


def ofx_xml(items: list[Line], *, closing: Decimal, account: str = "0301019876543") -> bytes:
    rows = "".join(
        f"<STMTTRN><TRNTYPE>{'CREDIT' if l.amount > 0 else 'DEBIT'}</TRNTYPE><DTPOSTED>{l.day:%Y%m%d}</DTPOSTED>"
        f"<TRNAMT>{l.amount}</TRNAMT><FITID>X{l.ref}</FITID><NAME>{l.text[:32]}</NAME></STMTTRN>"
        for l in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>'
        '<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>'
        "<OFX><BANKMSGSRSV1><STMTTRNRS><TRNUID>1</TRNUID><STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>"
        "<STMTRS><CURDEF>USD</CURDEF><BANKACCTFROM><BANKID>CITIPAPA</BANKID><ACCTID>" + account + "</ACCTID>"
        "<ACCTTYPE>SAVINGS</ACCTTYPE></BANKACCTFROM><BANKTRANLIST><DTSTART>20261101</DTSTART><DTEND>20261130</DTEND>"
        + rows + "</BANKTRANLIST><LEDGERBAL><BALAMT>" + str(closing) + "</BALAMT><DTASOF>20261130</DTASOF></LEDGERBAL>"
        "</STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>"
    ).encode()


# --- CAMT.053 ----------------------------------------------------------------------------

def camt053(
    items: list[Line], *, opening: Decimal, closing: Decimal, version: str = "08", batch: int = 1,
    iban: str = "PA12BGEN0000000301011234",
) -> bytes:
    """A CAMT.053 statement; with ``batch`` > 1 the lines go in entries of that many ``TxDtls``."""
    ns = f"urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}"
    entries = []
    for start in range(0, len(items), batch):
        group = items[start : start + batch]
        sign = "CRDT" if group[0].amount > 0 else "DBIT"
        group = _same_sign(group)
        details = "".join(
            f"<TxDtls><Refs><AcctSvcrRef>S{l.ref}</AcctSvcrRef><EndToEndId>E2E{l.ref}</EndToEndId></Refs>"
            f"<AmtDtls><TxAmt><Amt Ccy=\"USD\">{abs(l.amount)}</Amt></TxAmt></AmtDtls>"
            f"<RltdPties><{'Dbtr' if sign == 'CRDT' else 'Cdtr'}><Nm>Cliente {l.ref}</Nm></{'Dbtr' if sign == 'CRDT' else 'Cdtr'}></RltdPties>"
            f"<RmtInf><Ustrd>{l.text}</Ustrd></RmtInf></TxDtls>"
            for l in group
        )
        amount = sum((abs(l.amount) for l in group), Decimal("0.00"))
        entries.append(
            f"<Ntry><Amt Ccy=\"USD\">{amount}</Amt><CdtDbtInd>{sign}</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>"
            f"<BookgDt><Dt>{group[0].day.isoformat()}</Dt></BookgDt><ValDt><Dt>{group[0].day.isoformat()}</Dt></ValDt>"
            f"<AcctSvcrRef>N{group[0].ref}</AcctSvcrRef><NtryDtls>{details}</NtryDtls></Ntry>"
        )
    def bal(code: str, value: Decimal) -> str:
        return (f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy=\"USD\">{abs(value)}</Amt>"
                f"<CdtDbtInd>{'CRDT' if value >= 0 else 'DBIT'}</CdtDbtInd><Dt><Dt>2026-11-30</Dt></Dt></Bal>")
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Document xmlns="{ns}"><BkToCstmrStmt>'
        "<GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-12-01T08:00:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>S1</Id><CreDtTm>2026-12-01T08:00:00</CreDtTm><FrToDt><FrDtTm>2026-11-01T00:00:00</FrDtTm>"
        f"<ToDtTm>2026-11-30T23:59:59</ToDtTm></FrToDt><Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>USD</Ccy>"
        "<Svcr><FinInstnId><BICFI>BGENPAPA</BICFI></FinInstnId></Svcr></Acct>"
        + bal("OPBD", opening) + bal("CLBD", closing) + "".join(entries) + "</Stmt></BkToCstmrStmt></Document>"
    ).encode()


def _same_sign(group: list[Line]) -> list[Line]:
    return [l for l in group if (l.amount > 0) == (group[0].amount > 0)]


def camt_lines(items: list[Line], batch: int) -> list[Line]:
    """The lines ``camt053`` actually writes with ``batch`` (a batch keeps its first line's sign)."""
    return [l for start in range(0, len(items), batch) for l in _same_sign(items[start : start + batch])]


# --- MT940 -------------------------------------------------------------------------------

def mt940(items: list[Line], *, opening: Decimal, closing: Decimal, account: str = "BGENPAPA/0301011234567") -> bytes:
    def amt(value: Decimal) -> str:
        return f"{abs(value):.2f}".replace(".", ",")
    rows = "".join(
        f":61:{l.day:%y%m%d}{l.day:%m%d}{'C' if l.amount > 0 else 'D'}{amt(l.amount)}NTRF{l.ref}//B{l.ref}\r\n:86:{l.text}\r\n"
        for l in items
    )
    return (
        f":20:STMT2611\r\n:25:{account}\r\n:28C:11/1\r\n:60F:{'C' if opening >= 0 else 'D'}261031USD{amt(opening)}\r\n"
        + rows + f":62F:{'C' if closing >= 0 else 'D'}261130USD{amt(closing)}\r\n-"
    ).encode("latin-1")


def spoil_mt940_line(data: bytes, index: int, line: str = ":61:26XX01D12,00NTRFBROKEN") -> bytes:
    """The MT940 ``data`` with its ``index``-th (from 0) ``:61:`` line replaced by ``line``."""
    rows = data.decode("latin-1").split("\r\n")
    where = [n for n, row in enumerate(rows) if row.startswith(":61:")][index]
    rows[where] = line
    return "\r\n".join(rows).encode("latin-1")


# --- tables ------------------------------------------------------------------------------

def csv_european(items: list[Line], *, opening: Decimal) -> bytes:
    """Semicolons, ``1.234,56`` amounts, a running balance, a title line above the header."""
    def fmt(value: Decimal) -> str:
        whole, _, cents = f"{abs(value):.2f}".partition(".")
        groups = []
        while len(whole) > 3:
            groups.insert(0, whole[-3:])
            whole = whole[:-3]
        groups.insert(0, whole)
        return ("-" if value < 0 else "") + ".".join(groups) + "," + cents
    balance = opening
    out = ["Banco Ejemplo - movimientos;;;;", "Fecha;Descripción;Referencia;Monto;Saldo"]
    for l in items:
        balance += l.amount
        out.append(f"{l.day:%d/%m/%Y};{l.text};{l.ref};{fmt(l.amount)};{fmt(balance)}")
    return ("\r\n".join(out) + "\r\n").encode("utf-8")


CSV_PROFILE = {
    "name": "Banco Ejemplo", "bank": "Banco Ejemplo", "account_number": "11-22-333333", "currency": "USD",
    "date_column": "Fecha", "description_column": "Descripción", "amount_column": "Monto",
    "reference_column": "Referencia", "balance_column": "Saldo", "date_format": "DD/MM/YYYY", "decimal_separator": ",",
}


def banco_general_xlsx(items: list[Line], *, opening: Decimal, account: str = "03-01-01-123456-7") -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "BGRExcelContReport"
    sheet.append(["Banco General, S.A."])
    sheet.append([f"Estado de cuenta - Cuenta: {account}"])
    sheet.append(["Del 01/11/2026 al 30/11/2026"])
    sheet.append([])
    sheet.append(["Fecha", "Referencia", "Transacción", "Descripción", "Débito", "Crédito", "Saldo"])
    balance = opening
    for l in items:
        balance += l.amount
        debit = float(-l.amount) if l.amount < 0 else None
        credit = float(l.amount) if l.amount > 0 else None
        sheet.append([f"{l.day:%d/%m/%Y}", l.ref, "TRF", l.text, debit, credit, float(balance)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_bomb(unzipped: int) -> bytes:
    """A workbook whose sheet inflates to ``unzipped`` bytes of zeros (a few KB compressed)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", '<workbook><sheets><sheet name="S" sheetId="1"/></sheets></workbook>')
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * unzipped)
    return out.getvalue()


# --- DGI electronic invoices -------------------------------------------------------------

def cufe(*, number: str = "123", day: date = date(2026, 11, 20), doc: str = "01", ruc: str = SUPPLIER_RUC) -> str:
    return make_cufe(
        document_type=doc, taxpayer_type="2", ruc=ruc, dv=SUPPLIER_DV, branch="0001", issue_date=day,
        number=number, point_of_sale="001",
    )


def broken_cufe(valid: str) -> str:
    last = int(valid[-1])
    return valid[:-1] + str((last + 1) % 10)


def dgi_xml(
    *, number: str = "123", cufe_value: str | None = None, doc: str = "01", receiver: str = COMPANY_RUC,
    lines: tuple[tuple[str, str, str, str], ...] = (("Cemento gris 42.5 kg", "10", "10.00", "01"), ("Arena", "2", "25.00", "00")),
    total_override: str | None = None, envelope: bool = True, extra_dtd: str = "",
) -> bytes:
    """A DGI FE XML: each line (description, quantity, unit price, ITBMS rate code)."""
    rates = {"00": Decimal(0), "01": Decimal("0.07"), "02": Decimal("0.10"), "03": Decimal("0.15")}
    day = date(2026, 11, 20)
    value = cufe_value or cufe(number=number, doc=doc)
    items, net, tax = [], Decimal("0.00"), Decimal("0.00")
    for description, quantity, unit, rate in lines:
        amount = (Decimal(quantity) * Decimal(unit)).quantize(Decimal("0.01"))
        itbms = (amount * rates[rate]).quantize(Decimal("0.01"))
        net, tax = net + amount, tax + itbms
        items.append(
            f"<gItem><dSecItem>{len(items) + 1}</dSecItem><dDescProd>{description}</dDescProd>"
            f"<dCantCodInt>{quantity}</dCantCodInt><gPrecios><dPrUnit>{unit}</dPrUnit><dPrUnitDesc>0.00</dPrUnitDesc>"
            f"<dPrItem>{amount}</dPrItem><dValTotItem>{amount + itbms}</dValTotItem></gPrecios>"
            f"<gITBMSItem><dTasaITBMS>{rate}</dTasaITBMS><dValITBMS>{itbms}</dValITBMS></gITBMSItem></gItem>"
        )
    grand = total_override or str(net + tax)
    invoice = (
        f'<rFE xmlns="http://dgi-fep.mef.gob.pa"><dVerForm>1.00</dVerForm><dId>{value}</dId><gDGen>'
        f"<iAmb>1</iAmb><iTpEmis>01</iTpEmis><iDoc>{doc}</iDoc><dNroDF>{int(number):010d}</dNroDF><dPtoFacDF>001</dPtoFacDF>"
        f"<dSeg>000000001</dSeg><dFechaEm>{day.isoformat()}T10:30:00-05:00</dFechaEm>"
        f"<gEmis><gRucEmi><dTipoRuc>2</dTipoRuc><dRuc>{SUPPLIER_RUC}</dRuc><dDV>{SUPPLIER_DV}</dDV></gRucEmi>"
        "<dNombEm>Materiales del Istmo, S.A.</dNombEm><dSucEm>0001</dSucEm></gEmis>"
        f"<gDatRec><iTipoRec>01</iTipoRec><gRucRec><dTipoRuc>1</dTipoRuc><dRuc>{receiver}</dRuc><dDV>12</dDV></gRucRec>"
        "<dNombRec>Ferretería Cliente</dNombRec></gDatRec></gDGen>" + "".join(items) +
        f"<gTot><dTotNeto>{net}</dTotNeto><dTotITBMS>{tax}</dTotITBMS><dTotGravado>{tax}</dTotGravado>"
        f"<dVTot>{grand}</dVTot><dTotRec>{grand}</dTotRec><gFormaPago><iFormaPago>02</iFormaPago>"
        f"<dVlrCuota>{grand}</dVlrCuota></gFormaPago></gTot></rFE>"
    )
    if envelope:
        invoice = (
            '<rContFe xmlns="http://dgi-fep.mef.gob.pa"><xFe>' + invoice + "</xFe><xProtFe><rProtFe><gInfProt>"
            f"<gInfFE><dCufe>{value}</dCufe></gInfFE></gInfProt></rProtFe></xProtFe></rContFe>"
        )
    return ('<?xml version="1.0" encoding="UTF-8"?>' + extra_dtd + invoice).encode()


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode() for i in range(1, 10)
    )
    + b']><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><x>&lol9;</x></Document>'
)


def dgi_qr_url(value: str) -> str:
    return (
        f"https://dgi-fep.mef.gob.pa/Consultas/FacturasPorQR?chFE={value}&iAmb=1"
        "&digestValue=q0hVb3JtYWw=&jwt=eyJhbGciOiJIUzI1NiJ9.e30.sig"
    )
