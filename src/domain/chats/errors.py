"""Errors of the AI assistant, each with a stable code the entrypoints map."""

from __future__ import annotations

from domain.shared.errors import Conflict, DomainError, InvalidInput


class ChatArchived(Conflict):
    code = "CHAT_ARCHIVED"


class AttachmentRefused(InvalidInput):
    code = "ATTACHMENT_REFUSED"


class ProviderNotConfigured(DomainError):
    code = "PROVIDER_NOT_CONFIGURED"


class ProviderSettingsInvalid(DomainError):
    """The provider refused the key (401/403): the settings are marked invalid until configured again."""

    code = "PROVIDER_SETTINGS_INVALID"


class ProviderBalanceExhausted(DomainError):
    code = "PROVIDER_BALANCE_EXHAUSTED"


class ProviderUnavailable(DomainError):
    code = "PROVIDER_UNAVAILABLE"


class TokenBudgetSpent(DomainError):
    code = "TOKEN_BUDGET_SPENT"


class ToolLoopExceeded(DomainError):
    code = "TOOL_LOOP_EXCEEDED"
