"""The webhooks module: the inbox (verified deliveries stored once, processed by a job, replayed).

Each stored event is handed to the processor the owning domain registered for its provider
(``Registrations.provides["webhook_processors"]``); the inbox itself knows no provider.
"""

from __future__ import annotations

from application.shared.modules import Dependencies, DomainModule, Registrations
from application.webhooks import commands as c
from application.webhooks import handlers as h
from application.webhooks.processing import WebhookJob


def register(deps: Dependencies) -> Registrations:
    clock = deps.clock
    return Registrations(
        handlers={
            c.ReceiveWebhook: h.ReceiveWebhookHandler(clock),
            c.BeginWebhookProcessing: h.BeginWebhookProcessingHandler(),
            c.RecordWebhookOutcome: h.RecordWebhookOutcomeHandler(clock),
            c.ReplayWebhookEvent: h.ReplayWebhookEventHandler(clock),
            c.GetWebhookEvent: h.GetWebhookEventHandler(),
            c.FindWebhookEvents: h.FindWebhookEventsHandler(),
            c.ListWebhookEvents: h.ListWebhookEventsHandler(),
        },
        jobs={c.PROCESS_JOB: WebhookJob(deps.messages, deps.provided("webhook_processors"))},
    )


MODULE = DomainModule(name="webhooks", needs=("clock",), register=register)
