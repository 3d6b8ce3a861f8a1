"""Webhooks: the inbox hands each stored event to the processor its provider's domain registered."""

from __future__ import annotations

from dependency_injector import providers

from entrypoints.containers.base import DomainServices


class Services(DomainServices):
    webhook_processors = providers.Object(None)
    """Replaces the processors the modules register, by provider (tests); ``None``: theirs."""

    exports = providers.Dict(webhook_processors=webhook_processors)
