"""The ``ChatModels`` port: the adapter for a provider, and the instance's keys and base URLs.

An SDK client costs about 20 ms of CPU to build (its TLS context loads the CA bundle) and holds a
pool of kept-alive connections: one is built per provider, base URL and key, and kept for the
turns that follow (the least recently used beyond ``MAX_CLIENTS`` is let go)."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

from adapters.llm.anthropic_messages import AnthropicChatModel
from adapters.llm.openai_compatible import OpenAiCompatibleChatModel
from adapters.llm.retrying import Retrying
from application.chats.ports import ChatModel, ProviderAccess

MAX_CLIENTS = 64

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

    def __init__(self, instance: Mapping[str, InstanceProvider], retrying: Retrying | None = None, *, max_clients: int = MAX_CLIENTS) -> None:
        self._instance = dict(instance)
        self._retrying = retrying
        self._max_clients = max_clients
        self._clients: OrderedDict[tuple[str, str, str], ChatModel] = OrderedDict()
        self._lock = threading.Lock()

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
        """The model for ``access``: the one built earlier for the same provider, base URL and key
        (by its SHA-256), else a new one."""
        provider = str(access.provider)
        base = access.base_url or DEFAULT_BASE_URLS[provider]
        key = (provider, base, hashlib.sha256(access.api_key.encode()).hexdigest())
        with self._lock:
            found = self._clients.get(key)
            if found is not None:
                self._clients.move_to_end(key)
                return found
        model = self._build(provider, access.api_key, base)
        with self._lock:
            found = self._clients.setdefault(key, model)  # another thread's, if it was quicker
            self._clients.move_to_end(key)
            while len(self._clients) > self._max_clients:
                self._clients.popitem(last=False)
        return found

    def _build(self, provider: str, api_key: str, base: str) -> ChatModel:
        if provider == "ANTHROPIC":
            return AnthropicChatModel(api_key=api_key, base_url=base, retrying=self._retrying)
        return OpenAiCompatibleChatModel(name=provider, api_key=api_key, base_url=base, retrying=self._retrying)
