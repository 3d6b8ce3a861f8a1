"""Ports of outbound delivery: the channel a message leaves by, and what each channel contributes.

A ``MessageChannel`` delivers one outgoing message and says how it went: it returns a ``Receipt``,
or raises ``DeliveryDeferred`` (transient: try again later), ``DeliveryRejected`` (permanent:
trying again cannot help) or ``DeliveryOutcomeUnknown`` (maybe taken: the answer was lost; the
message becomes UNCERTAIN). Anything else it raises counts as transient. Every attempt of one
message carries the same key (an RFC 5322 Message-ID, an idempotency key), which a channel passes
on to its provider where the provider takes one.

Reasons and responses are stored and logged: an adapter never puts a password or token in them.

A channel (emails, WhatsApp) contributes to the shared flows (``application.deliveries.flows``)
its ``ChannelRules``: where its messages are, the checks made just before a send, and how its
prepared message is handed to its ``MessageChannel``. Its recipient rules and its composer stay
in its own package, behind ``DocumentComposer`` for the sends that render a PDF first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from application.files.views import FileView
from application.jobs.ports import JobOutbox
from application.shared.ports import UnitOfWork
from domain.shared.delivery import Delivery


@dataclass(frozen=True, slots=True, kw_only=True)
class Receipt:
    provider: str  # "smtp", "outbox", "aurinko", "whatsapp", ...
    provider_message_id: str | None
    response: str  # short, no secrets: kept in the message's attempt log


class DeliveryDeferred(Exception):
    """Transient: the provider could not take the message now (SMTP 4xx, timeout, 5xx, 429)."""

    def __init__(
        self, reason: str, *, retry_after: timedelta | None = None, provider: str | None = None, code: int | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.provider = provider
        self.code = code


class DeliveryRejected(Exception):
    """Permanent: the provider refused the message (SMTP 5xx, an invalid recipient, bad credentials).
    ``credentials_refused``: the account's token was refused; the connection must be made again."""

    def __init__(
        self, reason: str, *, provider: str | None = None, code: int | None = None, credentials_refused: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.provider = provider
        self.code = code
        self.credentials_refused = credentials_refused


class DeliveryOutcomeUnknown(Exception):
    """The provider may have taken the message, and its answer was lost (the connection dropped or
    timed out after the whole message was handed over). The message becomes UNCERTAIN: sent again
    only by hand, never by itself."""

    def __init__(self, reason: str, *, provider: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.provider = provider


class DeliveryRefused(Exception):
    """A channel's check just before the send refused it (not connected, the window closed, a file
    deleted): the message fails without any call to the provider."""

    def __init__(self, reason: str, *, code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


Outgoing = TypeVar("Outgoing", contravariant=True)


class MessageChannel(Protocol[Outgoing]):
    def deliver(self, message: Outgoing) -> Receipt:
        """Deliver ``message`` once; raise ``DeliveryDeferred`` or ``DeliveryRejected`` when it was
        not taken, ``DeliveryOutcomeUnknown`` when it may have been."""
        ...


@dataclass(frozen=True, slots=True)
class StaleDelivery:
    """An outbound message (``channel``: ``email`` or ``whatsapp``) claimed for sending long ago."""

    channel: str
    tenant_id: str
    message_id: str


class StaleDeliveries(Protocol):
    """One channel's log, across tenants (a unit of work without one): messages SENDING since before ``cutoff``."""

    def sending_since_before(self, cutoff: datetime, *, limit: int) -> list[StaleDelivery]: ...


class DeliveriesUnitOfWork(UnitOfWork, Protocol):
    jobs: JobOutbox
    """Delivery jobs queued here commit (or roll back) with the messages they deliver."""


Message = TypeVar("Message", bound=Delivery)
Prepared = TypeVar("Prepared")
View = TypeVar("View")
ChannelUow = TypeVar("ChannelUow", bound=DeliveriesUnitOfWork, contravariant=True)


class ChannelRules(Protocol[ChannelUow, Message, Prepared, View]):
    """What one channel contributes to the shared send, retry and deliver flows."""

    name: str
    """``email`` or ``whatsapp``: in logs and in the sweep's findings."""
    job: str
    """The job kind that delivers one message (``emails.send``, ``whatsapp.send``)."""
    attempts: int
    """Delivery attempts of one message; its job gets one more, the spare run (see ``DeliverMessage``)."""

    def add(self, uow: ChannelUow, message: Message) -> None: ...

    def locked(self, uow: ChannelUow, message_id: str) -> Message | None:
        """The message, locked until the transaction ends."""
        ...

    def not_found(self, message_id: str) -> Exception: ...

    def view(self, message: Message) -> View: ...

    def read(self, uow: ChannelUow, message_id: str) -> View | None:
        """The message as the log shows it (the read side)."""
        ...

    def may_retry(self, uow: ChannelUow) -> None:
        """Refuse a retry by hand the channel cannot send now (raise a domain error)."""
        ...

    def prepare(self, uow: ChannelUow, message: Message, now: datetime) -> Prepared:
        """Just before the send, in the transaction that claims it: what the send needs, or raise
        ``DeliveryRefused``."""
        ...

    def deliver(self, message: Prepared) -> Receipt:
        """Outside any transaction: read what the message carries and hand it to the channel."""
        ...

    def rejected(self, uow: ChannelUow, error: DeliveryRejected, now: datetime) -> None:
        """After a rejection is recorded, in its transaction (e.g. a refused token: reconnect)."""
        ...


class Plan(Protocol):
    @property
    def render(self) -> Any:
        """The command that renders the document's PDF (the pdf module runs it through the bus)."""
        ...


P = TypeVar("P", bound=Plan)
Cmd = TypeVar("Cmd", contravariant=True)
Result = TypeVar("Result", covariant=True)


class DocumentComposer(Protocol[Cmd, P, Result]):
    """A channel's send of a document's PDF: its recipient rules and its composer, in two steps
    around the render."""

    def plan(self, cmd: Cmd, uow: Any) -> P:
        """Everything that can refuse the send (document, recipients, content), before anything is
        rendered or written."""
        ...

    def queue(self, cmd: Cmd, uow: Any, plan: P, pdf: FileView) -> Result:
        """The message(s) with the rendered PDF, queued with their delivery jobs in one transaction."""
        ...

