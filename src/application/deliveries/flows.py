"""The flows every outbound channel shares: queue, retry by hand, deliver, and send a document.

Queueing writes the messages and their delivery jobs in one transaction. Delivery (one run of a
channel's job) commits SENDING before the channel is called and records the outcome in a second
transaction; a run that finds the message still SENDING marks it UNCERTAIN and sends nothing (see
``domain.shared.delivery``). The job has one attempt more than the delivery: on that spare run
nothing is sent; a message left SENDING by a worker that died on the last attempt becomes
UNCERTAIN there (the runner would otherwise end the job DEAD without running it).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic

import structlog

from application.deliveries.ports import (
    ChannelRules,
    ChannelUow,
    Cmd,
    DeliveryDeferred,
    DeliveryOutcomeUnknown,
    DeliveryRefused,
    DeliveryRejected,
    DocumentComposer,
    Message,
    P,
    Prepared,
    Receipt,
    Result,
    View,
)
from application.jobs.errors import PermanentJobError, TransientJobError
from application.jobs.ports import JobHandler
from application.shared.actors import tenant_actor
from application.shared.messages import Command, Query
from application.shared.modules import Messages
from application.shared.ports import Clock
from domain.jobs.model import Job
from domain.shared.delivery import Begin, DeliveryStatus
from domain.shared.model import parse_id

log = structlog.get_logger(__name__)


def queue(uow: ChannelUow, rules: ChannelRules[ChannelUow, Message, Any, Any], messages: Sequence[Message]) -> None:
    """Inside ``uow``: add the messages and a delivery job for each (committed by the caller)."""
    for message in messages:
        rules.add(uow, message)
        enqueue(uow, rules, message)


def enqueue(uow: ChannelUow, rules: ChannelRules[ChannelUow, Message, Any, Any], message: Message) -> None:
    uow.jobs.enqueue(
        rules.job, {"message_id": message.id}, idempotency_key=message.send_job_key(),
        max_attempts=rules.attempts + 1,  # + the spare run
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryMessage(Command):
    """Queue a FAILED, DEAD or UNCERTAIN message again (same Message-ID and idempotency key)."""

    message_id: str


class RetryHandler(Generic[ChannelUow, Message, View]):
    def __init__(self, rules: ChannelRules[ChannelUow, Message, Any, View], clock: Clock) -> None:
        self._rules = rules
        self._clock = clock

    def __call__(self, cmd: RetryMessage, uow: ChannelUow) -> View:
        tenant_actor(cmd.actor)
        message_id = parse_id(cmd.message_id, field="id")
        with uow:
            self._rules.may_retry(uow)
            message = self._rules.locked(uow, message_id)
            if message is None:
                raise self._rules.not_found(message_id)
            message.retry(now=self._clock.now())
            enqueue(uow, self._rules, message)
            uow.commit()
            log.info("delivery.retried", channel=self._rules.name, message_id=message.id, retries=message.retries)
            return self._rules.view(message)


@dataclass(frozen=True, slots=True, kw_only=True)
class GetMessage(Query):
    """One message of a channel's log."""

    message_id: str


class GetMessageHandler(Generic[ChannelUow, View]):
    def __init__(self, rules: ChannelRules[ChannelUow, Any, Any, View]) -> None:
        self._rules = rules

    def __call__(self, query: GetMessage, uow: ChannelUow) -> View:
        message_id = parse_id(query.message_id, field="id")
        with uow:
            found = self._rules.read(uow, message_id)
        if found is None:
            raise self._rules.not_found(message_id)
        return found


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverMessage(Command):
    """One run of a channel's delivery job (system work, ``actor=None``, in the message's tenant)."""

    message_id: str
    last_attempt: bool = False
    spare: bool = False
    """The job's extra run after the last attempt: only turns a message left SENDING into UNCERTAIN."""


def delivery_job(messages: Messages, command: type[DeliverMessage]) -> JobHandler:
    """The job handler of a channel: one run of ``command`` in the job's tenant."""

    def run(job: Job) -> None:
        if job.tenant_id is None or "message_id" not in job.payload:
            raise PermanentJobError(f"a {job.kind} job names its tenant and message")
        messages.handle(
            command(
                actor=None, message_id=str(job.payload["message_id"]),
                last_attempt=job.attempts >= job.max_attempts - 1, spare=job.attempts >= job.max_attempts,
            ),
            tenant_id=job.tenant_id,
        )

    return run


@dataclass(frozen=True, slots=True)
class _Claimed(Generic[Prepared]):
    prepared: Prepared | None
    status: DeliveryStatus | None
    send: bool


RECORD_RETRY_FOR = 120.0
"""Seconds a delivery keeps trying to record what the channel answered while the database is away:
the send happened, and losing its record would make the message UNCERTAIN on the next run."""


