"""The tenant directory on SQLAlchemy."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from adapters.db.orm import tenants, users
from domain.tenancy.model import Tenant, User


class SqlAlchemyTenantDirectory:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, tenant: Tenant) -> None:
        self._session.add(tenant)

    def by_slug(self, slug: str) -> Tenant | None:
        return self._session.scalars(select(Tenant).where(tenants.c.slug == slug)).one_or_none()

    def by_reference(self, reference: str) -> Tenant | None:
        return self._session.scalars(
            select(Tenant)
            .where(or_(tenants.c.external_id == reference, tenants.c.slug == reference))
            .order_by(tenants.c.external_id.is_(None))
            .limit(1)
        ).one_or_none()

    def all_ids(self) -> list[str]:
        return list(self._session.scalars(select(tenants.c.id).order_by(tenants.c.created_at)))

    def add_user(self, user: User) -> None:
        self._session.add(user)

    def user(self, tenant_id: str, reference: str) -> User | None:
        return self._session.scalars(
            select(User)
            .where(
                users.c.tenant_id == tenant_id,
                or_(users.c.id == reference, users.c.external_id == reference, users.c.email == reference),
            )
            .limit(1)
        ).one_or_none()
