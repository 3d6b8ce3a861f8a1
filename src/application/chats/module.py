"""The AI assistant's module: chats, the tenant's provider settings, the turn the worker runs, and
``ExtractDocumentFields`` for other domains."""

from __future__ import annotations

from application.chats import commands as c
from application.chats import handlers as h
from application.chats.extracting import ExtractDocumentFieldsHandler
from application.chats.extraction import ExtractDocumentFields
from application.chats.settings import (
    ConfigureChatProviderHandler,
    GetChatProviderSettingsHandler,
    InstanceDefault,
    ProviderChoice,
)
from application.chats.turns import RunChatTurnHandler
from application.jobs.errors import PermanentJobError
from application.jobs.ports import JobHandler
from application.shared.modules import Dependencies, DomainModule, Messages, Registrations
from domain.jobs.model import Job


def turn_job(messages: Messages) -> JobHandler:
    def run(job: Job) -> None:
        if job.tenant_id is None or "message_id" not in job.payload:
            raise PermanentJobError(f"a {job.kind} job names its tenant and message")
        messages.handle(c.RunChatTurn(actor=None, message_id=str(job.payload["message_id"])), tenant_id=job.tenant_id)

    return run


def register(deps: Dependencies) -> Registrations:
    clock, secrets = deps.clock, deps.secrets
    policy = deps.get("chat_policy", c.ChatPolicy())
    choice = ProviderChoice(deps.chat_models, secrets, deps.get("chat_default", InstanceDefault()))
    return Registrations(
        handlers={
            c.SendChatMessage: h.SendChatMessageHandler(clock, policy, choice),
            c.RunChatTurn: RunChatTurnHandler(
                clock, policy, choice, deps.messages, deps.turn_events, deps.storage, deps.pdf_text
            ),
            c.RenameChat: h.RenameChatHandler(clock),
            c.DeleteChat: h.DeleteChatHandler(),
            c.ArchiveSessionChats: h.ArchiveSessionChatsHandler(clock),
            c.FindChats: h.FindChatsHandler(policy),
            c.GetChat: h.GetChatHandler(),
            c.GetChatMessages: h.GetChatMessagesHandler(policy),
            c.GetChatMessage: h.GetChatMessageHandler(),
            c.GetCurrentSessionActiveChat: h.GetCurrentSessionActiveChatHandler(),
            c.ConfigureChatProvider: ConfigureChatProviderHandler(secrets, clock, deps.chat_models),
            c.GetChatProviderSettings: GetChatProviderSettingsHandler(),
            ExtractDocumentFields: ExtractDocumentFieldsHandler(choice, deps.storage, deps.pdf_text),
        },
        jobs={c.TURN_JOB: turn_job(deps.messages)},
    )


MODULE = DomainModule(
    name="chats",
    needs=("clock", "secrets", "storage", "chat_models", "turn_events", "pdf_text"),
    requires=("invoicing", "files"),
    register=register,
)
