"""Delivery of one outbound message (email, WhatsApp): its status, its attempts, and UNCERTAIN.

The job runner delivers at least once: a worker may die after it called the provider and
before it recorded the outcome, and the job then runs again. So a delivery records "maybe sent"
(SENDING) in its own transaction *before* the provider is called. A run that finds the message
still SENDING knows an earlier attempt was interrupted after its claim: the provider may or may
not have taken the message, so the message becomes UNCERTAIN and is not sent again — only a
person (``retry``) decides to send it once more, with the same Message-ID / idempotency key.

    QUEUED --begin--> SENDING --sent--> SENT (--> DELIVERED --> READ, where the channel reports them)
    QUEUED --refused before any call (connection, window, a deleted file)--> FAILED
                        |  \\--deferred--> QUEUED (again later) | DEAD (attempts spent)
                        |   \\--rejected--> FAILED
                        |    \\--answer lost (maybe taken)--> UNCERTAIN
                        \\--begin again (interrupted)--> UNCERTAIN
                        \\--abandoned (no run left; the sweep)--> UNCERTAIN
    FAILED | DEAD | UNCERTAIN --retry (by hand)--> QUEUED
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, TypedDict, Unpack

from domain.shared.errors import Conflict, InvalidInput
from domain.shared.model import Aggregate, new_id

MAX_RESPONSE_LENGTH = 500
MAX_ATTEMPTS_KEPT = 50


class DeliveryStatus(StrEnum):
    QUEUED = "QUEUED"
    SENDING = "SENDING"  # claimed: the provider is being (or was maybe) called
    SENT = "SENT"
    FAILED = "FAILED"  # refused for good (permanent error), with its reason
    DEAD = "DEAD"  # transient failures spent the attempts
    UNCERTAIN = "UNCERTAIN"  # an attempt was interrupted after its claim: maybe sent
    DELIVERED = "DELIVERED"  # reported by the channel after SENT (WhatsApp's status webhook)
    READ = "READ"


RETRYABLE_BY_HAND = frozenset({DeliveryStatus.FAILED, DeliveryStatus.DEAD, DeliveryStatus.UNCERTAIN})


class AttemptOutcome(StrEnum):
    SENT = "SENT"
    DEFERRED = "DEFERRED"  # transient: tried again later
    REJECTED = "REJECTED"  # permanent
    INTERRUPTED = "INTERRUPTED"  # the worker died (or lost its lease) between claim and outcome
    UNKNOWN = "UNKNOWN"  # the provider may have taken it; its answer was lost


class Begin(StrEnum):
    """What a delivery job should do after ``begin_attempt``."""

    SEND = "SEND"  # call the provider now (SENDING is committed first)
    UNCERTAIN = "UNCERTAIN"  # an earlier attempt was interrupted: do not send
    SKIP = "SKIP"  # nothing to do (already SENT, FAILED, DEAD or UNCERTAIN)


class NotRetryable(Conflict):
    code = "NOT_RETRYABLE"


class NoRecipients(InvalidInput):
    """A send with nobody to send to (no address, no number, and none on the client)."""

    code = "NO_RECIPIENTS"


def clip_response(text: str) -> str:
    """One bounded line (provider responses are kept; adapters must leave secrets out)."""
    line = " ".join(str(text).split())
    return line if len(line) <= MAX_RESPONSE_LENGTH else line[: MAX_RESPONSE_LENGTH - 1] + "…"


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryAttempt:
    number: int
    started_at: datetime
    finished_at: datetime | None = None
    outcome: AttemptOutcome | None = None
    provider: str | None = None
    response: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "outcome": self.outcome.value if self.outcome else None,
            "provider": self.provider,
            "response": self.response,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DeliveryAttempt:
        return cls(
            number=int(data["number"]),
            started_at=datetime.fromisoformat(data["started_at"]),
            finished_at=datetime.fromisoformat(data["finished_at"]) if data.get("finished_at") else None,
            outcome=AttemptOutcome(data["outcome"]) if data.get("outcome") else None,
            provider=data.get("provider"),
            response=data.get("response"),
        )


class DeliveryState(TypedDict):
    """What every outbound message keeps of its delivery (``Delivery.__init__``)."""

    id: str
    tenant_id: str
    status: DeliveryStatus
    provider: str | None
    last_error: str | None
    attempts: tuple[DeliveryAttempt, ...]
    retries: int
    entity_type: str | None  # what the message is about (a document), if anything
    entity_id: str | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None


def queued(
    *, tenant_id: str, entity: tuple[str, str] | None, created_by: str | None, now: datetime, id: str | None = None
) -> DeliveryState:
    """The delivery state of a message queued ``now`` (a new id unless given)."""
    return DeliveryState(
        id=id or new_id(), tenant_id=tenant_id, status=DeliveryStatus.QUEUED, provider=None, last_error=None,
        attempts=(), retries=0, entity_type=entity[0] if entity else None, entity_id=entity[1] if entity else None,
        created_by=created_by, created_at=now, updated_at=now, sent_at=None,
    )


class Delivery(Aggregate):
    """The delivery state of an outbound message; subclasses add what the message is, name the
    operation that retries them (``retry_operation``) and the key every attempt of one message
    carries (``delivery_key``), and keep ``provider_message_id``."""

    retry_operation = "retry"
    provider_message_id: str | None

    def __init__(self, **state: Unpack[DeliveryState]) -> None:
        self.id = state["id"]
        self.tenant_id = state["tenant_id"]
        self.entity_type = state["entity_type"]
        self.entity_id = state["entity_id"]
        self.status = state["status"]
        self.provider = state["provider"]
        self.last_error = state["last_error"]
        self.attempts = state["attempts"]  # a tuple, replaced on change
        self.retries = state["retries"]
        self.created_by = state["created_by"]
        self.created_at = state["created_at"]
        self.updated_at = state["updated_at"]
        self.sent_at = state["sent_at"]

    @property
    def delivery_key(self) -> str:
        """The same for every attempt of this message (the provider's idempotency key). Each
        channel's message defines it (``EmailMessage``, ``WhatsappDelivery``); a ``Delivery`` is
        never made as such."""
        raise NotImplementedError

    def send_job_key(self) -> str:
        """The idempotency key of the job that delivers this message now (one per hand retry)."""
        return f"{self.delivery_key}:{self.retries}"

    def begin_attempt(self, *, now: datetime) -> Begin:
        status = DeliveryStatus(self.status)
        if status is DeliveryStatus.QUEUED:
            self.status = DeliveryStatus.SENDING
            number = (self.attempts[-1].number + 1) if self.attempts else 1
            self._set_attempts((*self.attempts, DeliveryAttempt(number=number, started_at=now)))
            self.updated_at = now
            return Begin.SEND
        if status is DeliveryStatus.SENDING:
            self._interrupted(
                "an attempt was interrupted after it was claimed: the provider may have taken the "
                f"message; it is sent again only by {self.retry_operation}",
                now=now,
            )
            return Begin.UNCERTAIN
        return Begin.SKIP

    def abandon(self, *, now: datetime, claimed_before: datetime) -> bool:
        """SENDING since before ``claimed_before`` with no run left to find it (the job's last run
        and its spare both stopped mid-attempt): UNCERTAIN, as a re-run would have made it. A late
        answer of that attempt is still recorded (``record_sent`` accepts UNCERTAIN)."""
        if self.status != DeliveryStatus.SENDING or self.updated_at >= claimed_before:
            return False
        self._interrupted(
            "no worker finished the attempt it claimed, and no run of its job is left: the provider "
            "may have taken the message; it is sent again only by hand (retry)",
            now=now,
        )
        return True

    def _interrupted(self, reason: str, *, now: datetime) -> None:
        self.status = DeliveryStatus.UNCERTAIN
        self._close_last(AttemptOutcome.INTERRUPTED, now=now, response=reason)
        self.last_error = reason
        self.updated_at = now
        self._noted(code=None, failed=False, now=now)

    def record_sent(self, *, provider: str, provider_message_id: str | None, response: str, now: datetime) -> None:
        """The provider took the message (also when a concurrent re-run had marked it UNCERTAIN, or
        the channel reported it delivered before this answer came back: then only its id is news)."""
        if DeliveryStatus(self.status) in (DeliveryStatus.DELIVERED, DeliveryStatus.READ):
            if self.provider_message_id is None:
                self.provider_message_id = provider_message_id
            self.sent_at = self.sent_at or now
            return
        if DeliveryStatus(self.status) not in (DeliveryStatus.SENDING, DeliveryStatus.UNCERTAIN):
            raise NotRetryable(f"a {self.status} message cannot be recorded as sent")
        self.status = DeliveryStatus.SENT
        self.provider = provider
        self.provider_message_id = provider_message_id
        self.last_error = None
        self.sent_at = now
        self.updated_at = now
        self._close_last(AttemptOutcome.SENT, now=now, provider=provider, response=response)
        self._noted(code=None, failed=False, now=now)

    def record_deferred(
        self, *, provider: str | None, reason: str, now: datetime, last: bool, code: int | None = None
    ) -> None:
        """A transient failure: QUEUED for the next run, or DEAD if it was the ``last`` attempt."""
        if not self._failure(AttemptOutcome.DEFERRED, provider=provider, reason=reason, now=now):
            return
        self.status = DeliveryStatus.DEAD if last else DeliveryStatus.QUEUED
        self._noted(code=code, failed=last, now=now)

    def record_rejected(self, *, provider: str | None, reason: str, now: datetime, code: int | None = None) -> None:
        if self._failure(AttemptOutcome.REJECTED, provider=provider, reason=reason, now=now):
            self.status = DeliveryStatus.FAILED
            self._noted(code=code, failed=True, now=now)

    def record_unknown(self, *, provider: str | None, reason: str, now: datetime) -> None:
        """Maybe sent (the provider's answer was lost after it got the whole message): UNCERTAIN."""
        if self._failure(AttemptOutcome.UNKNOWN, provider=provider, reason=reason, now=now):
            self.status = DeliveryStatus.UNCERTAIN
            self._noted(code=None, failed=False, now=now)

    def refuse(self, reason: str, *, now: datetime, code: int | None = None) -> None:
        """Refused for good before the provider was called (QUEUED -> FAILED, no attempt)."""
        if DeliveryStatus(self.status) is DeliveryStatus.QUEUED:
            self.status = DeliveryStatus.FAILED
            self.last_error = clip_response(reason)
            self.updated_at = now
            self._noted(code=code, failed=True, now=now)

    def retry(self, *, now: datetime) -> None:
        """By hand: FAILED, DEAD or UNCERTAIN -> QUEUED (same Message-ID and idempotency key); the
        earlier errors stay in the attempt log."""
        if DeliveryStatus(self.status) not in RETRYABLE_BY_HAND:
            raise NotRetryable(
                f"only FAILED, DEAD or UNCERTAIN messages can be retried; this one is {self.status}",
                field="id",
            )
        self.status = DeliveryStatus.QUEUED
        self.retries += 1
        self.last_error = None
        self.updated_at = now
        self._noted(code=None, failed=False, now=now)

    def _failure(self, outcome: AttemptOutcome, *, provider: str | None, reason: str, now: datetime) -> bool:
        """Close the attempt with a failed ``outcome``; True if the message was SENDING (its status moves)."""
        self._close_last(outcome, now=now, provider=provider, response=reason)
        self.last_error = clip_response(reason)
        self.updated_at = now
        return DeliveryStatus(self.status) is DeliveryStatus.SENDING

    def _noted(self, *, code: int | None, failed: bool, now: datetime) -> None:
        """What a channel keeps beside the status after an outcome (WhatsApp: the provider's error
        code, and when the message failed); nothing for a channel that keeps neither."""

    def _close_last(
        self,
        outcome: AttemptOutcome,
        *,
        now: datetime,
        provider: str | None = None,
        response: str | None = None,
    ) -> None:
        if not self.attempts or self.attempts[-1].outcome is not None:
            return
        last = replace(
            self.attempts[-1],
            finished_at=now,
            outcome=outcome,
            provider=provider,
            response=None if response is None else clip_response(response),
        )
        self._set_attempts((*self.attempts[:-1], last))

    def _set_attempts(self, attempts: tuple[DeliveryAttempt, ...]) -> None:
        self.attempts = attempts[-MAX_ATTEMPTS_KEPT:]
