"""The tenant's fiscal profile: the issuer its invoices, quotes, credit notes and statements print.

One per tenant, replaced as a whole (``updateTenantProfile``). RUC and DV are validated like a
client's; an issuer is a taxpayer (NATURAL, JURIDICO or GOBIERNO), never a consumidor final,
so both are required, and so is the address the DGI's electronic invoice names the issuer at.
A document issued while the tenant has no profile says what is missing instead of printing
blanks (``MISSING_WITHOUT_PROFILE``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.invoicing.clients import TaxpayerType, parse_phone, parse_ruc_and_dv
from domain.invoicing.values import Currency, parse_text
from domain.shared.email import parse_email
from domain.shared.errors import InvalidInput
from domain.shared.model import Aggregate, DomainEvent

MAX_PAYMENT_TERMS_DAYS = 365
_WEBSITE = re.compile(r"^(?:https?://)?[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+(?:/\S*)?$")

# What a document lacks while the tenant has no fiscal profile, as the document says it.
MISSING_WITHOUT_PROFILE = ("legalName", "ruc", "dv", "address")
DEFAULT_CURRENCY = Currency.USD


class Province(StrEnum):
    """Panama's provinces and the comarcas with provincial rank (the DGI's list of places)."""

    BOCAS_DEL_TORO = "BOCAS_DEL_TORO"
    COCLE = "COCLE"
    COLON = "COLON"
    CHIRIQUI = "CHIRIQUI"
    DARIEN = "DARIEN"
    HERRERA = "HERRERA"
    LOS_SANTOS = "LOS_SANTOS"
    PANAMA = "PANAMA"
    VERAGUAS = "VERAGUAS"
    PANAMA_OESTE = "PANAMA_OESTE"
    GUNA_YALA = "GUNA_YALA"
    EMBERA_WOUNAAN = "EMBERA_WOUNAAN"
    NGABE_BUGLE = "NGABE_BUGLE"

    @property
    def printed(self) -> str:
        return _PRINTED[self]


_PRINTED = {
    Province.BOCAS_DEL_TORO: "Bocas del Toro",
    Province.COCLE: "Coclé",
    Province.COLON: "Colón",
    Province.CHIRIQUI: "Chiriquí",
    Province.DARIEN: "Darién",
    Province.HERRERA: "Herrera",
    Province.LOS_SANTOS: "Los Santos",
    Province.PANAMA: "Panamá",
    Province.VERAGUAS: "Veraguas",
    Province.PANAMA_OESTE: "Panamá Oeste",
    Province.GUNA_YALA: "Guna Yala",
    Province.EMBERA_WOUNAAN: "Emberá-Wounaan",
    Province.NGABE_BUGLE: "Ngäbe-Buglé",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class TenantProfileUpdated(DomainEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuerDetails:
    """The whole editable profile, validated."""

    legal_name: str
    trade_name: str | None
    taxpayer_type: TaxpayerType
    ruc: str
    dv: str
    address: str
    province: Province | None
    phone: str | None
    email: str | None
    website: str | None
    payment_terms_days: int
    payment_instructions: str | None
    currency: Currency

    @classmethod
    def parse(
        cls,
        *,
        legal_name: object,
        taxpayer_type: object,
        ruc: object,
        dv: object,
        address: object,
        trade_name: object = None,
        province: object = None,
        phone: object = None,
        email: object = None,
        website: object = None,
        payment_terms_days: object = 0,
        payment_instructions: object = None,
        currency: object = DEFAULT_CURRENCY,
    ) -> IssuerDetails:
        kind = TaxpayerType.parse(taxpayer_type)
        if kind is TaxpayerType.CONSUMIDOR_FINAL:
            raise InvalidInput(
                "taxpayerType of an issuer must be NATURAL, JURIDICO or GOBIERNO: a consumidor final "
                "issues no invoices",
                field="taxpayerType",
            )
        parsed_ruc, parsed_dv = parse_ruc_and_dv(ruc, dv, kind)
        assert parsed_ruc is not None and parsed_dv is not None  # required for every issuer type
        return cls(
            legal_name=parse_text(legal_name, field="legalName", max_length=200, required=True) or "",
            trade_name=parse_text(trade_name, field="tradeName", max_length=200),
            taxpayer_type=kind,
            ruc=parsed_ruc,
            dv=parsed_dv,
            address=parse_text(address, field="address", max_length=500, required=True, multiline=True) or "",
            province=_province(province),
            phone=parse_phone(phone, field="phone"),
            email=_email(email),
            website=_website(website),
            payment_terms_days=_terms(payment_terms_days),
            payment_instructions=parse_text(
                payment_instructions, field="paymentInstructions", max_length=1000, multiline=True
            ),
            currency=Currency.parse(currency),
        )


def _province(value: object) -> Province | None:
    if value in (None, ""):
        return None
    try:
        return Province(value)
    except ValueError:
        raise InvalidInput(
            f"province must be one of {', '.join(Province)}, not {str(value)[:32]!r}", field="province"
        ) from None


def _email(value: object) -> str | None:
    text = parse_text(value, field="email", max_length=254)
    return None if text is None else parse_email(text, field="email")


def _website(value: object) -> str | None:
    text = parse_text(value, field="website", max_length=200)
    if text is None:
        return None
    if not _WEBSITE.match(text.lower()):
        raise InvalidInput(f"website must be a web address like www.example.com.pa, not {text[:80]!r}", field="website")
    return text


def _terms(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_PAYMENT_TERMS_DAYS:
        raise InvalidInput(
            f"paymentTermsDays must be a whole number of days from 0 to {MAX_PAYMENT_TERMS_DAYS}, "
            f"not {str(value)[:16]}",
            field="paymentTermsDays",
        )
    return value


class TenantProfile(Aggregate):
    """The tenant as issuer of its documents (keyed by the tenant's id)."""

    def __init__(
        self,
        *,
        tenant_id: str,
        legal_name: str,
        trade_name: str | None,
        taxpayer_type: TaxpayerType,
        ruc: str,
        dv: str,
        address: str,
        province: Province | None,
        phone: str | None,
        email: str | None,
        website: str | None,
        payment_terms_days: int,
        payment_instructions: str | None,
        currency: Currency,
        updated_at: datetime,
    ) -> None:
        self.tenant_id = tenant_id
        self.legal_name = legal_name
        self.trade_name = trade_name
        self.taxpayer_type = taxpayer_type
        self.ruc = ruc
        self.dv = dv
        self.address = address
        self.province = province
        self.phone = phone
        self.email = email
        self.website = website
        self.payment_terms_days = payment_terms_days
        self.payment_instructions = payment_instructions
        self.currency = currency
        self.updated_at = updated_at

    @classmethod
    def create(cls, *, tenant_id: str, details: IssuerDetails, now: datetime) -> TenantProfile:
        profile = cls(tenant_id=tenant_id, updated_at=now, **_fields(details))
        profile.record(TenantProfileUpdated(tenant_id=tenant_id))
        return profile

    def update(self, *, details: IssuerDetails, now: datetime) -> None:
        for name, value in _fields(details).items():
            setattr(self, name, value)
        self.updated_at = now
        self.record(TenantProfileUpdated(tenant_id=self.tenant_id))


def _fields(details: IssuerDetails) -> dict[str, object]:
    return {
        "legal_name": details.legal_name,
        "trade_name": details.trade_name,
        "taxpayer_type": details.taxpayer_type,
        "ruc": details.ruc,
        "dv": details.dv,
        "address": details.address,
        "province": details.province,
        "phone": details.phone,
        "email": details.email,
        "website": details.website,
        "payment_terms_days": details.payment_terms_days,
        "payment_instructions": details.payment_instructions,
        "currency": details.currency,
    }


def default_currency(profile: TenantProfile | None) -> Currency:
    """The currency of a new invoice or quote whose request names none: the profile's (USD without
    a profile). A credit note is always in its invoice's."""
    return DEFAULT_CURRENCY if profile is None else Currency(profile.currency)
