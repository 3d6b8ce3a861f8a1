"""The AI assistant: the providers' SDK adapters with the instance's keys and base URLs, the relay
of turns to streams, PDF text, the limits. Its variables are its own (``settings.variables``)."""

from __future__ import annotations

import threading
from datetime import timedelta

from dependency_injector import providers

from adapters.llm.models import DEFAULT_BASE_URLS, InstanceProvider, SdkChatModels
from adapters.llm.pdf_text import PypdfText
from adapters.llm.relay import MemoryTurnEvents, RedisTurnEvents
from application.chats.commands import ChatPolicy
from application.chats.settings import InstanceDefault
from application.chats.ports import TurnEvents
from domain.chats.model import Provider, parse_model_name
from entrypoints.config import ConfigurationError, Settings
from entrypoints.containers.base import DomainServices


def _models(settings: Settings) -> SdkChatModels:
    v = settings.variables
    return SdkChatModels({
        name: InstanceProvider(api_key=v.text(f"{name}_API_KEY"), base_url=v.text(f"{name}_BASE_URL", base) or base)
        for name, base in DEFAULT_BASE_URLS.items()
    })


def _default(settings: Settings) -> InstanceDefault:
    v = settings.variables
    provider, model = v.text("CHATS_PROVIDER"), v.text("CHATS_MODEL")
    if provider is None:
        return InstanceDefault()
    try:
        chosen = Provider.parse(provider)
        return InstanceDefault(provider=chosen, model=parse_model_name(model or _DEFAULT_MODELS[chosen]))
    except Exception as error:  # a DomainError naming the value: the variable is what is wrong
        raise ConfigurationError(f"ISTMO_CHATS_PROVIDER/ISTMO_CHATS_MODEL: {getattr(error, 'message', error)}") from None


_DEFAULT_MODELS = {Provider.OPENAI: "gpt-5-mini", Provider.ANTHROPIC: "claude-sonnet-4-5", Provider.DEEPSEEK: "deepseek-v4-flash"}


def _policy(settings: Settings) -> ChatPolicy:
    v = settings.variables
    return ChatPolicy(
        daily_tokens=v.integer("CHATS_DAILY_TOKENS", 500_000),
        history_tokens=v.integer("CHATS_HISTORY_TOKENS", 24_000, minimum=1000),
        turn_seconds=v.duration("CHATS_TURN_TIMEOUT", timedelta(seconds=120)).total_seconds(),
    )


def _events(settings: Settings) -> TurnEvents:
    url = settings.variables.text("REDIS_URL")
    return RedisTurnEvents(url) if url else MemoryTurnEvents()


def _stream_slots(settings: Settings) -> threading.BoundedSemaphore:
    """The streams this process holds open at most (each holds a request thread)."""
    return threading.BoundedSemaphore(settings.variables.integer("CHATS_MAX_STREAMS", 2))


class Services(DomainServices):
    settings = providers.Dependency(instance_of=Settings)

    chat_models = providers.Singleton(_models, settings=settings)
    chat_default = providers.Singleton(_default, settings=settings)
    chat_policy = providers.Singleton(_policy, settings=settings)
    turn_events = providers.Singleton(_events, settings=settings)
    pdf_text = providers.Singleton(PypdfText)
    stream_slots = providers.Singleton(_stream_slots, settings=settings)

    exports = providers.Dict(
        chat_models=chat_models,
        chat_default=chat_default,
        chat_policy=chat_policy,
        turn_events=turn_events,
        pdf_text=pdf_text,
    )
