"""The ``webhooks.process`` job: run the provider's processor on a stored event, record the outcome.

The event's status follows the job: a processor's PROCESSED or UNMATCHED finishes it;
``PermanentJobError`` or a domain error finishes it FAILED (and fails the job); any other exception leaves it
RECEIVED with the reason while the job has attempts left, and DEAD on the last one (the job is
DEAD too). A replay (``ReplayWebhookEvent``) queues a new job for the same event.
"""

from __future__ import annotations

import structlog

from application.jobs.errors import PermanentJobError, TransientJobError
from application.shared.bus import MessageBus
from application.webhooks.commands import BeginWebhookProcessing, RecordWebhookOutcome
from application.webhooks.ports import WebhookOutcome, WebhookProcessors
from domain.jobs.model import Job
from domain.shared.errors import DomainError
from domain.webhooks.model import WebhookStatus

log = structlog.get_logger(__name__)


class WebhookJob:
    def __init__(self, bus: MessageBus, processors: WebhookProcessors) -> None:
        self._bus = bus
        self._processors = processors

    def __call__(self, job: Job) -> None:
        event_id = str(job.payload.get("event_id") or "")
        if not event_id:
            raise PermanentJobError("the job names no webhook event")
        event = self._bus.handle(BeginWebhookProcessing(actor=None, event_id=event_id))
        if event is None:
            return  # finished by an earlier run of this job
        processor = self._processors.get(event.provider)
        bound = log.bind(webhook_event_id=event.id, provider=event.provider, tenant_id=event.tenant_id)
        if processor is None:
            self._record(event.id, job, WebhookStatus.FAILED, f"no processor is registered for {event.provider!r}")
            raise PermanentJobError(f"no processor is registered for webhook provider {event.provider!r}")
        try:
            outcome = processor(event)
            if not isinstance(outcome, WebhookOutcome):
                raise TypeError(f"the {event.provider} processor returned {type(outcome).__name__}")
        except PermanentJobError as error:
            self._record(event.id, job, WebhookStatus.FAILED, error.reason)
            raise
        except DomainError as error:  # the content breaks a business rule: trying again cannot help
            reason = f"{error.code}: {error.message}"
            self._record(event.id, job, WebhookStatus.FAILED, reason)
            raise PermanentJobError(reason) from error
        except Exception as error:
            reason = error.reason if isinstance(error, TransientJobError) else _describe(error)
            last = job.attempts >= job.max_attempts
            self._record(event.id, job, WebhookStatus.DEAD if last else WebhookStatus.RECEIVED, reason)
            if not isinstance(error, TransientJobError):
                bound.warning("webhook.processor_error", error_type=type(error).__name__, attempt=job.attempts)
            raise
        self._record(event.id, job, outcome.status, outcome.reason, tenant_id=outcome.tenant_id)
        bound.info("webhook.processed", outcome=str(outcome.status))

    def _record(
        self, event_id: str, job: Job, status: WebhookStatus, reason: str | None, *, tenant_id: str | None = None
    ) -> None:
        self._bus.handle(
            RecordWebhookOutcome(
                actor=None, event_id=event_id, attempt=job.attempts, status=status, reason=reason, tenant_id=tenant_id
            )
        )


def _describe(error: Exception) -> str:
    """An unexpected error's type and message (processors keep secrets out of their messages)."""
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
