"""The tenant's chat provider: its settings (key sealed), and which model a turn talks to."""

from __future__ import annotations

from dataclasses import dataclass

from application.chats.commands import ConfigureChatProvider, GetChatProviderSettings
from application.chats.ports import ChatModel, ChatModels, ChatsUnitOfWork, ProviderAccess
from application.chats.views import ChatProviderSettingsView, settings_view
from application.shared.actors import tenant_actor
from application.shared.ports import Clock
from application.shared.secrets import SecretBox, SecretUnreadable
from domain.chats.errors import ProviderNotConfigured, ProviderSettingsInvalid
from domain.chats.model import (
    ChatProviderSettings,
    Provider,
    SettingsStatus,
    key_context,
    key_hint,
    parse_model_name,
)
from domain.shared.errors import InvalidInput, PermissionDenied
from domain.shared.model import new_id

MAX_KEY = 512


@dataclass(frozen=True, slots=True, kw_only=True)
class InstanceDefault:
    """What a tenant without settings uses: the operator's provider and model (its key from the instance)."""

    provider: Provider | None = None
    model: str | None = None


@dataclass(frozen=True, slots=True)
class Resolved:
    provider: Provider
    model_name: str
    model: ChatModel
    settings: ChatProviderSettings | None
    "the tenant's settings, if it has its own"


class ProviderChoice:
    def __init__(self, models: ChatModels, secrets: SecretBox, default: InstanceDefault) -> None:
        self._models = models
        self._secrets = secrets
        self._default = default

    def provider_of(self, uow: ChatsUnitOfWork) -> Provider:
        settings = uow.chat_settings.get()
        if settings is not None:
            if SettingsStatus(settings.status) is SettingsStatus.INVALID:
                raise self._invalid(settings)
            return Provider(settings.provider)
        if self._default.provider is not None and self._models.instance_access(self._default.provider) is not None:
            return self._default.provider
        raise ProviderNotConfigured(
            "no AI provider is configured: an owner or admin runs configureChatProvider first", field="provider"
        )

    @staticmethod
    def _invalid(settings: ChatProviderSettings) -> ProviderSettingsInvalid:
        return ProviderSettingsInvalid(
            f"{settings.provider} refused the API key; an owner or admin configures the chat provider again "
            f"(configureChatProvider)", field="apiKey",
        )

    def resolve(self, uow: ChatsUnitOfWork) -> Resolved:
        """Inside ``uow``: the model the tenant's turns use; ``ProviderNotConfigured`` or
        ``ProviderSettingsInvalid`` when there is none to use."""
        settings = uow.chat_settings.get()
        if settings is None:
            provider, name = self._default.provider, self._default.model
            access = self._models.instance_access(provider) if provider else None
            if provider is None or name is None or access is None:
                raise ProviderNotConfigured(
                    "no AI provider is configured: an owner or admin runs configureChatProvider first", field="provider"
                )
            return Resolved(provider, name, self._models.connect(access), None)
        provider = Provider(settings.provider)
        if SettingsStatus(settings.status) is SettingsStatus.INVALID:
            raise self._invalid(settings)
        if settings.api_key_sealed is not None:
            try:
                key = self._secrets.open(settings.api_key_sealed, context=key_context(settings.tenant_id, settings.id))
            except SecretUnreadable:
                raise ProviderSettingsInvalid("the stored API key cannot be opened: configure the chat provider again", field="apiKey") from None
            access = ProviderAccess(provider=provider, api_key=key, base_url=self._models.base_url(provider))
        else:
            found = self._models.instance_access(provider)
            if found is None:
                raise ProviderNotConfigured(f"this instance has no {provider} key: configure one with apiKey", field="apiKey")
            access = found
        return Resolved(provider, settings.model, self._models.connect(access), settings)


class ConfigureChatProviderHandler:
    def __init__(self, secrets: SecretBox, clock: Clock, models: ChatModels) -> None:
        self._secrets = secrets
        self._clock = clock
        self._models = models

    def __call__(self, cmd: ConfigureChatProvider, uow: ChatsUnitOfWork) -> ChatProviderSettingsView:
        actor = tenant_actor(cmd.actor)
        if not actor.is_admin:
            raise PermissionDenied("only an owner or an admin may configure the AI provider")
        provider = Provider.parse(cmd.provider)
        model = parse_model_name(cmd.model)
        key = None
        if cmd.api_key is not None:
            key = cmd.api_key.strip()
            if not key or len(key) > MAX_KEY or not key.isascii() or any(ch.isspace() or not ch.isprintable() for ch in key):
                raise InvalidInput(f"apiKey must be one word of 1-{MAX_KEY} printable ASCII characters", field="apiKey")
        elif self._models.instance_access(provider) is None:
            raise InvalidInput(f"this instance has no {provider} key: give apiKey", field="apiKey")
        now = self._clock.now()
        with uow:
            settings = uow.chat_settings.get()
            if settings is None:
                settings = ChatProviderSettings(
                    id=new_id(), tenant_id=actor.tenant_id, provider=provider, model=model, api_key_sealed=None,
                    key_hint=None, status=SettingsStatus.VALID, last_error=None, updated_at=now,
                )
                uow.chat_settings.add(settings)
            settings.provider = provider
            settings.model = model
            settings.api_key_sealed = None if key is None else self._secrets.seal(key, context=key_context(actor.tenant_id, settings.id))
            settings.key_hint = None if key is None else key_hint(key)
            settings.status = SettingsStatus.VALID
            settings.last_error = None
            settings.updated_at = now
            uow.commit()
            return settings_view(settings)


class GetChatProviderSettingsHandler:
    def __call__(self, query: GetChatProviderSettings, uow: ChatsUnitOfWork) -> ChatProviderSettingsView | None:
        tenant_actor(query.actor)
        with uow:
            settings = uow.chat_settings.get()
            return None if settings is None else settings_view(settings)
