"""Every emails command and query, through the bus from ``build_message_bus``, on in-memory fakes.

Senders are ``FakeEmailSender`` (scriptable); addresses and templates use the real pure adapters
(``email-validator`` and the Jinja sandbox: no I/O). The ``emails.send`` job is run by hand with
the handler the workers use (``build_service(...).job_handlers``). Each refused input is checked twice: the
error names the problem (code, field), and nothing was written (no message, no job, no file).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from adapters.email.addresses import EmailValidatorAddressValidator
from adapters.email.smtp import SmtpUrlSummaries
from adapters.secrets.fernet import FernetSecretBox, generate_key
from adapters.email.templates import SandboxEmailTemplateRenderer
from adapters.storage.mime import SniffingMimeDetector
from application.emails.delivery import EMAILS_SEND
from application.modules import build_service
from application.emails.commands import (
    CreateClientEmail,
    DeleteClientEmail,
    DeleteEmailTemplate,
    DeliverEmail,
    FindEmailMessages,
    FindEmailTemplates,
    GetClientEmails,
    GetEmailMessage,
    GetEmailSettings,
    ResendInvoiceEmail,
    RetryEmail,
    SendEmail,
    SendPdfEmail,
    SendStatementEmail,
    SetEmailSettings,
    SetEmailTemplate,
)
from application.deliveries.ports import DeliveryDeferred, DeliveryOutcomeUnknown, DeliveryRejected
from application.emails.views import EmailMessageView
from application.files.commands import AddFile, FilePolicy
from application.files.staging import stage_chunks
from application.files.views import FileView
from application.invoicing.commands import CreateClient, CreateInvoice, CreateQuote
from application.invoicing.views import ClientView, InvoiceView
from application.jobs.errors import PermanentJobError, TransientJobError
from application.tenancy.handlers import CreateTenant
from domain.files.model import EntityType, FileStatus
from domain.invoicing.lines import LineInput
from domain.jobs.model import Job, JobStatus
from domain.shared.delivery import AttemptOutcome, DeliveryStatus
from domain.shared.errors import DomainError
from domain.tenancy.model import Actor, Role
from tests.fakes.clock import FakeClock
from tests.fakes.emails import FakeEmailSender, FakeEmailSenders
from tests.fakes.pdf import FakePdfRenderer
from tests.fakes.storage import FakeFileStorage
from tests.fakes.uow import FakeStore, fake_uow_factory

NOON = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
POLICY = FilePolicy(tmp_file_ttl=timedelta(hours=2))


class World:
    def __init__(self) -> None:
        self.clock = FakeClock(NOON)
        self.store = FakeStore()
        self.storage = FakeFileStorage(self.clock)
        self.renderer = FakePdfRenderer()
        self.sender = FakeEmailSender()
        self.senders = FakeEmailSenders(self.sender)
        self.secrets = FernetSecretBox([generate_key()])
        service = build_service(
            uow_factory=fake_uow_factory(self.store, self.clock),
            storage=self.storage,
            mime=SniffingMimeDetector(),
            clock=self.clock,
            file_policy=POLICY,
            pdf_renderer=self.renderer,
            email_senders=self.senders,
            email_addresses=EmailValidatorAddressValidator(),
            email_renderer=SandboxEmailTemplateRenderer(),
            secrets=self.secrets,
            smtp_urls=SmtpUrlSummaries(),
        )
        self.bus, self.job_handlers = service.bus, service.job_handlers

    def tenant(self, slug: str) -> Actor:
        created = self.bus.handle(CreateTenant(actor=None, slug=slug, name=f"{slug.title()} & Hijos, S.A."))
        return Actor(tenant_id=created.tenant_id, user_id=f"owner@{slug}.pa", role=Role.OWNER)

    def client(self, actor: Actor, name: str = "Constructora Las Cumbres, S.A.") -> ClientView:
        return self.bus.handle(
            CreateClient(actor=actor, name=name, taxpayer_type="JURIDICO", ruc="8-123-4567", dv="12")
        )

    def invoice(self, actor: Actor, client: ClientView | None = None, ad_hoc: tuple[str, ...] = ()) -> InvoiceView:
        lines = (LineInput(description="Cemento gris", quantity="10", unit_price="8.50", tax_rate=7),)
        who: dict[str, Any] = (
            {"client_id": client.id} if client else {"client_name": "Consumidor final", "ad_hoc_emails": ad_hoc}
        )
        return self.bus.handle(CreateInvoice(actor=actor, lines=lines, **who))

    def file(self, actor: Actor, data: bytes = b"%PDF-1.7\nadjunto\n%%EOF\n", name: str = "adjunto.pdf") -> FileView:
        staged = stage_chunks(self.storage, [data], max_size=1 << 30)
        return self.bus.handle(AddFile(actor=actor, content=staged, name=name, temporary=True))

    def default_email(self, actor: Actor, client: ClientView, email: str, kind: str = "TO") -> Any:
        return self.bus.handle(CreateClientEmail(actor=actor, client_id=client.id, email=email, kind=kind))

    def send(self, actor: Actor, **fields: Any) -> EmailMessageView:
        fields.setdefault("to", ("ana@cliente.com.pa",))
        fields.setdefault("subject", "Hola")
        fields.setdefault("text", "Cuerpo")
        return self.bus.handle(SendEmail(actor=actor, **fields))

    def jobs(self, status: JobStatus | None = JobStatus.QUEUED) -> list[Job]:
        return [
            j for j in self.store.jobs.values() if j.kind == EMAILS_SEND and (status is None or j.status == status)
        ]

    def run_jobs(self) -> list[Exception]:
        """Run every queued emails.send job once, as a worker would (one attempt each)."""
        errors: list[Exception] = []
        for job in self.jobs():
            running = dataclasses.replace(job, status=JobStatus.RUNNING, attempts=job.attempts + 1)
            self.store.jobs[job.id] = running
            try:
                self.job_handlers[EMAILS_SEND](running)
            except (TransientJobError, PermanentJobError) as error:
                errors.append(error)
                status = JobStatus.QUEUED if isinstance(error, TransientJobError) else JobStatus.FAILED
                if isinstance(error, TransientJobError) and running.attempts >= running.max_attempts:
                    status = JobStatus.DEAD
                self.store.jobs[job.id] = dataclasses.replace(running, status=status)
            else:
                self.store.jobs[job.id] = dataclasses.replace(running, status=JobStatus.SUCCEEDED)
        return errors

    def message(self, actor: Actor, message_id: str) -> EmailMessageView:
        return self.bus.handle(GetEmailMessage(actor=actor, message_id=message_id))

    def snapshot(self) -> tuple[Any, ...]:
        emails = self.store.emails
        return (
            sorted(emails.client_emails),
            sorted((m.id, m.status, m.retries) for m in emails.messages.values()),
            sorted(emails.templates),
            sorted((k, v.smtp_url_sealed, v.from_address) for k, v in emails.settings.items()),
            sorted(self.store.jobs),
            sorted((f.id, f.status, tuple((l.entity_type, l.entity_id) for l in f.links)) for f in self.store.files.values()),
            len(self.renderer.renders),
        )


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def acme(world: World) -> Actor:
    return world.tenant("acme")


@pytest.fixture
def globex(world: World) -> Actor:
    return world.tenant("globex")


@contextmanager
def refused(world: World, code: str, field: str | None) -> Iterator[pytest.ExceptionInfo[DomainError]]:
    before = world.snapshot()
    with pytest.raises(DomainError) as error:
        yield error
    assert (error.value.code, error.value.field) == (code, field), error.value.message
    assert world.snapshot() == before, "a refused request left something behind"


# --- client defaults -----------------------------------------------------------------------------


def test_client_emails_are_validated_listed_and_deleted(world: World, acme: Actor) -> None:
    client = world.client(acme)
    to = world.default_email(acme, client, "Compras@Cumbres.com.pa")
    world.clock.advance(timedelta(seconds=1))
    cc = world.default_email(acme, client, "contabilidad@cumbres.com.pa", "CC")
    assert (to.email, str(to.kind)) == ("Compras@cumbres.com.pa", "TO")  # the domain is normalised
    listed = world.bus.handle(GetClientEmails(actor=acme, client_ids=(client.id,)))
    assert [e.id for e in listed[client.id]] == [to.id, cc.id]
    assert world.bus.handle(DeleteClientEmail(actor=acme, client_email_id=cc.id)) == cc.id
    assert [e.id for e in world.bus.handle(GetClientEmails(actor=acme, client_ids=(client.id,)))[client.id]] == [to.id]


@pytest.mark.parametrize(
    ("email", "kind", "code", "field"),
    [
        ("not-an-address", "TO", "INVALID_EMAIL", "email"),
        ("ana@cumbres", "TO", "INVALID_EMAIL", "email"),
        ("ana@cumbres.com.pa\r\nBcc: x@y.com", "TO", "INVALID_EMAIL", "email"),
        ("ana@cumbres.com.pa", "FROM", "INVALID_INPUT", "kind"),
        ("compras@cumbres.com.pa", "CC", "CLIENT_EMAIL_EXISTS", "email"),
    ],
)
def test_bad_client_emails_are_refused(world: World, acme: Actor, email: str, kind: str, code: str, field: str) -> None:
    client = world.client(acme)
    world.default_email(acme, client, "compras@cumbres.com.pa")
    with refused(world, code, field):
        world.default_email(acme, client, email, kind)


def test_client_emails_of_an_unknown_or_foreign_client_are_refused(world: World, acme: Actor, globex: Actor) -> None:
    foreign = world.client(globex)
    with refused(world, "NOT_FOUND", "clientId"):
        world.default_email(acme, foreign, "ana@x.com")
    theirs = world.default_email(globex, foreign, "ana@x.com")
    with refused(world, "NOT_FOUND", "id"):
        world.bus.handle(DeleteClientEmail(actor=acme, client_email_id=theirs.id))


# --- sendEmail -------------------------------------------------------------------------------------


def test_send_email_queues_one_message_and_one_job_then_delivers_it(world: World, acme: Actor) -> None:
    attachment = world.file(acme)
    queued = world.send(
        acme, cc=("jefe@cliente.com.pa",), bcc=("archivo@acme.pa",), html="<p>Cuerpo</p>",
        attachment_file_ids=(attachment.id,), entity_type="CLIENT", entity_id="c-1",
    )
    assert queued.status is DeliveryStatus.QUEUED
    assert queued.message_id == f"<{queued.id}@istmo.example.com>"
    [job] = world.jobs()
    assert job.payload == {"message_id": queued.id}
    assert job.idempotency_key == f"email:{queued.id}:0"
    kept = world.store.files[attachment.id]
    assert kept.status is FileStatus.READY  # attached: no longer a temporary upload
    assert (EntityType.EMAIL_MESSAGE, queued.id) in [(l.entity_type, l.entity_id) for l in kept.links]

    assert world.run_jobs() == []
    [sent] = world.sender.sent
    assert sent.message_id == queued.message_id and sent.idempotency_key == f"email:{queued.id}"
    assert (sent.to, sent.cc, sent.bcc) == (("ana@cliente.com.pa",), ("jefe@cliente.com.pa",), ("archivo@acme.pa",))
    assert [(a.name, a.mime, a.data) for a in sent.attachments] == [
        ("adjunto.pdf", "application/pdf", b"%PDF-1.7\nadjunto\n%%EOF\n")
    ]
    done = world.message(acme, queued.id)
    assert done.status is DeliveryStatus.SENT and done.provider == "fake" and done.provider_message_id == "fake-1"
    assert [a.outcome for a in done.attempts] == [AttemptOutcome.SENT]
    assert (done.entity_type, done.entity_id) == ("CLIENT", "c-1")
    assert world.run_jobs() == [] and len(world.sender.sent) == 1


def test_send_email_without_subject_or_body_uses_the_generic_template(world: World, acme: Actor) -> None:
    queued = world.send(acme, subject=None, text=None, message="Le escribo por <su pedido>.")
    assert queued.subject == "Mensaje de Acme & Hijos, S.A."
    assert "Le escribo por <su pedido>." in (queued.text or "")
    assert "Le escribo por &lt;su pedido&gt;." in (queued.html or "")  # the HTML body is escaped
    english = world.send(acme, subject=None, text=None, locale="en")
    assert english.subject == "Message from Acme & Hijos, S.A."


def test_signature_approval_emails_carry_the_link(world: World, acme: Actor) -> None:
    queued = world.send(
        acme, kind="SIGNATURE_APPROVAL", subject=None, text=None, action_url="https://firmas.example.com/s/1"
    )
    assert queued.subject == "Acme & Hijos, S.A. le solicita firmar un documento"
    assert 'href="https://firmas.example.com/s/1"' in (queued.html or "")


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"to": ("bad",)}, "INVALID_EMAIL", "to[0]"),
        ({"cc": ("ok@x.com", "nope@")}, "INVALID_EMAIL", "cc[1]"),
        ({"to": ()}, "NO_RECIPIENTS", "to"),
        ({"to": (), "cc": ("ok@x.com",)}, "NO_RECIPIENTS", "to"),
        ({"subject": "a\nBcc: evil@x.com"}, "INVALID_INPUT", "subject"),
        ({"kind": "INVOICE"}, "INVALID_INPUT", "kind"),
        ({"kind": "NEWSLETTER"}, "INVALID_INPUT", "kind"),
        ({"attachment_file_ids": ("3f1d7e8a-0000-4000-8000-000000000000",)}, "NOT_FOUND", "attachmentFileIds[0]"),
        ({"attachment_file_ids": ("../etc/passwd",)}, "INVALID_INPUT", "attachmentFileIds[0]"),
        ({"entity_type": "SPACESHIP", "entity_id": "1"}, "UNKNOWN_ENTITY_TYPE", "entityType"),
        ({"action_url": "javascript:alert(1)"}, "INVALID_INPUT", "actionUrl"),
        ({"to": tuple(f"u{i}@x.com" for i in range(51))}, "TOO_MANY_RECIPIENTS", "to"),
    ],
)
def test_bad_sends_are_refused_before_anything_is_queued(
    world: World, acme: Actor, fields: dict[str, Any], code: str, field: str
) -> None:
    world.file(acme)
    with refused(world, code, field):
        world.send(acme, **fields)


def test_an_attachment_of_another_tenant_is_not_found(world: World, acme: Actor, globex: Actor) -> None:
    theirs = world.file(globex)
    with refused(world, "NOT_FOUND", "attachmentFileIds[0]"):
        world.send(acme, attachment_file_ids=(theirs.id,))


# --- delivery outcomes -------------------------------------------------------------------------------


def test_a_deferred_send_is_queued_again_then_dead_when_the_attempts_are_spent(world: World, acme: Actor) -> None:
    world.sender.script = lambda email: DeliveryDeferred("421 4.7.0 try again later")
    queued = world.send(acme)
    [error] = world.run_jobs()
    assert isinstance(error, TransientJobError) and "421" in error.reason
    assert world.message(acme, queued.id).status is DeliveryStatus.QUEUED
    [job] = world.jobs()
    assert job.max_attempts == 9  # 8 deliveries and the spare run
    world.store.jobs[job.id] = dataclasses.replace(job, attempts=job.max_attempts - 2)
    [last] = world.run_jobs()
    assert isinstance(last, PermanentJobError) and "attempts spent" in last.reason  # the job ends with it
    dead = world.message(acme, queued.id)
    assert dead.status is DeliveryStatus.DEAD and dead.last_error == "421 4.7.0 try again later"
    assert [a.outcome for a in dead.attempts] == [AttemptOutcome.DEFERRED, AttemptOutcome.DEFERRED]
    world.sender.script = None
    assert world.bus.handle(RetryEmail(actor=acme, message_id=queued.id)).status is DeliveryStatus.QUEUED
    world.run_jobs()
    assert world.message(acme, queued.id).status is DeliveryStatus.SENT


def test_a_rejected_send_fails_at_once(world: World, acme: Actor) -> None:
    world.sender.script = lambda email: DeliveryRejected("550 5.1.1 no such user")
    queued = world.send(acme)
    [error] = world.run_jobs()
    assert isinstance(error, PermanentJobError)
    failed = world.message(acme, queued.id)
    assert failed.status is DeliveryStatus.FAILED and failed.last_error == "550 5.1.1 no such user"


def test_a_lost_answer_makes_the_message_uncertain_and_the_job_ends(world: World, acme: Actor) -> None:
    world.sender.script = lambda email: DeliveryOutcomeUnknown("connection lost after the final dot")
    queued = world.send(acme)
    assert world.run_jobs() == []
    uncertain = world.message(acme, queued.id)
    assert uncertain.status is DeliveryStatus.UNCERTAIN
    assert uncertain.attempts[-1].outcome is AttemptOutcome.UNKNOWN
    assert world.run_jobs() == [] and world.sender.calls == 1  # nothing queued: not sent again


def test_an_unexpected_sender_error_is_transient(world: World, acme: Actor) -> None:
    world.sender.script = lambda email: ConnectionResetError("reset by peer")
    queued = world.send(acme)
    [error] = world.run_jobs()
    assert isinstance(error, TransientJobError) and "ConnectionResetError" in error.reason
    assert world.message(acme, queued.id).status is DeliveryStatus.QUEUED


def test_a_rerun_after_a_crash_between_claim_and_commit_is_uncertain_and_sends_nothing(
    world: World, acme: Actor
) -> None:
    queued = world.send(acme)
    [job] = world.jobs()

    def crash(email: Any) -> Exception:
        raise SystemExit("the worker died while the provider was being called")

    world.sender.script = crash
    with pytest.raises(SystemExit):
        world.job_handlers[EMAILS_SEND](dataclasses.replace(job, status=JobStatus.RUNNING, attempts=1))
    assert world.message(acme, queued.id).status is DeliveryStatus.SENDING  # committed before the call
    world.sender.script = None
    calls = world.sender.calls
    world.job_handlers[EMAILS_SEND](dataclasses.replace(job, status=JobStatus.RUNNING, attempts=2))  # the lease expired
    uncertain = world.message(acme, queued.id)
    assert uncertain.status is DeliveryStatus.UNCERTAIN
    assert uncertain.attempts[-1].outcome is AttemptOutcome.INTERRUPTED
    assert world.sender.calls == calls  # nothing sent again by the job
    world.job_handlers[EMAILS_SEND](dataclasses.replace(job, status=JobStatus.RUNNING, attempts=3))
    assert world.sender.calls == calls

    retried = world.bus.handle(RetryEmail(actor=acme, message_id=queued.id))
    assert retried.retries == 1
    world.run_jobs()
    [again] = world.sender.sent
    assert again.message_id == queued.message_id  # the same Message-ID: the recipient can tell
    assert world.message(acme, queued.id).status is DeliveryStatus.SENT


def test_the_spare_run_after_a_crash_on_the_last_attempt_makes_it_uncertain_and_sends_nothing(
    world: World, acme: Actor
) -> None:
    queued = world.send(acme)
    [job] = world.jobs()

    def crash(email: Any) -> Exception:
        raise SystemExit("the worker died on the last attempt")

    world.sender.script = crash
    with pytest.raises(SystemExit):
        world.job_handlers[EMAILS_SEND](dataclasses.replace(job, status=JobStatus.RUNNING, attempts=job.max_attempts - 1))
    world.sender.script = None
    calls = world.sender.calls
    world.job_handlers[EMAILS_SEND](dataclasses.replace(job, status=JobStatus.RUNNING, attempts=job.max_attempts))
    assert world.message(acme, queued.id).status is DeliveryStatus.UNCERTAIN
    assert world.sender.calls == calls
    fresh = world.send(acme)
    [other] = [j for j in world.jobs() if j.payload["message_id"] == fresh.id]
    world.job_handlers[EMAILS_SEND](dataclasses.replace(other, status=JobStatus.RUNNING, attempts=other.max_attempts))
    assert world.message(acme, fresh.id).status is DeliveryStatus.QUEUED  # a spare run never sends
    assert world.sender.calls == calls


def test_retry_refuses_queued_or_sent_messages_and_other_tenants(world: World, acme: Actor, globex: Actor) -> None:
    queued = world.send(acme)
    with refused(world, "NOT_RETRYABLE", "id"):
        world.bus.handle(RetryEmail(actor=acme, message_id=queued.id))
    world.run_jobs()
    with refused(world, "NOT_RETRYABLE", "id"):
        world.bus.handle(RetryEmail(actor=acme, message_id=queued.id))
    with refused(world, "NOT_FOUND", "id"):
        world.bus.handle(RetryEmail(actor=globex, message_id=queued.id))


def test_a_deleted_attachment_fails_the_send(world: World, acme: Actor) -> None:
    from application.files.commands import DeleteFile

    attachment = world.file(acme)
    queued = world.send(acme, attachment_file_ids=(attachment.id,))
    world.bus.handle(DeleteFile(actor=acme, file_id=attachment.id))
    [error] = world.run_jobs()
    assert isinstance(error, PermanentJobError)
    assert world.message(acme, queued.id).status is DeliveryStatus.FAILED
    assert world.sender.sent == []


def test_the_job_of_a_message_of_another_tenant_finds_nothing(world: World, acme: Actor, globex: Actor) -> None:
    queued = world.send(acme)
    assert world.bus.handle(DeliverEmail(actor=None, message_id=queued.id), tenant_id=globex.tenant_id) is None
    assert world.sender.calls == 0


# --- documents -----------------------------------------------------------------------------------------


def test_send_pdf_email_resolves_explicit_then_ad_hoc_then_client_defaults(world: World, acme: Actor) -> None:
    client = world.client(acme)
    world.default_email(acme, client, "compras@cumbres.com.pa")
    world.default_email(acme, client, "conta@cumbres.com.pa", "CC")
    world.default_email(acme, client, "archivo@cumbres.com.pa", "BCC")
    invoice = world.invoice(acme, client)
    by_defaults = world.bus.handle(SendPdfEmail(actor=acme, entity_type="INVOICE", entity_id=invoice.id))
    assert (by_defaults.to, by_defaults.cc, by_defaults.bcc) == (
        ("compras@cumbres.com.pa",), ("conta@cumbres.com.pa",), ("archivo@cumbres.com.pa",)
    )
    explicit = world.bus.handle(
        SendPdfEmail(actor=acme, entity_type="INVOICE", entity_id=invoice.id, to=("gerente@cumbres.com.pa",))
    )
    assert (explicit.to, explicit.cc, explicit.bcc) == (("gerente@cumbres.com.pa",), (), ())
    ad_hoc = world.invoice(acme, ad_hoc=("juan@correo.pa", "maria@correo.pa"))
    by_ad_hoc = world.bus.handle(SendPdfEmail(actor=acme, entity_type="INVOICE", entity_id=ad_hoc.id))
    assert by_ad_hoc.to == ("juan@correo.pa", "maria@correo.pa")

    assert by_defaults.subject == f"Factura {invoice.number} de Acme & Hijos, S.A."
    assert "Constructora Las Cumbres, S.A." in (by_defaults.text or "")
    assert "USD 90.95" in (by_defaults.text or "")  # 10 x 8.50 + 7 % ITBMS
    assert (by_defaults.entity_type, by_defaults.entity_id) == ("INVOICE", invoice.id)
    # renders are deterministic: the same PDF file is attached every time, no new file
    assert by_defaults.attachment_file_ids == explicit.attachment_file_ids
    [pdf_id] = by_defaults.attachment_file_ids
    links = [(l.entity_type, l.entity_id) for l in world.store.files[pdf_id].links]
    assert (EntityType.INVOICE, invoice.id) in links and (EntityType.EMAIL_MESSAGE, by_defaults.id) in links

    world.run_jobs()
    assert {e.attachments[0].mime for e in world.sender.sent} == {"application/pdf"}


def test_send_pdf_email_with_no_recipients_renders_nothing_and_queues_nothing(world: World, acme: Actor) -> None:
    client = world.client(acme)
    world.default_email(acme, client, "conta@cumbres.com.pa", "CC")  # CC alone is not enough
    invoice = world.invoice(acme, client)
    with refused(world, "NO_RECIPIENTS", "to"):
        world.bus.handle(SendPdfEmail(actor=acme, entity_type="INVOICE", entity_id=invoice.id))
    assert world.renderer.renders == []


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"entity_type": "INVOICE", "entity_id": "3f1d7e8a-0000-4000-8000-000000000000"}, "NOT_FOUND", "entityId"),
        ({"entity_type": "QUOTE", "entity_id": "3f1d7e8a-0000-4000-8000-000000000000"}, "NOT_FOUND", "entityId"),
        ({"entity_type": "INVOICE", "entity_id": "nope"}, "INVALID_INPUT", "entityId"),
        ({"entity_type": "CONTRACT", "entity_id": "3f1d7e8a-0000-4000-8000-000000000000"}, "INVALID_INPUT", "entityType"),
        ({"entity_type": "INVOICE", "to": ("x@",)}, "INVALID_EMAIL", "to[0]"),
        ({"entity_type": "INVOICE", "locale": "fr"}, "INVALID_INPUT", "locale"),
    ],
)
def test_bad_pdf_sends_are_refused(world: World, acme: Actor, fields: dict[str, Any], code: str, field: str) -> None:
    invoice = world.invoice(acme, ad_hoc=("juan@correo.pa",))
    fields.setdefault("entity_id", invoice.id)
    with refused(world, code, field):
        world.bus.handle(SendPdfEmail(actor=acme, **fields))


def test_an_invoice_of_another_tenant_is_not_found(world: World, acme: Actor, globex: Actor) -> None:
    theirs = world.invoice(globex, ad_hoc=("juan@correo.pa",))
    with refused(world, "NOT_FOUND", "entityId"):
        world.bus.handle(SendPdfEmail(actor=acme, entity_type="INVOICE", entity_id=theirs.id))
    with refused(world, "NOT_FOUND", "invoiceId"):
        world.bus.handle(ResendInvoiceEmail(actor=acme, invoice_id=theirs.id))


def test_quotes_go_out_in_english_when_asked(world: World, acme: Actor) -> None:
    client = world.client(acme)
    world.default_email(acme, client, "buyer@cumbres.com")
    lines = (LineInput(description="Servicio", quantity="1", unit_price="100", tax_rate=7),)
    quote = world.bus.handle(CreateQuote(actor=acme, lines=lines, client_id=client.id))
    sent = world.bus.handle(SendPdfEmail(actor=acme, entity_type="QUOTE", entity_id=quote.id, locale="en"))
    assert sent.subject == f"Quote {quote.number} from Acme & Hijos, S.A."
    assert "107.00" in (sent.text or "") and sent.entity_type == "QUOTE"


def test_resend_invoice_email_to_one_address_with_a_message(world: World, acme: Actor) -> None:
    invoice = world.invoice(acme, ad_hoc=("juan@correo.pa",))
    again = world.bus.handle(
        ResendInvoiceEmail(actor=acme, invoice_id=invoice.id, email="otra@correo.pa", message="Reenvío solicitado")
    )
    assert again.to == ("otra@correo.pa",) and "Reenvío solicitado" in (again.text or "")
    with refused(world, "INVALID_EMAIL", "email"):
        world.bus.handle(ResendInvoiceEmail(actor=acme, invoice_id=invoice.id, email="no es correo"))


def test_statement_emails_attach_the_statement(world: World, acme: Actor) -> None:
    client = world.client(acme)
    world.invoice(acme, client)
    with refused(world, "NO_RECIPIENTS", "to"):
        world.bus.handle(
            SendStatementEmail(actor=acme, client_id=client.id, period_from=date(2026, 11, 1), period_to=date(2026, 11, 30))
        )
    world.default_email(acme, client, "compras@cumbres.com.pa")
    sent = world.bus.handle(
        SendStatementEmail(actor=acme, client_id=client.id, period_from=date(2026, 11, 1), period_to=date(2026, 11, 30))
    )
    assert sent.subject == "Estado de cuenta de Acme & Hijos, S.A. (01/11/2026 al 30/11/2026)"
    assert (sent.entity_type, sent.entity_id) == ("STATEMENT", client.id) and len(sent.attachment_file_ids) == 1
    with refused(world, "NOT_FOUND", "clientId"):
        world.bus.handle(
            SendStatementEmail(
                actor=acme, client_id="3f1d7e8a-0000-4000-8000-000000000000",
                period_from=date(2026, 11, 1), period_to=date(2026, 11, 30),
            )
        )


# --- templates -----------------------------------------------------------------------------------------


def test_a_tenant_template_overrides_the_built_in_one_for_its_language_only(
    world: World, acme: Actor, globex: Actor
) -> None:
    saved = world.bus.handle(
        SetEmailTemplate(
            actor=acme, kind="INVOICE", locale="es", subject="Su factura {{ invoice.number }} ({{ client.name }})",
            html="<p>Total: {{ invoice.total }} {{ message }}</p>", text=None,
        )
    )
    assert saved.custom and saved.subject.startswith("Su factura")
    invoice = world.invoice(acme, ad_hoc=("juan@correo.pa",))
    sent = world.bus.handle(SendPdfEmail(actor=acme, entity_type="INVOICE", entity_id=invoice.id, message="<b>hola</b>"))
    assert sent.subject == f"Su factura {invoice.number} (Consumidor final)"
    assert sent.html == "<p>Total: 90.95 &lt;b&gt;hola&lt;/b&gt;</p>" and sent.text is None
    english = world.bus.handle(SendPdfEmail(actor=acme, entity_type="INVOICE", entity_id=invoice.id, locale="en"))
    assert english.subject.startswith("Invoice ")
    theirs = world.invoice(globex, ad_hoc=("juan@correo.pa",))
    other = world.bus.handle(SendPdfEmail(actor=globex, entity_type="INVOICE", entity_id=theirs.id))
    assert other.subject.startswith("Factura ")  # another tenant keeps the built-in one

    listed = world.bus.handle(FindEmailTemplates(actor=acme))
    assert len(listed) == 10 and [t.custom for t in listed].count(True) == 1
    back = world.bus.handle(DeleteEmailTemplate(actor=acme, kind="INVOICE", locale="es-PA"))
    assert not back.custom and back.subject == "Factura {{ invoice.number }} de {{ tenant.name }}"


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"html": "<p>{% if %}</p>"}, "TEMPLATE_INVALID", "html"),
        ({"subject": "{{ invoice.number "}, "TEMPLATE_INVALID", "subject"),
        ({"text": "{{ ''.__class__.__mro__ }}"}, "RENDER_FAILED", "text"),
        ({"text": "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}"}, "RENDER_FAILED", "text"),
        ({"subject": "dos\nlíneas"}, "INVALID_INPUT", "subject"),
        ({"html": None, "text": None}, "INVALID_INPUT", "text"),
        ({"kind": "NEWSLETTER"}, "INVALID_INPUT", "kind"),
        ({"locale": "pt"}, "INVALID_INPUT", "locale"),
    ],
)
def test_bad_templates_are_refused_when_saved(
    world: World, acme: Actor, fields: dict[str, Any], code: str, field: str
) -> None:
    values: dict[str, Any] = {"kind": "INVOICE", "locale": "es", "subject": "Factura", "html": None, "text": "Hola"}
    with refused(world, code, field):
        world.bus.handle(SetEmailTemplate(actor=acme, **{**values, **fields}))


# --- the log ----------------------------------------------------------------------------------------------


def test_email_messages_filter_and_page_newest_first(world: World, acme: Actor, globex: Actor) -> None:
    first = world.send(acme)
    world.clock.advance(timedelta(seconds=1))
    second = world.send(acme, entity_type="CLIENT", entity_id="c-9")
    world.clock.advance(timedelta(seconds=1))
    world.sender.script = lambda email: DeliveryRejected("550 no")
    world.run_jobs()
    world.sender.script = None
    third = world.send(acme)
    world.send(globex)

    page = world.bus.handle(FindEmailMessages(actor=acme, first=2))
    assert [m.id for m in page.items] == [third.id, second.id] and page.has_next_page
    rest = world.bus.handle(FindEmailMessages(actor=acme, first=2, after=page.end_cursor))
    assert [m.id for m in rest.items] == [first.id] and not rest.has_next_page
    failed = world.bus.handle(FindEmailMessages(actor=acme, statuses=("FAILED",)))
    assert {m.id for m in failed.items} == {first.id, second.id}
    linked = world.bus.handle(FindEmailMessages(actor=acme, entity_type="CLIENT", entity_id="c-9"))
    assert [m.id for m in linked.items] == [second.id]
    with pytest.raises(DomainError) as error:
        world.bus.handle(FindEmailMessages(actor=acme, statuses=("LOST",)))
    assert error.value.field == "filter.status[0]"
    with pytest.raises(DomainError) as error:
        world.bus.handle(FindEmailMessages(actor=acme, after="garbage"))
    assert error.value.field == "after"
    with pytest.raises(DomainError) as error:
        world.bus.handle(GetEmailMessage(actor=globex, message_id=first.id))
    assert error.value.code == "NOT_FOUND"


# --- a tenant's own settings --------------------------------------------------------------------------------

SMTP_PASSWORD = "p4ss-w0rd-of-acme"


def test_owners_set_their_smtp_url_sealed_and_never_shown_and_their_from_address(world: World, acme: Actor) -> None:
    url = f"smtps://facturas%40acme.pa:{SMTP_PASSWORD}@mail.acme.pa"
    view = world.bus.handle(SetEmailSettings(actor=acme, smtp_url=url, from_address="Facturas@Acme.pa"))
    assert view.smtp == "smtps://facturas@acme.pa@mail.acme.pa:465" and view.from_address == "Facturas@acme.pa"
    assert SMTP_PASSWORD not in repr(view)
    [stored] = world.store.emails.settings.values()
    assert stored.smtp_url_sealed and SMTP_PASSWORD not in stored.smtp_url_sealed
    assert world.secrets.open(stored.smtp_url_sealed, context=f"emails-smtp:{acme.tenant_id}") == url
    assert world.bus.handle(GetEmailSettings(actor=acme)) == view
    queued = world.send(acme)
    assert queued.from_address == "Facturas@acme.pa"
    world.run_jobs()
    assert world.sender.sent[0].from_address == "Facturas@acme.pa"
    cleared = world.bus.handle(SetEmailSettings(actor=acme, smtp_url=None, from_address=None))
    assert (cleared.smtp, cleared.from_address) == (None, None)


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"smtp_url": f"http://u:{SMTP_PASSWORD}@mail.acme.pa"}, "INVALID_INPUT", "smtpUrl"),
        ({"smtp_url": f"smtp://u:{SMTP_PASSWORD}@mail.acme.pa?tls=maybe"}, "INVALID_INPUT", "smtpUrl"),
        ({"from_address": "facturas"}, "INVALID_EMAIL", "fromAddress"),
    ],
)
def test_bad_settings_are_refused_without_echoing_the_password(
    world: World, acme: Actor, fields: dict[str, Any], code: str, field: str
) -> None:
    with refused(world, code, field) as error:
        world.bus.handle(SetEmailSettings(actor=acme, **fields))
    assert SMTP_PASSWORD not in error.value.message


def test_members_cannot_change_the_settings(world: World, acme: Actor) -> None:
    member = dataclasses.replace(acme, role=Role.MEMBER)
    with refused(world, "PERMISSION_DENIED", None):
        world.bus.handle(SetEmailSettings(actor=member, smtp_url="smtp://mail.acme.pa"))
    assert world.bus.handle(GetEmailSettings(actor=member)).smtp is None


def test_what_a_channel_answered_is_recorded_again_while_the_database_is_away_then_given_up() -> None:
    from application.deliveries import flows

    pauses: list[float] = []
    clock_now = [0.0]

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        clock_now[0] += seconds

    handler = flows.DeliverHandler(rules=None, clock=None, sleep=pause, monotonic=lambda: clock_now[0])  # type: ignore[arg-type]
    tries: list[int] = []

    def record(cmd: object, uow: object, outcome: object) -> str:
        tries.append(1)
        if len(tries) <= 3:
            raise ConnectionError("the database went away")
        return "SENT"

    handler._record = record  # type: ignore[method-assign]
    handler._rules = type("Rules", (), {"name": "email"})()  # type: ignore[assignment]
    command = type("Cmd", (), {"message_id": "m-1"})()
    assert handler._record_until_stored(command, None, None) == "SENT"  # type: ignore[arg-type]
    assert pauses == [0.1, 0.2, 0.4] and len(tries) == 4

    tries.clear(), pauses.clear()
    handler._record = lambda *args: (_ for _ in ()).throw(ConnectionError("still away"))  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        handler._record_until_stored(command, None, None)  # type: ignore[arg-type]
    assert sum(pauses) <= flows.RECORD_RETRY_FOR and pauses[-1] == 5.0  # gave up at the deadline
