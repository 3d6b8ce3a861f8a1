"""Clients of a tenant (who invoices and quotes are for), their contacts, and the party a
document is billed to: a registered client, or an ad-hoc one named on the document itself."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.invoicing.errors import InvalidDv, InvalidPhone, InvalidRuc
from domain.invoicing.values import parse_dv, parse_ruc, parse_text
from domain.shared.channels import DeliveryChannel
from domain.shared.email import parse_email
from domain.shared.errors import InvalidInput
from domain.shared.model import Aggregate, DomainEvent, new_id

MAX_CONTACTS = 20
MAX_AD_HOC_EMAILS = 10
_PHONE = re.compile(r"^\+?[0-9][0-9 ().-]{1,38}[0-9]$")


class TaxpayerType(StrEnum):
    NATURAL = "NATURAL"
    JURIDICO = "JURIDICO"
    GOBIERNO = "GOBIERNO"
    CONSUMIDOR_FINAL = "CONSUMIDOR_FINAL"

    @classmethod
    def parse(cls, value: object, *, field: str = "taxpayerType") -> TaxpayerType:
        try:
            return cls(value)
        except ValueError:
            raise InvalidInput(
                f"{field} must be one of {', '.join(cls)}, not {str(value)[:32]!r}", field=field
            ) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactInput:
    """A contact as the caller gives it, before validation."""

    name: str
    email: str | None = None
    phone: str | None = None
    role: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientCreated(DomainEvent):
    client_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientUpdated(DomainEvent):
    client_id: str


def parse_phone(value: object, *, field: str) -> str | None:
    text = parse_text(value, field=field, max_length=40)
    if text is not None and not _PHONE.match(text):
        raise InvalidPhone(
            f"{field} must be digits with optional + ( ) - . or spaces (like +507 6123-4567), not {text!r}",
            field=field,
        )
    return text


def parse_ruc_and_dv(
    ruc: object, dv: object, taxpayer_type: TaxpayerType, *, ruc_field: str = "ruc", dv_field: str = "dv"
) -> tuple[str | None, str | None]:
    """RUC and DV: both required unless the party is a consumidor final; a DV needs a RUC."""
    given_ruc = ruc.strip() if isinstance(ruc, str) else ruc
    given_dv = dv.strip() if isinstance(dv, str) else dv
    optional = taxpayer_type is TaxpayerType.CONSUMIDOR_FINAL
    if given_ruc in (None, ""):
        if not optional:
            raise InvalidRuc(f"{ruc_field} is required for a {taxpayer_type.value} client", field=ruc_field)
        if given_dv not in (None, ""):
            raise InvalidDv(f"{dv_field} is given without a RUC", field=dv_field)
        return None, None
    parsed_ruc = parse_ruc(given_ruc, field=ruc_field)
    if given_dv in (None, ""):
        if not optional:
            raise InvalidDv(
                f"{dv_field} (the RUC check digit) is required for a {taxpayer_type.value} client",
                field=dv_field,
            )
        return parsed_ruc, None
    return parsed_ruc, parse_dv(given_dv, field=dv_field)


class ClientContact:
    """Someone at the client to write to or call; replaced as a whole list when the client is updated."""

    def __init__(
        self,
        *,
        id: str,
        tenant_id: str,
        client_id: str,
        position: int,
        name: str,
        email: str | None,
        phone: str | None,
        role: str | None,
    ) -> None:
        self.id = id
        self.tenant_id = tenant_id
        self.client_id = client_id
        self.position = position
        self.name = name
        self.email = email
        self.phone = phone
        self.role = role


def _contacts(tenant_id: str, client_id: str, contacts: Sequence[ContactInput]) -> list[ClientContact]:
    if len(contacts) > MAX_CONTACTS:
        raise InvalidInput(f"contacts must list at most {MAX_CONTACTS} contacts", field="contacts")
    parsed = []
    for index, contact in enumerate(contacts):
        where = f"contacts[{index}]"
        email = parse_text(contact.email, field=f"{where}.email", max_length=320)
        parsed.append(
            ClientContact(
                id=new_id(),
                tenant_id=tenant_id,
                client_id=client_id,
                position=index,
                name=parse_text(contact.name, field=f"{where}.name", max_length=200, required=True) or "",
                email=None if email is None else parse_email(email, field=f"{where}.email"),
                phone=parse_phone(contact.phone, field=f"{where}.phone"),
                role=parse_text(contact.role, field=f"{where}.role", max_length=100),
            )
        )
    return parsed


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientDetails:
    """The whole editable record of a client, validated."""

    name: str
    ruc: str | None
    dv: str | None
    taxpayer_type: TaxpayerType
    address: str | None

    @classmethod
    def parse(
        cls, *, name: object, ruc: object, dv: object, taxpayer_type: object, address: object
    ) -> ClientDetails:
        kind = TaxpayerType.parse(taxpayer_type)
        parsed_ruc, parsed_dv = parse_ruc_and_dv(ruc, dv, kind)
        return cls(
            name=parse_text(name, field="name", max_length=200, required=True) or "",
            ruc=parsed_ruc,
            dv=parsed_dv,
            taxpayer_type=kind,
            address=parse_text(address, field="address", max_length=500, multiline=True),
        )


class Client(Aggregate):
    contacts: list[ClientContact]
    # how documents go to this client (sendInvoice); a column of ``clients`` (0008_whatsapp)
    default_channel: DeliveryChannel

    def __init__(
        self,
        *,
        id: str,
        tenant_id: str,
        name: str,
        ruc: str | None,
        dv: str | None,
        taxpayer_type: TaxpayerType,
        address: str | None,
        created_at: datetime,
        updated_at: datetime,
    ) -> None:
        self.id = id
        self.tenant_id = tenant_id
        self.name = name
        self.ruc = ruc
        self.dv = dv
        self.taxpayer_type = taxpayer_type
        self.address = address
        self.created_at = created_at
        self.updated_at = updated_at
        self.contacts = []
        self.default_channel = DeliveryChannel.EMAIL

    @classmethod
    def create(
        cls,
        *,
        tenant_id: str,
        details: ClientDetails,
        contacts: Sequence[ContactInput] = (),
        now: datetime,
    ) -> Client:
        client = cls(
            id=new_id(),
            tenant_id=tenant_id,
            name=details.name,
            ruc=details.ruc,
            dv=details.dv,
            taxpayer_type=details.taxpayer_type,
            address=details.address,
            created_at=now,
            updated_at=now,
        )
        client.contacts = _contacts(tenant_id, client.id, contacts)
        client.record(ClientCreated(tenant_id=tenant_id, client_id=client.id))
        return client

    def update(self, *, details: ClientDetails, contacts: Sequence[ContactInput], now: datetime) -> None:
        """Replace the whole editable record, contacts included."""
        replacement = _contacts(self.tenant_id, self.id, contacts)
        self.name = details.name
        self.ruc = details.ruc
        self.dv = details.dv
        self.taxpayer_type = TaxpayerType(details.taxpayer_type)
        self.address = details.address
        self.contacts[:] = replacement
        self.updated_at = now
        self.record(ClientUpdated(tenant_id=self.tenant_id, client_id=self.id))

    def set_default_channel(self, channel: DeliveryChannel, *, now: datetime) -> None:
        """EMAIL, WHATSAPP or BOTH: what ``sendInvoice`` uses when no channel is named."""
        self.default_channel = DeliveryChannel(channel)
        self.updated_at = now
        self.record(ClientUpdated(tenant_id=self.tenant_id, client_id=self.id))


@dataclass(frozen=True, slots=True, kw_only=True)
class BillTo:
    """Who a document is for: a registered client (``client_id``), or an ad-hoc party named on it.

    The name, RUC and DV are kept on the document as they were when it was issued.
    ``emails`` are where the email domain sends an ad-hoc party's documents.
    """

    client_id: str | None
    name: str
    ruc: str | None
    dv: str | None
    emails: tuple[str, ...] = ()

    @classmethod
    def of_client(cls, client: Client) -> BillTo:
        return cls(client_id=client.id, name=client.name, ruc=client.ruc, dv=client.dv)

    @classmethod
    def ad_hoc(
        cls, *, name: object, ruc: object = None, dv: object = None, emails: Sequence[object] = ()
    ) -> BillTo:
        parsed_name = parse_text(name, field="clientName", max_length=200)
        if parsed_name is None:
            raise InvalidInput("clientId or an ad-hoc clientName is required", field="clientName")
        parsed_ruc, parsed_dv = parse_ruc_and_dv(
            ruc, dv, TaxpayerType.CONSUMIDOR_FINAL, ruc_field="clientRuc", dv_field="clientDv"
        )
        if len(emails) > MAX_AD_HOC_EMAILS:
            raise InvalidInput(f"adHocEmails must list at most {MAX_AD_HOC_EMAILS} addresses", field="adHocEmails")
        parsed: list[str] = []
        for index, email in enumerate(emails):
            address = parse_email(email, field=f"adHocEmails[{index}]")
            if address not in parsed:
                parsed.append(address)
        return cls(client_id=None, name=parsed_name, ruc=parsed_ruc, dv=parsed_dv, emails=tuple(parsed))