class DeliverHandler(Generic[ChannelUow, Message, Prepared]):
    def __init__(
        self,
        rules: ChannelRules[ChannelUow, Message, Prepared, Any],
        clock: Clock,
        *,
        sleep: Callable[[float], object] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rules = rules
        self._clock = clock
        self._sleep = sleep
        self._monotonic = monotonic

    def __call__(self, cmd: DeliverMessage, uow: ChannelUow) -> DeliveryStatus | None:
        claimed = self._claim(cmd, uow)
        if not claimed.send or claimed.prepared is None:
            return claimed.status
        try:
            receipt: Receipt | Exception = self._rules.deliver(claimed.prepared)
        except (DeliveryRejected, DeliveryDeferred, DeliveryOutcomeUnknown) as error:
            receipt = error
        except Exception as error:  # anything else is transient; the adapters keep secrets out
            log.exception("delivery.send_error", channel=self._rules.name, error_type=type(error).__name__)
            receipt = DeliveryDeferred(f"{type(error).__name__}: {error}")
        status = self._record_until_stored(cmd, uow, receipt)
        log.info("delivery.attempt", channel=self._rules.name, message_id=cmd.message_id, status=str(status))
        if isinstance(receipt, DeliveryRejected):
            raise PermanentJobError(receipt.reason)
        if isinstance(receipt, DeliveryDeferred):
            if cmd.last_attempt:  # DEAD: the job ends too (its spare run is for crashes only)
                raise PermanentJobError(f"delivery attempts spent: {receipt.reason}")
            raise TransientJobError(receipt.reason, retry_after=receipt.retry_after)
        return status

    def _claim(self, cmd: DeliverMessage, uow: ChannelUow) -> _Claimed[Prepared]:
        """SENDING ("maybe sent") is durable before the channel is called."""
        with uow:
            message = self._rules.locked(uow, cmd.message_id)
            if message is None:
                log.warning("delivery.missing", channel=self._rules.name, message_id=cmd.message_id)
                return _Claimed(None, None, send=False)
            status = DeliveryStatus(message.status)
            if cmd.spare and status is not DeliveryStatus.SENDING:
                return _Claimed(None, status, send=False)  # the spare run sends nothing
            now = self._clock.now()
            prepared = None
            if status is DeliveryStatus.QUEUED and not cmd.spare:
                try:
                    prepared = self._rules.prepare(uow, message, now)
                except DeliveryRefused as refused:
                    message.refuse(refused.reason, now=now, code=refused.code)
                    uow.commit()
                    raise PermanentJobError(f"message {message.id}: {refused.reason}") from None
            begin = message.begin_attempt(now=now)
            if begin is Begin.SKIP:
                return _Claimed(None, status, send=False)
            uow.commit()
        if begin is Begin.UNCERTAIN:
            log.warning("delivery.uncertain", channel=self._rules.name, message_id=cmd.message_id)
            return _Claimed(None, DeliveryStatus.UNCERTAIN, send=False)
        return _Claimed(prepared, DeliveryStatus.SENDING, send=True)

    def _record_until_stored(
        self, cmd: DeliverMessage, uow: ChannelUow, outcome: Receipt | Exception
    ) -> DeliveryStatus | None:
        """``_record``, tried again with backoff for up to ``RECORD_RETRY_FOR`` seconds if it fails
        (the database away): then it raises, and the next run finds SENDING (UNCERTAIN)."""
        deadline, delay = self._monotonic() + RECORD_RETRY_FOR, 0.1
        while True:
            try:
                return self._record(cmd, uow, outcome)
            except Exception as error:
                if self._monotonic() + delay > deadline:
                    raise
                log.warning(
                    "delivery.record_retry", channel=self._rules.name, message_id=cmd.message_id,
                    error_type=type(error).__name__,
                )
            self._sleep(delay)
            delay = min(delay * 2, 5.0)

    def _record(self, cmd: DeliverMessage, uow: ChannelUow, outcome: Receipt | Exception) -> DeliveryStatus | None:
        with uow:
            message = self._rules.locked(uow, cmd.message_id)
            if message is None:
                return None
            now = self._clock.now()
            if isinstance(outcome, Receipt):
                message.record_sent(
                    provider=outcome.provider, provider_message_id=outcome.provider_message_id,
                    response=outcome.response, now=now,
                )
            elif isinstance(outcome, DeliveryRejected):
                message.record_rejected(provider=outcome.provider, reason=outcome.reason, now=now, code=outcome.code)
                self._rules.rejected(uow, outcome, now)
            elif isinstance(outcome, DeliveryOutcomeUnknown):
                message.record_unknown(provider=outcome.provider, reason=outcome.reason, now=now)
            else:
                assert isinstance(outcome, DeliveryDeferred)
                message.record_deferred(
                    provider=outcome.provider, reason=outcome.reason, now=now, last=cmd.last_attempt, code=outcome.code
                )
            status = DeliveryStatus(message.status)
            uow.commit()
            return status


class SendDocumentHandler(Generic[Cmd, P, Result]):
    """A document's PDF by one channel: check everything (the channel's plan), render the PDF
    through the pdf module (renders are deterministic: the same file again), then queue."""

    def __init__(self, composer: DocumentComposer[Cmd, P, Result], messages: Messages) -> None:
        self._composer = composer
        self._messages = messages

    def __call__(self, cmd: Cmd, uow: Any) -> Result:
        plan = self._composer.plan(cmd, uow)
        pdf = self._messages.handle(plan.render)
        return self._composer.queue(cmd, uow, plan, pdf)
