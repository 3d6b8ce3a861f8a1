"""The tenants' PAC settings on SQLAlchemy: by tenant (its own), by PAC company id (the webhook route)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.db.invoicing.tables import pac_settings
from domain.invoicing.pac import PacSettings


class SqlAlchemyPacSettingsRepository:
    """Bound to one tenant (its row only), or to every tenant in a unit of work without one."""

    def __init__(self, session: Session, tenant_id: str | None) -> None:
        self._session = session
        self._tenant_id = tenant_id

    def _visible(self, settings: PacSettings | None) -> PacSettings | None:
        if settings is None or (self._tenant_id is not None and settings.tenant_id != self._tenant_id):
            return None
        return settings

    def get(self, tenant_id: str) -> PacSettings | None:
        return self._visible(self._session.get(PacSettings, tenant_id, populate_existing=True))

    def by_company(self, company_id: str) -> PacSettings | None:
        """Any tenant's, even in a tenant-bound unit of work: a company id is unique across tenants."""
        return self._session.scalars(
            select(PacSettings).where(pac_settings.c.company_id == company_id)
        ).one_or_none()

    def add(self, settings: PacSettings) -> None:
        if self._tenant_id is not None and settings.tenant_id != self._tenant_id:
            raise PermissionError("PAC settings of another tenant cannot be added here")
        self._session.add(settings)

    def tenant_ids(self) -> list[str]:
        statement = select(pac_settings.c.tenant_id).order_by(pac_settings.c.tenant_id)
        if self._tenant_id is not None:
            statement = statement.where(pac_settings.c.tenant_id == self._tenant_id)
        return list(self._session.scalars(statement))
