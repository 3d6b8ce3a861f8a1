"""What can be rendered to PDF: plain, frozen data, and the tenant layout that dresses it.

The invoicing handlers build these from their views; the renderer sees nothing else (no
aggregates, no ORM objects, nothing with side effects). Amounts are ``Decimal`` already rounded
by the invoicing domain; the renderer formats them and never recomputes a total.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from domain.pdf.layout import (  # the domain's vocabulary, used here too
    DEFAULT_PRIMARY_COLOR,
    DEFAULT_SECONDARY_COLOR,
    DocumentType,
    Locale,
    PaperSize,
)
from domain.shared.errors import InvalidInput


class LegalStatus(StrEnum):
    """Where the invoice stands with the PAC and the DGI (set by the PAC webhook)."""

    NONE = "NONE"
    PAC_AUTHORIZED = "PAC_AUTHORIZED"
    DGI_AUTHORIZED = "DGI_AUTHORIZED"
    PAC_REJECTED = "PAC_REJECTED"
    DGI_REJECTED = "DGI_REJECTED"


class EntryKind(StrEnum):
    INVOICE = "INVOICE"
    PAYMENT = "PAYMENT"
    CREDIT_NOTE = "CREDIT_NOTE"


ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True, kw_only=True)
class Party:
    """Issuer or client as printed: name, RUC and DV (check digit), contact details.

    ``missing`` names what an issuer without a fiscal profile lacks (``legalName``, ``ruc``,
    ``dv``, ``address``): the document says so instead of printing blanks."""

    name: str
    ruc: str = ""
    dv: str = ""
    address: str = ""
    email: str = ""
    phone: str = ""
    trade_name: str = ""
    website: str = ""
    missing: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentLine:
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal = ZERO
    tax_rate: Decimal = ZERO  # percent: 0, 7, 10 or 15 (ITBMS)
    subtotal: Decimal
    tax: Decimal
    total: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class TaxSummary:
    """One ITBMS rate: the taxable base and the tax at that rate."""

    rate: Decimal
    base: Decimal
    tax: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceDocument:
    """An invoice (or a credit note: ``document_type=CREDIT_NOTE``) with its fiscal fields.

    ``taxes`` is the per-rate summary computed by the invoicing domain; when it is empty the
    renderer groups the lines by rate for display only.
    """

    number: str
    issuer: Party
    client: Party
    issue_date: date
    due_date: date | None = None
    currency: str = "USD"
    lines: tuple[DocumentLine, ...]
    taxes: tuple[TaxSummary, ...] = ()
    subtotal: Decimal
    discount_total: Decimal = ZERO
    tax_total: Decimal
    total: Decimal
    paid: Decimal = ZERO
    balance: Decimal
    status: str = "UNPAID"
    legal_status: LegalStatus = LegalStatus.NONE
    cufe: str | None = None
    authorization_protocol: str | None = None
    authorized_at: datetime | None = None
    qr_url: str | None = None
    notes: str | None = None
    document_type: DocumentType = DocumentType.INVOICE
    invoice_number: str | None = None  # a credit note's: the invoice it credits
    reason: str | None = None  # a credit note's

    def __post_init__(self) -> None:
        if self.document_type not in (DocumentType.INVOICE, DocumentType.CREDIT_NOTE):
            raise InvalidInput(
                f"an invoice document is an INVOICE or a CREDIT_NOTE, not {self.document_type}",
                field="documentType",
            )
        object.__setattr__(self, "document_type", DocumentType(self.document_type))
        try:
            object.__setattr__(self, "legal_status", LegalStatus(self.legal_status))
        except ValueError:
            raise InvalidInput(
                f"legalStatus must be one of {', '.join(LegalStatus)}, got {str(self.legal_status)[:32]!r}",
                field="legalStatus",
            ) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class QuoteDocument:
    number: str
    issuer: Party
    client: Party
    issue_date: date
    valid_until: date | None = None
    currency: str = "USD"
    lines: tuple[DocumentLine, ...]
    taxes: tuple[TaxSummary, ...] = ()
    subtotal: Decimal
    discount_total: Decimal = ZERO
    tax_total: Decimal
    total: Decimal
    status: str = "DRAFT"
    notes: str | None = None

    @property
    def document_type(self) -> DocumentType:
        return DocumentType.QUOTE


@dataclass(frozen=True, slots=True, kw_only=True)
class StatementEntry:
    date: date
    kind: EntryKind
    reference: str
    description: str = ""
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    balance: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class Ageing:
    """Open balance by days past due: current, 1-30, 31-60, 61-90, over 90."""

    current: Decimal = ZERO
    d1_30: Decimal = ZERO
    d31_60: Decimal = ZERO
    d61_90: Decimal = ZERO
    over_90: Decimal = ZERO


@dataclass(frozen=True, slots=True, kw_only=True)
class StatementDocument:
    issuer: Party
    client: Party
    period_from: date
    period_to: date
    currency: str = "USD"
    opening_balance: Decimal
    entries: tuple[StatementEntry, ...]
    closing_balance: Decimal
    ageing: Ageing = field(default_factory=Ageing)
    as_of: date | None = None  # the day the ageing is counted at, printed beside it (None: period_to)

    @property
    def document_type(self) -> DocumentType:
        return DocumentType.STATEMENT


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportDocument:
    """A generic report: a title and a table of already formatted cells.

    ``numeric_columns`` (0-based) are right-aligned; ``totals`` is an optional last row.
    """

    title: str
    subtitle: str | None = None
    issuer: Party | None = None
    generated_on: date | None = None
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    totals: tuple[str, ...] | None = None
    numeric_columns: tuple[int, ...] = ()

    @property
    def document_type(self) -> DocumentType:
        return DocumentType.REPORT

    def __post_init__(self) -> None:
        width = len(self.columns)
        if width == 0:
            raise InvalidInput("a report needs at least one column", field="columns")
        for index, row in enumerate(self.rows):
            if len(row) != width:
                raise InvalidInput(
                    f"row {index} has {len(row)} cells, the report has {width} columns", field="rows"
                )
        if self.totals is not None and len(self.totals) != width:
            raise InvalidInput(
                f"totals have {len(self.totals)} cells, the report has {width} columns", field="totals"
            )


PdfDocument = InvoiceDocument | QuoteDocument | StatementDocument | ReportDocument


# --- layout ------------------------------------------------------------------------------

_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
MAX_HEADER_CHARS = 500
MAX_FOOTER_CHARS = 2_000
MAX_CUSTOM_CSS_CHARS = 100_000
MAX_BODY_TEMPLATE_CHARS = 100_000


@dataclass(frozen=True, slots=True, kw_only=True)
class PdfLayout:
    """The tenant's dressing of a document: colours, texts, paper, language, optional overrides.

    ``custom_body_template`` is Jinja source rendered in the sandbox in place of the built-in
    body; ``custom_css`` is appended after the built-in stylesheet.
    """

    primary_color: str = DEFAULT_PRIMARY_COLOR
    secondary_color: str = DEFAULT_SECONDARY_COLOR
    header_text: str = ""
    footer_text: str = ""
    paper_size: PaperSize = PaperSize.A4
    locale: Locale = Locale.ES_PA
    custom_css: str | None = None
    custom_body_template: str | None = None

    def __post_init__(self) -> None:
        for name, value in (("primaryColor", self.primary_color), ("secondaryColor", self.secondary_color)):
            if not isinstance(value, str) or not _COLOUR.match(value):
                raise InvalidInput(
                    f"{name} must be a colour like #1F3A5F, got {str(value)[:16]!r}", field=name
                )
        try:
            object.__setattr__(self, "paper_size", PaperSize(self.paper_size))
        except ValueError:
            raise InvalidInput(
                f"paperSize must be one of {', '.join(PaperSize)}, got {str(self.paper_size)[:16]!r}",
                field="paperSize",
            ) from None
        try:
            object.__setattr__(self, "locale", Locale(self.locale))
        except ValueError:
            raise InvalidInput(
                f"locale must be one of {', '.join(Locale)}, got {str(self.locale)[:16]!r}", field="locale"
            ) from None
        for name, text, limit in (
            ("headerText", self.header_text, MAX_HEADER_CHARS),
            ("footerText", self.footer_text, MAX_FOOTER_CHARS),
            ("customCss", self.custom_css or "", MAX_CUSTOM_CSS_CHARS),
            ("customBodyTemplate", self.custom_body_template or "", MAX_BODY_TEMPLATE_CHARS),
        ):
            if len(text) > limit:
                raise InvalidInput(f"{name} is longer than {limit} characters", field=name)


DEFAULT_LAYOUT = PdfLayout()


@dataclass(frozen=True, slots=True, kw_only=True)
class PdfAsset:
    """Bytes the layout refers to by name (the logo: ``istmo-asset:logo``).

    The caller reads them from the tenant's own files and checks ownership and type; the
    renderer only serves them to the document, never reads storage.
    """

    name: str
    mime: str
    data: bytes = field(repr=False)


ASSET_MIMES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml"})


# --- sample data (template previews, tests, benchmarks) ----------------------------------


def _party(name: str, ruc: str, dv: str, address: str, email: str, phone: str) -> Party:
    return Party(name=name, ruc=ruc, dv=dv, address=address, email=email, phone=phone)


SAMPLE_ISSUER = replace(
    _party(
        "Ferretería El Istmo, S.A.",
        "155612345-2-2021",
        "45",
        "Vía España, Edificio Torre Sol, Local 3, Panamá",
        "facturas@elistmo.com.pa",
        "+507 264-0000",
    ),
    trade_name="Ferretería El Istmo",
    website="www.elistmo.com.pa",
)
SAMPLE_CLIENT = _party(
    "Constructora Las Cumbres, S.A.",
    "8-123-4567",
    "12",
    "Calle 50, Obarrio, Panamá",
    "compras@lascumbres.com.pa",
    "+507 6000-0000",
)


def sample_lines(count: int = 10) -> tuple[DocumentLine, ...]:
    """``count`` plausible lines of a Panamanian distributor: goods at 7 % ITBMS, the canasta
    básica (rice, beans, milk...) at 0 %; per-line ITBMS rounded half-up to the cent, as the
    invoicing domain does (totals are the sums of the lines)."""
    items = (
        ("Cemento gris 42.5 kg", Decimal(7)),
        ("Arroz de primera, saco 25 lb", Decimal(0)),
        ('Varilla corrugada 3/8"', Decimal(7)),
        ("Frijoles rojos, paca 12 lb", Decimal(0)),
        ("Pintura de látex, galón", Decimal(7)),
        ('Tubo PVC 1/2" x 6 m', Decimal(7)),
        ("Leche evaporada, caja 48 u", Decimal(0)),
        ("Cable THHN #12, rollo", Decimal(7)),
    )
    cent = Decimal("0.01")
    lines = []
    for i in range(count):
        quantity = Decimal(1 + (i * 7) % 23)
        price = (Decimal(3 + (i * 37) % 180) + Decimal((i * 13) % 100) / 100).quantize(cent)
        discount = (price * quantity * Decimal("0.05")).quantize(cent, ROUND_HALF_UP) if i % 4 == 3 else ZERO
        subtotal = (price * quantity - discount).quantize(cent, ROUND_HALF_UP)
        description, rate = items[i % len(items)]
        tax = (subtotal * rate / 100).quantize(cent, ROUND_HALF_UP)
        lines.append(
            DocumentLine(
                description=description,
                quantity=quantity,
                unit_price=price,
                discount=discount,
                tax_rate=rate,
                subtotal=subtotal,
                tax=tax,
                total=subtotal + tax,
            )
        )
    return tuple(lines)


def _taxes(lines: tuple[DocumentLine, ...]) -> tuple[TaxSummary, ...]:
    rates: dict[Decimal, tuple[Decimal, Decimal]] = {}
    for line in lines:
        base, tax = rates.get(line.tax_rate, (ZERO, ZERO))
        rates[line.tax_rate] = (base + line.subtotal, tax + line.tax)
    return tuple(TaxSummary(rate=r, base=b, tax=t) for r, (b, t) in sorted(rates.items()))


def sample_invoice(
    *, lines: int = 10, currency: str = "USD", authorized: bool = True, number: str = "FE-0000001234"
) -> InvoiceDocument:
    body = sample_lines(lines)
    discount = sum((line.discount for line in body), ZERO)
    subtotal = sum((line.subtotal for line in body), ZERO) + discount  # before discounts, as the domain's
    tax_total = sum((line.tax for line in body), ZERO)
    total = subtotal - discount + tax_total
    paid = (total / 2).quantize(Decimal("0.01"))
    fiscal: dict[str, object] = {}
    if authorized:
        fiscal = {
            "legal_status": LegalStatus.DGI_AUTHORIZED,
            "cufe": "FE01200001556123452-2-2021-4500002024112400000012340010113475620089",
            "authorization_protocol": "20240000000000012345",
            "authorized_at": datetime(2024, 11, 24, 10, 15, 30),
            "qr_url": "https://dgi-fep.mef.gob.pa/Consultas/FacturasPorQR?chFE=FE0120000155612345"
            f"2-2-2021-4500002024112400000012340010113475620089&iAmb=1&digestValue={number}&jwt=x",
        }
    return InvoiceDocument(
        number=number,
        issuer=SAMPLE_ISSUER,
        client=SAMPLE_CLIENT,
        issue_date=date(2024, 11, 24),
        due_date=date(2024, 12, 24),
        currency=currency,
        lines=body,
        taxes=_taxes(body),
        subtotal=subtotal,
        discount_total=discount,
        tax_total=tax_total,
        total=total,
        paid=paid,
        balance=total - paid,
        status="PARTIALLY_PAID",
        notes="Gracias por su compra.",
        **fiscal,  # type: ignore[arg-type]
    )


def sample_quote(*, lines: int = 10, currency: str = "USD") -> QuoteDocument:
    body = sample_lines(lines)
    discount = sum((line.discount for line in body), ZERO)
    subtotal = sum((line.subtotal for line in body), ZERO) + discount  # before discounts, as the domain's
    tax_total = sum((line.tax for line in body), ZERO)
    return QuoteDocument(
        number="COT-000045",
        issuer=SAMPLE_ISSUER,
        client=SAMPLE_CLIENT,
        issue_date=date(2024, 11, 24),
        valid_until=date(2024, 12, 9),
        currency=currency,
        lines=body,
        taxes=_taxes(body),
        subtotal=subtotal,
        discount_total=discount,
        tax_total=tax_total,
        total=subtotal - discount + tax_total,
        status="SENT",
        notes="Precios sujetos a disponibilidad.",
    )


def sample_statement(*, entries: int = 40, currency: str = "USD") -> StatementDocument:
    start = date(2024, 1, 1)
    balance = Decimal("1250.00")
    opening = balance
    rows = []
    for i in range(entries):
        day = start + timedelta(days=i * 300 // max(entries, 1))
        if i % 3 == 2:
            amount = Decimal(50 + (i * 31) % 400) + Decimal(i % 100) / 100
            balance -= amount
            rows.append(
                StatementEntry(
                    date=day,
                    kind=EntryKind.PAYMENT,
                    reference=f"REC-{i:06d}",
                    description="Pago recibido, transferencia ACH",
                    credit=amount,
                    balance=balance,
                )
            )
        else:
            amount = Decimal(80 + (i * 53) % 900) + Decimal((i * 7) % 100) / 100
            balance += amount
            rows.append(
                StatementEntry(
                    date=day,
                    kind=EntryKind.INVOICE,
                    reference=f"FE-{i:010d}",
                    description="Factura de venta de materiales",
                    debit=amount,
                    balance=balance,
                )
            )
    return StatementDocument(
        issuer=SAMPLE_ISSUER,
        client=SAMPLE_CLIENT,
        period_from=start,
        period_to=date(2024, 10, 31),
        currency=currency,
        opening_balance=opening,
        entries=tuple(rows),
        closing_balance=balance,
        ageing=Ageing(
            current=Decimal("1200.00"),
            d1_30=Decimal("850.50"),
            d31_60=Decimal("300.00"),
            d61_90=Decimal("0.00"),
            over_90=Decimal("125.25"),
        ),
    )


def sample_report(*, rows: int = 20) -> ReportDocument:
    return ReportDocument(
        title="Ventas por cliente",
        subtitle="Del 01/01/2024 al 31/10/2024",
        issuer=SAMPLE_ISSUER,
        generated_on=date(2024, 11, 24),
        columns=("Cliente", "Facturas", "Total"),
        rows=tuple((f"Cliente {i:03d}", str(1 + i % 9), f"{(i + 1) * 123.45:,.2f}") for i in range(rows)),
        totals=(
            "Total",
            str(sum(1 + i % 9 for i in range(rows))),
            f"{sum((i + 1) * 123.45 for i in range(rows)):,.2f}",
        ),
        numeric_columns=(1, 2),
    )


def sample_document(document_type: DocumentType) -> PdfDocument:
    """Sample data of a type, for previewing a layout before it is saved."""
    match DocumentType(document_type):
        case DocumentType.INVOICE:
            return sample_invoice()
        case DocumentType.CREDIT_NOTE:
            invoice = sample_invoice(lines=2, authorized=False, number="NC-000042")
            return replace(
                invoice, document_type=DocumentType.CREDIT_NOTE, paid=ZERO, balance=invoice.total, due_date=None,
                status="ISSUED",
                invoice_number="F-001234", reason="Devolución de mercancía en mal estado", notes=None,
            )
        case DocumentType.QUOTE:
            return sample_quote()
        case DocumentType.STATEMENT:
            return sample_statement()
        case DocumentType.REPORT:
            return sample_report()
