"""The tenant directory on SQLAlchemy."""

from __future__ import annotations

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from adapters.db.tenancy.tables import tenant_subscriptions, tenants, users
from application.tenancy.ports import Principal
from domain.tenancy.model import Tenant, User
from domain.tenancy.directory import DirectoryUser
from domain.tenancy.subscription import TenantSubscription


class SqlAlchemyTenantDirectory:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, tenant: Tenant) -> None:
        self._session.add(tenant)

    def get(self, tenant_id: str) -> Tenant | None:
        return self._session.get(Tenant, tenant_id)

    def by_slug(self, slug: str) -> Tenant | None:
        return self._session.scalars(select(Tenant).where(tenants.c.slug == slug)).one_or_none()

    def by_reference(self, reference: str) -> Tenant | None:
        return self._session.scalars(
            select(Tenant)
            .where(or_(tenants.c.external_id == reference, tenants.c.slug == reference))
            .order_by(tenants.c.external_id.is_(None))
            .limit(1)
        ).one_or_none()

    def principal(self, tenant_reference: str, user_reference: str) -> Principal | None:
        row = self._session.execute(
            select(tenants.c.id, users.c.active)
            .outerjoin(
                users,
                and_(
                    users.c.tenant_id == tenants.c.id,
                    or_(
                        users.c.id == user_reference,
                        users.c.external_id == user_reference,
                        users.c.email == user_reference,
                    ),
                ),
            )
            .where(
                or_(tenants.c.external_id == tenant_reference, tenants.c.slug == tenant_reference),
                tenants.c.deleted_at.is_(None),  # a deleted organization's tenant authenticates no one
            )
            .order_by(tenants.c.external_id.is_(None), users.c.active.desc())
            .limit(1)
        ).one_or_none()
        return None if row is None else Principal(tenant_id=row.id, user_active=row.active)

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

    # the tenant's subscription, from Polar's webhooks

    def lock_subscription(self, tenant_id: str) -> None:
        """Hold the tenant's row until the transaction ends: its subscription events apply one at a time."""
        if self._session.get_bind().dialect.name == "sqlite":
            self._session.execute(update(tenants).where(tenants.c.id == tenant_id).values(slug=tenants.c.slug))
        else:
            self._session.execute(select(tenants.c.id).where(tenants.c.id == tenant_id).with_for_update())

    def subscription(self, tenant_id: str) -> TenantSubscription | None:
        return self._session.scalars(
            select(TenantSubscription)
            .where(tenant_subscriptions.c.tenant_id == tenant_id)
            .execution_options(populate_existing=True)
        ).one_or_none()

    def add_subscription(self, subscription: TenantSubscription) -> None:
        self._session.add(subscription)

    # the directory, from WorkOS's webhooks

    def by_external_id(self, external_id: str) -> Tenant | None:
        return self._session.scalars(
            select(Tenant).where(tenants.c.external_id == external_id).execution_options(populate_existing=True)
        ).one_or_none()

    def users_of(self, tenant_id: str) -> list[User]:
        return list(self._session.scalars(select(User).where(users.c.tenant_id == tenant_id)))

    def users_by_external_id(self, external_id: str) -> list[User]:
        return list(
            self._session.scalars(
                select(User).where(users.c.external_id == external_id).order_by(users.c.tenant_id)
            )
        )

    def directory_user(self, user_id: str) -> DirectoryUser | None:
        return self._session.get(DirectoryUser, user_id, populate_existing=True)

    def add_directory_user(self, user: DirectoryUser) -> None:
        self._session.add(user)
