"""Which handler handles which message: the one registry, shared by the service and the tests."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from application.emails import commands as emails
from application.emails import handlers as email_handlers
from application.emails.ports import AddressValidator, EmailSenders, EmailTemplateRenderer, SmtpUrlChecker
from application.files import commands as files
from application.files import handlers as file_handlers
from application.files.keeping import FileKeeper
from application.files.ports import FileStorage, MimeDetector
from application.integrations import commands as aurinko
from application.integrations import handlers as aurinko_handlers
from application.integrations.oauth_state import OAuthStateCodec
from application.integrations.webhook import AurinkoWebhookProcessor
from application.integrations.ports import (
    InboxProvider,
    OAuthProvider,
    ProviderRefused,
    ProviderUnavailable,
    TokenRejected,
)
from application.invoicing import commands as invoicing
from application.jobs.errors import PermanentJobError, TransientJobError
from application.jobs.ports import JobHandler
from application.jobs.schedules import Schedule
from application.invoicing import handlers as invoicing_handlers
from application.pdf import commands as pdf
from application.pdf import handlers as pdf_handlers
from application.pdf.ports import PdfRenderer
from application.pdf_templates import commands as pdf_templates
from application.pdf_templates import handlers as pdf_template_handlers
from application.shared import deliveries
from application.shared.bus import Handler, MessageBus
from application.shared.ports import Clock, UnitOfWorkFactory
from application.shared.secrets import SecretBox, SecretUnreadable
from application.tenancy import handlers as tenancy
from application.tenancy import directory as tenancy_directory
from application.tenancy import subscriptions as tenancy_subscriptions
from application.webhooks import commands as webhooks
from application.webhooks import handlers as webhook_handlers
from application.webhooks import pac as pac_webhooks
from application.webhooks.polar import PolarWebhookProcessor
from application.webhooks.workos import WorkOsWebhookProcessor
from application.webhooks.ports import WebhookProcessor
from application.webhooks.processing import WebhookJob
from application.whatsapp import commands as whatsapp
from application.whatsapp import handlers as whatsapp_handlers
from application.whatsapp.ports import PhoneNumbers, WebhookSignatures, WhatsAppSender
from application.whatsapp.webhooks import WhatsappWebhookProcessor
from domain.jobs.model import Job


_PDF_RENDERS = (pdf.RenderInvoicePdf, pdf.RenderQuotePdf, pdf.RenderStatementPdf)


def build_message_bus(
    *,
    uow_factory: UnitOfWorkFactory,
    storage: FileStorage,
    mime: MimeDetector,
    clock: Clock,
    file_policy: files.FilePolicy,
    invoicing_policy: invoicing.InvoicingPolicy | None = None,
    pdf_renderer: PdfRenderer | None = None,
    secrets: SecretBox | None = None,
    whatsapp_sender: WhatsAppSender | None = None,
    phones: PhoneNumbers | None = None,
    webhook_signatures: WebhookSignatures | None = None,
    whatsapp_policy: whatsapp.WhatsappPolicy | None = None,
    aurinko_oauth: OAuthProvider | None = None,
    inbox_provider: InboxProvider | None = None,
    oauth_states: OAuthStateCodec | None = None,
    aurinko_policy: aurinko.AurinkoPolicy | None = None,
    pac_client: pac_webhooks.PacClient | None = None,
    pac_policy: pac_webhooks.PacPolicy | None = None,
    email_senders: EmailSenders | None = None,
    email_addresses: AddressValidator | None = None,
    email_renderer: EmailTemplateRenderer | None = None,
    email_policy: emails.EmailPolicy | None = None,
    smtp_urls: SmtpUrlChecker | None = None,
) -> MessageBus:
    """Without ``pdf_renderer``, the PDF template and rendering messages have no handler; without
    ``secrets``, ``whatsapp_sender``, ``phones`` and ``webhook_signatures``, the WhatsApp ones;
    without ``email_addresses`` and ``email_renderer`` the emails ones (``email_senders``: none for
    ``DeliverEmail``, and the PDF sends need ``pdf_renderer``)."""
    keeper = FileKeeper(storage, mime, clock, file_policy)
    invoicing_policy = invoicing_policy or invoicing.InvoicingPolicy()
    handlers: dict[type, Handler] = {
        tenancy.CreateTenant: tenancy.CreateTenantHandler(clock),
        tenancy.EnsureUser: tenancy.EnsureUserHandler(clock),
        deliveries.FindStaleDeliveries: deliveries.FindStaleDeliveriesHandler(clock),
        deliveries.AbandonStaleDelivery: deliveries.AbandonStaleDeliveryHandler(clock),
        files.AddFile: file_handlers.AddFileHandler(keeper, storage, file_policy),
        files.CreateFile: file_handlers.CreateFileHandler(keeper, storage, clock, file_policy),
        files.LinkFile: file_handlers.LinkFileHandler(clock),
        files.DeleteFile: file_handlers.DeleteFileHandler(storage),
        files.PrepareDirectUploads: file_handlers.PrepareDirectUploadsHandler(storage, file_policy),
        files.CollectFileGarbage: file_handlers.CollectFileGarbageHandler(
            uow_factory, storage, clock, file_policy
        ),
        files.GetFile: file_handlers.GetFileHandler(),
        files.FindFiles: file_handlers.FindFilesHandler(file_policy),
        files.SearchFiles: file_handlers.SearchFilesHandler(file_policy),
        files.FindFilesByName: file_handlers.FindFilesByNameHandler(file_policy),
        files.FindFilesByEntities: file_handlers.FindFilesByEntitiesHandler(),
        files.GetFileLinks: file_handlers.GetFileLinksHandler(),
        files.SignFileUrls: file_handlers.SignFileUrlsHandler(storage, clock, file_policy),
        files.SignFiles: file_handlers.SignFilesHandler(storage, clock, file_policy),
        invoicing.CreateClient: invoicing_handlers.CreateClientHandler(clock),
        invoicing.UpdateClient: invoicing_handlers.UpdateClientHandler(clock),
        invoicing.GetClient: invoicing_handlers.GetClientHandler(),
        invoicing.GetClients: invoicing_handlers.GetClientsHandler(),
        invoicing.FindClients: invoicing_handlers.FindClientsHandler(invoicing_policy),
        invoicing.CreateInvoice: invoicing_handlers.CreateInvoiceHandler(clock),
        invoicing.RegisterInvoicePayment: invoicing_handlers.RegisterInvoicePaymentHandler(clock),
        invoicing.VoidInvoice: invoicing_handlers.VoidInvoiceHandler(clock),
        invoicing.GetInvoice: invoicing_handlers.GetInvoiceHandler(clock),
        invoicing.FindInvoices: invoicing_handlers.FindInvoicesHandler(clock, invoicing_policy),
        invoicing.CreateQuote: invoicing_handlers.CreateQuoteHandler(clock),
        invoicing.GetQuote: invoicing_handlers.GetQuoteHandler(clock),
        invoicing.FindQuotes: invoicing_handlers.FindQuotesHandler(clock, invoicing_policy),
        invoicing.GetClientStatement: invoicing_handlers.GetClientStatementHandler(),
    }
    # --- webhooks (issue 6): the inbox, and what its processors apply ---
    handlers |= {
        webhooks.ReceiveWebhook: webhook_handlers.ReceiveWebhookHandler(clock),
        webhooks.BeginWebhookProcessing: webhook_handlers.BeginWebhookProcessingHandler(),
        webhooks.RecordWebhookOutcome: webhook_handlers.RecordWebhookOutcomeHandler(clock),
        webhooks.ReplayWebhookEvent: webhook_handlers.ReplayWebhookEventHandler(clock),
        webhooks.GetWebhookEvent: webhook_handlers.GetWebhookEventHandler(),
        webhooks.FindWebhookEvents: webhook_handlers.FindWebhookEventsHandler(),
        webhooks.ListWebhookEvents: webhook_handlers.ListWebhookEventsHandler(),
        tenancy_subscriptions.ApplySubscriptionEvent: tenancy_subscriptions.ApplySubscriptionEventHandler(clock),
        tenancy_directory.SyncOrganization: tenancy_directory.SyncOrganizationHandler(clock),
        tenancy_directory.SyncDirectoryUser: tenancy_directory.SyncDirectoryUserHandler(),
        tenancy_directory.SyncMembership: tenancy_directory.SyncMembershipHandler(clock),
        tenancy_directory.SyncDirectorySyncUser: tenancy_directory.SyncDirectorySyncUserHandler(clock),
    }
    if secrets is not None and pac_client is not None:
        pac_policy = pac_policy or pac_webhooks.PacPolicy()
        handlers |= {
            pac_webhooks.ConfigurePac: pac_webhooks.ConfigurePacHandler(clock, secrets),
            pac_webhooks.GetPacSettings: pac_webhooks.GetPacSettingsHandler(),
            pac_webhooks.VerifyPacDelivery: pac_webhooks.VerifyPacDeliveryHandler(secrets, pac_policy),
            pac_webhooks.SyncPacDocument: pac_webhooks.SyncPacDocumentHandler(
                clock, secrets, pac_client, keeper, storage, file_policy, pac_policy
            ),
            pac_webhooks.QueueStalePacDocuments: pac_webhooks.QueueStalePacDocumentsHandler(
                clock, uow_factory, pac_policy
            ),
        }
    # --- end webhooks ---
    document_renders: dict[type, Handler] | None = None  # each PDF render, for the send handlers
    if pdf_renderer is not None:
        renders = (pdf_renderer, storage, keeper, clock, file_policy)
        saves = (clock, pdf_renderer)
        handlers |= {
            pdf_templates.CreatePdfTemplate: pdf_template_handlers.CreatePdfTemplateHandler(*saves),
            pdf_templates.UpdatePdfTemplate: pdf_template_handlers.UpdatePdfTemplateHandler(*saves),
            pdf_templates.DeletePdfTemplate: pdf_template_handlers.DeletePdfTemplateHandler(),
            pdf_templates.GetPdfTemplate: pdf_template_handlers.GetPdfTemplateHandler(),
            pdf_templates.FindPdfTemplates: pdf_template_handlers.FindPdfTemplatesHandler(),
            pdf.RenderInvoicePdf: pdf_handlers.RenderInvoicePdfHandler(*renders),
            pdf.RenderQuotePdf: pdf_handlers.RenderQuotePdfHandler(*renders),
            pdf.RenderStatementPdf: pdf_handlers.RenderStatementPdfHandler(*renders),
            pdf.PreviewPdfTemplate: pdf_handlers.PreviewPdfTemplateHandler(*renders),
        }
        document_renders = {kind: handlers[kind] for kind in _PDF_RENDERS}
    # --- whatsapp ---
    if secrets is not None and whatsapp_sender is not None and phones is not None and webhook_signatures is not None:
        handlers |= _whatsapp_handlers(
            uow_factory, clock, storage, secrets, whatsapp_sender, phones, webhook_signatures,
            whatsapp_policy or whatsapp.WhatsappPolicy(),
            renders=document_renders,
        )
    # --- aurinko: the mailbox connection and the inbox sync ---
    if secrets is not None and aurinko_oauth is not None and inbox_provider is not None and oauth_states is not None:
        policy = aurinko_policy or aurinko.AurinkoPolicy(configured=False, return_url="")
        handlers |= {
            aurinko.GetAurinkoAuthorizationUrl: aurinko_handlers.GetAurinkoAuthorizationUrlHandler(
                aurinko_oauth, oauth_states, clock, policy
            ),
            aurinko.ConnectAurinko: aurinko_handlers.ConnectAurinkoHandler(
                aurinko_oauth, oauth_states, secrets, clock, policy
            ),
            aurinko.DisconnectAurinko: aurinko_handlers.DisconnectAurinkoHandler(aurinko_oauth, secrets, clock),
            aurinko.GetAurinkoConnection: aurinko_handlers.GetAurinkoConnectionHandler(),
            aurinko.MarkAurinkoNeedsReconnect: aurinko_handlers.MarkAurinkoNeedsReconnectHandler(clock),
            aurinko.SyncInbox: aurinko_handlers.SyncInboxHandler(clock),
            aurinko.RunInboxSync: aurinko_handlers.RunInboxSyncHandler(inbox_provider, secrets, clock, policy),
            aurinko.SyncAllInboxes: aurinko_handlers.SyncAllInboxesHandler(),
            aurinko.QueueAccountSync: aurinko_handlers.QueueAccountSyncHandler(),
            aurinko.FindInboxMessages: aurinko_handlers.FindInboxMessagesHandler(),
        }
    # --- emails ---
    if email_addresses is not None and email_renderer is not None:
        policy = email_policy or emails.EmailPolicy()
        composes = (email_addresses, email_renderer, clock, policy)
        handlers |= {
            emails.CreateClientEmail: email_handlers.CreateClientEmailHandler(email_addresses, clock),
            emails.DeleteClientEmail: email_handlers.DeleteClientEmailHandler(),
            emails.GetClientEmails: email_handlers.GetClientEmailsHandler(),
            emails.SendEmail: email_handlers.SendEmailHandler(*composes),
            emails.RetryEmail: email_handlers.RetryEmailHandler(clock, policy),
            emails.GetEmailMessage: email_handlers.GetEmailMessageHandler(),
            emails.FindEmailMessages: email_handlers.FindEmailMessagesHandler(policy),
            emails.SetEmailTemplate: email_handlers.SetEmailTemplateHandler(email_renderer, clock),
            emails.DeleteEmailTemplate: email_handlers.DeleteEmailTemplateHandler(),
            emails.FindEmailTemplates: email_handlers.FindEmailTemplatesHandler(),
        }
        if document_renders is not None:
            handlers |= {
                emails.SendPdfEmail: email_handlers.SendPdfEmailHandler(*composes, document_renders),
                emails.ResendInvoiceEmail: email_handlers.ResendInvoiceEmailHandler(*composes, document_renders),
                emails.SendStatementEmail: email_handlers.SendStatementEmailHandler(*composes, document_renders),
            }
        if email_senders is not None:
            handlers[emails.DeliverEmail] = email_handlers.DeliverEmailHandler(email_senders, storage, clock)
        handlers[emails.GetEmailSettings] = email_handlers.GetEmailSettingsHandler()
        send_pdf_whatsapp = handlers.get(whatsapp.SendPdfWhatsapp)
        if emails.SendPdfEmail in handlers and send_pdf_whatsapp is not None:
            # contract D: sendInvoice's EMAIL channel is the emails domain's SendPdfEmail
            handlers[whatsapp.SendInvoice] = whatsapp_handlers.SendInvoiceHandler(
                send_pdf_whatsapp, clock, send_email=handlers[emails.SendPdfEmail], email_command=emails.SendPdfEmail
            )
        if secrets is not None and smtp_urls is not None:
            handlers[emails.SetEmailSettings] = email_handlers.SetEmailSettingsHandler(
                secrets, smtp_urls, email_addresses, clock
            )
    # --- end emails ---
    return MessageBus(uow_factory, handlers)


def _whatsapp_handlers(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    storage: FileStorage,
    secrets: SecretBox,
    sender: WhatsAppSender,
    phones: PhoneNumbers,
    signatures: WebhookSignatures,
    policy: whatsapp.WhatsappPolicy,
    *,
    renders: dict[type, Handler] | None,
) -> dict[type, Handler]:
    found: dict[type, Handler] = {
        whatsapp.ConnectWhatsapp: whatsapp_handlers.ConnectWhatsappHandler(secrets, clock),
        whatsapp.DisconnectWhatsapp: whatsapp_handlers.DisconnectWhatsappHandler(),
        whatsapp.GetWhatsappConnection: whatsapp_handlers.GetWhatsappConnectionHandler(),
        whatsapp.CreateClientWhatsapp: whatsapp_handlers.CreateClientWhatsappHandler(phones, clock),
        whatsapp.DeleteClientWhatsapp: whatsapp_handlers.DeleteClientWhatsappHandler(),
        whatsapp.GetClientWhatsapps: whatsapp_handlers.GetClientWhatsappsHandler(),
        whatsapp.SetClientDefaultChannel: whatsapp_handlers.SetClientDefaultChannelHandler(clock),
        whatsapp.RegisterWhatsappTemplate: whatsapp_handlers.RegisterWhatsappTemplateHandler(clock),
        whatsapp.DeleteWhatsappTemplate: whatsapp_handlers.DeleteWhatsappTemplateHandler(),
        whatsapp.FindWhatsappTemplates: whatsapp_handlers.FindWhatsappTemplatesHandler(),
        whatsapp.SendWhatsapp: whatsapp_handlers.SendWhatsappHandler(phones, clock, policy),
        whatsapp.RetryWhatsapp: whatsapp_handlers.RetryWhatsappHandler(clock, policy),
        whatsapp.FindWhatsappMessages: whatsapp_handlers.FindWhatsappMessagesHandler(policy),
        whatsapp.GetWhatsappMessage: whatsapp_handlers.GetWhatsappMessageHandler(),
        whatsapp.DeliverWhatsapp: whatsapp_handlers.DeliverWhatsappHandler(uow_factory, sender, secrets, storage, clock),
        whatsapp.RouteWhatsappWebhook: whatsapp_handlers.RouteWhatsappWebhookHandler(secrets, signatures),
        whatsapp.VerifyWhatsappSubscription: whatsapp_handlers.VerifyWhatsappSubscriptionHandler(secrets),
        whatsapp.ApplyWhatsappWebhook: whatsapp_handlers.ApplyWhatsappWebhookHandler(uow_factory, clock),
    }
    if renders is not None:
        send_pdf = whatsapp_handlers.SendPdfWhatsappHandler(phones, clock, policy, renders)
        found[whatsapp.SendPdfWhatsapp] = found[whatsapp.SendStatementWhatsapp] = send_pdf
        found[whatsapp.SendInvoice] = whatsapp_handlers.SendInvoiceHandler(send_pdf, clock)
    return found


# --- jobs ------------------------------------------------------------------------------------

FILES_GC = "files.gc"
EMAILS_SEND = email_handlers.EMAILS_SEND


def build_webhook_processors(bus: MessageBus) -> dict[str, WebhookProcessor]:
    """Which processor handles the stored events of which provider (``WebhookEvent.provider``).

    Domains with a webhook route add their entry here (``"whatsapp"``, ``"aurinko"``, ...): the
    route stores the verified delivery with ``ReceiveWebhook(provider=...)``, and the
    ``webhooks.process`` job hands it to this processor.
    """
    return {
        "polar": PolarWebhookProcessor(bus),
        "whatsapp": WhatsappWebhookProcessor(bus),  # whatsapp
        "aurinko": AurinkoWebhookProcessor(bus),  # aurinko
        "workos": WorkOsWebhookProcessor(bus),
        pac_webhooks.PROVIDER: pac_webhooks.PacWebhookProcessor(bus),
    }


def build_job_handlers(
    bus: MessageBus,
    *,
    webhook_processors: Mapping[str, WebhookProcessor] | None = None,
    authorized_invoice_sender: pac_webhooks.AuthorizedInvoiceSender | None = None,
) -> dict[str, JobHandler]:
    """Which handler runs which kind of job: the one registry the workers use.

    Later domains add theirs here (``emails.send``, ``whatsapp.send``, ``webhooks.process``, ...);
    each runs its command through the bus, so it gets a unit of work like any request.
    """

    def collect_file_garbage(job: Job) -> None:
        bus.handle(files.CollectFileGarbage(actor=None))

    # --- emails ---
    def deliver_email(job: Job) -> None:
        message_id = str(job.payload.get("message_id", ""))
        # the job has one attempt more than the delivery: the spare run (see DeliverEmail)
        last, spare = job.attempts >= job.max_attempts - 1, job.attempts >= job.max_attempts
        command = emails.DeliverEmail(actor=None, message_id=message_id, last_attempt=last, spare=spare)
        bus.handle(command, tenant_id=job.tenant_id)

    # --- end emails ---
    processors = build_webhook_processors(bus) if webhook_processors is None else webhook_processors

    # --- whatsapp ---
    def deliver_whatsapp(job: Job) -> None:
        if job.tenant_id is None or "message_id" not in job.payload:
            raise PermanentJobError("a whatsapp.send job names its tenant and message")
        # the job has one attempt more than the delivery: the spare run (see WhatsappPolicy)
        bus.handle(
            whatsapp.DeliverWhatsapp(
                actor=None, tenant_id=job.tenant_id, message_id=str(job.payload["message_id"]),
                last_attempt=job.attempts >= job.max_attempts - 1, spare=job.attempts >= job.max_attempts,
            )
        )

    def sweep_deliveries(job: Job) -> None:
        """Messages left SENDING with no run of their job left: UNCERTAIN (application.shared.deliveries)."""
        found = bus.handle(deliveries.FindStaleDeliveries(actor=None))
        for stale in found.deliveries:
            command = deliveries.AbandonStaleDelivery(
                actor=None, channel=stale.channel, message_id=stale.message_id, claimed_before=found.claimed_before
            )
            bus.handle(command, tenant_id=stale.tenant_id)

    handlers: dict[str, JobHandler] = {
        FILES_GC: collect_file_garbage,
        deliveries.SWEEP_JOB: sweep_deliveries,
        webhooks.PROCESS_JOB: WebhookJob(bus, processors),
        whatsapp_handlers.SEND_JOB: deliver_whatsapp,  # whatsapp
        pac_webhooks.SYNC_JOB: pac_webhooks.sync_job(bus),
        pac_webhooks.POLL_JOB: pac_webhooks.poll_job(bus),
        pac_webhooks.SEND_JOB: pac_webhooks.send_job(
            authorized_invoice_sender or pac_webhooks.send_invoice_through(bus)  # contract E
        ),
        EMAILS_SEND: deliver_email,  # emails
    }
    handlers |= _aurinko_job_handlers(bus)  # aurinko
    return handlers


def build_schedules(
    *,
    files_gc_every: timedelta = timedelta(hours=1),
    aurinko_sync_every: timedelta = timedelta(minutes=5),
    pac_poll_every: timedelta = timedelta(minutes=5),
    deliveries_sweep_every: timedelta = timedelta(minutes=15),
) -> list[Schedule]:
    """The periodic jobs, declared in code; the workers enqueue each slot once."""
    return [
        Schedule(kind=FILES_GC, interval=files_gc_every),
        Schedule(kind=aurinko_handlers.SYNC_ALL_JOB, interval=aurinko_sync_every),  # aurinko
        Schedule(kind=pac_webhooks.POLL_JOB, interval=pac_poll_every),  # webhooks: the PAC polling fallback
        Schedule(kind=deliveries.SWEEP_JOB, interval=deliveries_sweep_every),  # emails and WhatsApp left SENDING
    ]


# --- aurinko jobs ------------------------------------------------------------------------------


def _aurinko_job_handlers(bus: MessageBus) -> dict[str, JobHandler]:
    """``aurinko.sync`` (one connection; payload: its id) and ``aurinko.sync_all`` (the schedule).
    Provider failures become the runner's transient/permanent errors; reasons carry no token."""

    def run_sync(job: Job) -> None:
        if job.tenant_id is None or not isinstance(job.payload.get("connection_id"), str):
            raise PermanentJobError("aurinko.sync needs a tenant and a connection_id")
        command = aurinko.RunInboxSync(
            actor=aurinko_handlers.system_actor(job.tenant_id), connection_id=job.payload["connection_id"]
        )
        try:
            bus.handle(command)
        except aurinko_handlers.SyncNotReady as error:
            raise TransientJobError(str(error), retry_after=error.retry_after) from None
        except aurinko_handlers.SyncBusy:
            raise TransientJobError("aurinko: another sync of this mailbox is running", retry_after=30) from None
        except ProviderUnavailable as error:
            raise TransientJobError(f"aurinko: {error.reason}", retry_after=error.retry_after) from None
        except TokenRejected as error:
            raise PermanentJobError(f"aurinko: {error.reason}; the mailbox must be connected again") from None
        except ProviderRefused as error:
            raise PermanentJobError(f"aurinko: {error.reason}") from None
        except SecretUnreadable:
            raise PermanentJobError("aurinko: the stored token does not open with ISTMO_SECRET_KEYS") from None

    def sync_all(job: Job) -> None:
        bus.handle(aurinko.SyncAllInboxes(actor=None, slot=job.dedupe_key))

    return {aurinko_handlers.SYNC_JOB: run_sync, aurinko_handlers.SYNC_ALL_JOB: sync_all}
