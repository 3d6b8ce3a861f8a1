"""WhatsApp: the Graph API sender, phone numbers, the signatures of Meta's webhooks, the send policy."""

from __future__ import annotations

from dependency_injector import providers

from adapters.phones.libphonenumber import LibPhoneNumbers
from application.whatsapp.commands import WhatsappPolicy
from entrypoints.config import Settings
from entrypoints.containers.base import DomainServices


class Services(DomainServices):
    settings = providers.Dependency(instance_of=Settings)
    gateways = providers.DependenciesContainer()

    phone_numbers = providers.Singleton(LibPhoneNumbers, default_region="PA")
    whatsapp_policy = providers.Singleton(WhatsappPolicy, delivery_attempts=settings.provided.job_max_attempts)

    exports = providers.Dict(
        whatsapp_sender=gateways.whatsapp_sender,
        phones=phone_numbers,
        webhook_signatures=gateways.whatsapp_signatures,
        whatsapp_policy=whatsapp_policy,
    )
