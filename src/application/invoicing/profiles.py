"""The tenant's fiscal profile: read it, replace it (owners and admins only).

``issuer_party`` is what documents print about their issuer; other domains (pdf) read it with
``GetTenantProfile``'s view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.invoicing.ports import InvoicingUnitOfWork
from application.shared.actors import tenant_actor
from application.shared.messages import Command, Query
from application.shared.ports import Clock
from domain.invoicing.clients import TaxpayerType
from domain.invoicing.issuer import IssuerDetails, Province, TenantProfile
from domain.invoicing.values import Currency
from domain.shared.errors import PermissionDenied


@dataclass(frozen=True, slots=True, kw_only=True)
class TenantProfileView:
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
    updated_at: datetime

    @property
    def printed_address(self) -> str:
        """The address, then the province when the address does not already end with it."""
        if self.province is None or self.address.rstrip(" .").endswith(self.province.printed):
            return self.address
        return f"{self.address}, {self.province.printed}"


def profile_view(profile: TenantProfile) -> TenantProfileView:
    return TenantProfileView(
        legal_name=profile.legal_name,
        trade_name=profile.trade_name,
        taxpayer_type=TaxpayerType(profile.taxpayer_type),
        ruc=profile.ruc,
        dv=profile.dv,
        address=profile.address,
        province=None if profile.province is None else Province(profile.province),
        phone=profile.phone,
        email=profile.email,
        website=profile.website,
        payment_terms_days=profile.payment_terms_days,
        payment_instructions=profile.payment_instructions,
        currency=Currency(profile.currency),
        updated_at=profile.updated_at,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateTenantProfile(Command):
    """Replace the whole profile (created on first use)."""

    legal_name: str
    taxpayer_type: str
    ruc: str
    dv: str
    address: str
    trade_name: str | None = None
    province: str | None = None
    phone: str | None = None
    email: str | None = None
    website: str | None = None
    payment_terms_days: int | None = 0
    payment_instructions: str | None = None
    currency: str = "USD"


@dataclass(frozen=True, slots=True, kw_only=True)
class GetTenantProfile(Query):
    """The tenant's profile, ``None`` until one is saved."""


class UpdateTenantProfileHandler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, cmd: UpdateTenantProfile, uow: InvoicingUnitOfWork) -> TenantProfileView:
        actor = tenant_actor(cmd.actor)
        if not actor.is_admin:
            raise PermissionDenied("only an owner or an admin may change the tenant's fiscal profile")
        details = IssuerDetails.parse(
            legal_name=cmd.legal_name,
            taxpayer_type=cmd.taxpayer_type,
            ruc=cmd.ruc,
            dv=cmd.dv,
            address=cmd.address,
            trade_name=cmd.trade_name,
            province=cmd.province,
            phone=cmd.phone,
            email=cmd.email,
            website=cmd.website,
            payment_terms_days=cmd.payment_terms_days,
            payment_instructions=cmd.payment_instructions,
            currency=cmd.currency,
        )
        now = self._clock.now()
        with uow:
            profile = uow.tenant_profile.get()
            if profile is None:
                profile = TenantProfile.create(tenant_id=actor.tenant_id, details=details, now=now)
                uow.tenant_profile.add(profile)
            else:
                profile.update(details=details, now=now)
            uow.commit()
            return profile_view(profile)


class GetTenantProfileHandler:
    def __call__(self, query: GetTenantProfile, uow: InvoicingUnitOfWork) -> TenantProfileView | None:
        with uow:
            profile = uow.tenant_profile.get()
            return None if profile is None else profile_view(profile)
