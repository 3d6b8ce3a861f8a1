"""E-mail: addresses, templates, tenants' SMTP settings, and which sender each tenant's mail leaves by."""

from __future__ import annotations

from dependency_injector import providers

from adapters.db.emails.repositories import SqlAlchemyTenantSmtpUrls
from adapters.egress.policy import EgressPolicy
from adapters.email.addresses import EmailValidatorAddressValidator
from adapters.email.chooser import SenderChoice, TenantEmailSenders
from adapters.email.smtp import SmtpUrlSummaries
from adapters.email.templates import SandboxEmailTemplateRenderer
from application.emails.commands import EmailPolicy
from application.emails.ports import EmailSender
from entrypoints.config import Settings
from entrypoints.containers.base import DomainServices


def _email_senders(
    settings: Settings,
    outbox: EmailSender,
    tenant_smtp_urls: SqlAlchemyTenantSmtpUrls,
    connected_mailbox: SenderChoice,
    egress: EgressPolicy,
) -> TenantEmailSenders:
    """Each tenant: its connected mailbox (Aurinko, a gateway) > its own SMTP URL
    (``setEmailSettings``) > ``ISTMO_SMTP_URL`` > the local outbox."""
    return TenantEmailSenders(
        first=[connected_mailbox],
        outbox=outbox,
        default_from=settings.email_from,
        instance_smtp_url=settings.smtp_url,
        tenant_smtp_url=tenant_smtp_urls,
        egress=egress,
    )


def _email_policy(settings: Settings) -> EmailPolicy:
    return EmailPolicy(
        message_id_domain=settings.email_from.rpartition("@")[2].encode("idna").decode("ascii"),
        delivery_attempts=settings.job_max_attempts,
    )


class Services(DomainServices):
    settings = providers.Dependency(instance_of=Settings)
    core = providers.DependenciesContainer()
    gateways = providers.DependenciesContainer()

    tenant_smtp_urls = providers.Singleton(SqlAlchemyTenantSmtpUrls, core.session_factory, core.secret_box)
    smtp_urls = providers.Singleton(SmtpUrlSummaries, egress=core.egress_policy)
    email_addresses = providers.Singleton(EmailValidatorAddressValidator)
    email_renderer = providers.Singleton(SandboxEmailTemplateRenderer)
    email_policy = providers.Singleton(_email_policy, settings=settings)
    email_senders = providers.Singleton(
        _email_senders,
        settings=settings,
        outbox=gateways.outbox_sender,
        tenant_smtp_urls=tenant_smtp_urls,
        connected_mailbox=gateways.aurinko_senders.provided.for_tenant,
        egress=core.egress_policy,
    )

    exports = providers.Dict(
        email_senders=email_senders,
        email_addresses=email_addresses,
        email_renderer=email_renderer,
        email_policy=email_policy,
        smtp_urls=smtp_urls,
    )
