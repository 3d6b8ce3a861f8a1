"""The ``ChatModels`` port: the adapter for a provider, and the instance's keys and base URLs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from adapters.llm.anthropic_messages import AnthropicChatModel
from adapters.llm.openai_compatible import OpenAiCompatibleChatModel
from adapters.llm.retrying import Retrying
from application.chats.ports import ChatModel, ProviderAccess

DEFAULT_BASE_URLS = {
    "OPENAI": "https://api.openai.com/v1",
    "ANTHROPIC": "https://api.anthropic.com",
    "DEEPSEEK": "https://api.deepseek.com",
}


@dataclass(frozen=True, slots=True)
class InstanceProvider:
    api_key: str | None
    base_url: str


class SdkChatModels:
    """``instance``: the operator's key and base URL per provider (``ISTMO_OPENAI_API_KEY``, ...)."""

    def __init__(self, instance: Mapping[str, InstanceProvider], retrying: Retrying | None = None) -> None:
        self._instance = dict(instance)
        self._retrying = retrying

    def __repr__(self) -> str:  # never the keys
        return f"SdkChatModels(providers={sorted(k for k, v in self._instance.items() if v.api_key)})"

    def instance_access(self, provider: str) -> ProviderAccess | None:
        found = self._instance.get(str(provider))
        if found is None or not found.api_key:
            return None
        return ProviderAccess(provider=str(provider), api_key=found.api_key, base_url=found.base_url)

    def base_url(self, provider: str) -> str | None:
        found = self._instance.get(str(provider))
        return found.base_url if found else DEFAULT_BASE_URLS.get(str(provider))

    def connect(self, access: ProviderAccess) -> ChatModel:
        provider = str(access.provider)
        base = access.base_url or DEFAULT_BASE_URLS[provider]
        if provider == "ANTHROPIC":
            return AnthropicChatModel(api_key=access.api_key, base_url=base, retrying=self._retrying)
        return OpenAiCompatibleChatModel(name=provider, api_key=access.api_key, base_url=base, retrying=self._retrying)
