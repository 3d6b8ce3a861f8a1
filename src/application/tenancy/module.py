"""The tenancy module: tenants and users, their subscription (Polar) and directory (WorkOS)."""

from __future__ import annotations

from application.shared.modules import Dependencies, DomainModule, Registrations
from application.tenancy import directory, handlers, subscriptions
from application.tenancy.polar import PROVIDER as POLAR, PolarWebhookProcessor
from application.tenancy.workos import PROVIDER as WORKOS, WorkOsWebhookProcessor


def register(deps: Dependencies) -> Registrations:
    clock = deps.clock
    return Registrations(
        handlers={
            handlers.CreateTenant: handlers.CreateTenantHandler(clock),
            handlers.EnsureUser: handlers.EnsureUserHandler(clock),
            handlers.FindTenant: handlers.FindTenantHandler(),
            handlers.ListTenants: handlers.ListTenantsHandler(),
            subscriptions.ApplySubscriptionEvent: subscriptions.ApplySubscriptionEventHandler(clock),
            directory.SyncOrganization: directory.SyncOrganizationHandler(clock),
            directory.SyncDirectoryUser: directory.SyncDirectoryUserHandler(),
            directory.SyncMembership: directory.SyncMembershipHandler(clock),
            directory.SyncDirectorySyncUser: directory.SyncDirectorySyncUserHandler(clock),
        },
        provides={
            "webhook_processors": {
                POLAR: PolarWebhookProcessor(deps.messages),
                WORKOS: WorkOsWebhookProcessor(deps.messages),
            },
        },
    )


MODULE = DomainModule(name="tenancy", needs=("clock",), register=register)
