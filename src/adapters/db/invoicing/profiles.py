"""The tenant's fiscal profile on SQLAlchemy: one row, the bound tenant's own."""

from __future__ import annotations

from sqlalchemy.orm import Session

from domain.invoicing.issuer import TenantProfile
from domain.shared.model import Aggregate


class SqlAlchemyTenantProfileRepository:
    def __init__(self, session: Session, tenant_id: str, seen: list[Aggregate]) -> None:
        self._session = session
        self._tenant_id = tenant_id
        self._seen = seen

    def get(self) -> TenantProfile | None:
        profile = self._session.get(TenantProfile, self._tenant_id, populate_existing=True)
        if profile is not None:
            self._seen.append(profile)
        return profile

    def add(self, profile: TenantProfile) -> None:
        if profile.tenant_id != self._tenant_id:
            raise PermissionError("the profile of another tenant cannot be added here")
        self._session.add(profile)
        self._seen.append(profile)
