"""The composition root: the only place where concrete adapters are chosen."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator
from datetime import timedelta

from dependency_injector import containers, providers
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from adapters.auth.jwt import HmacJwtVerifier, JwksJwtVerifier
from adapters.aurinko.http import AurinkoHttp
from adapters.aurinko.inbox import AurinkoInboxProvider
from adapters.aurinko.oauth import AurinkoOAuthProvider
from adapters.aurinko.sender import AurinkoEmailSender
from adapters.clock import SystemClock
from adapters.db.engine import build_engine
from adapters.db.jobs.queue import SqlAlchemyJobQueue
from adapters.db.modules import start_mappers
from adapters.db.uow import SqlAlchemyUnitOfWork
from adapters.db.emails import SqlAlchemyTenantSmtpUrls  # emails
from adapters.email.addresses import EmailValidatorAddressValidator  # emails
from adapters.email.chooser import TenantEmailSenders  # emails
from adapters.email.outbox import LocalOutboxEmailSender  # emails
from adapters.email.smtp import SmtpUrlSummaries  # emails
from adapters.email.templates import SandboxEmailTemplateRenderer  # emails
from adapters.pdf.weasyprint import RendererSettings, WeasyPrintPdfRenderer
from adapters.phones.libphonenumber import LibPhoneNumbers
from adapters.webhooks.whatsapp import HubSignatures
from adapters.whatsapp.graph import GraphWhatsAppSender
from adapters.secrets.fernet import FernetSecretBox
from adapters.alanube.client import AlanubePacClient
from application.invoicing.pac import PacPolicy
from domain.invoicing.pac import SignatureMode
from adapters.storage.local import LocalFileStorage
from adapters.storage.mime import SniffingMimeDetector
from application.modules import build_service
from application.emails.commands import EmailPolicy  # emails
from application.files.commands import FilePolicy
from application.whatsapp.commands import WhatsappPolicy
from application.integrations.aurinko.commands import AurinkoPolicy
from application.integrations.aurinko.oauth_state import OAuthStateCodec
from application.integrations.aurinko.sending import AurinkoSenderSource
from application.jobs.worker import Worker
from domain.jobs.model import RetryPolicy
from application.tenancy.auth import Authenticator
from entrypoints.config import Settings
from entrypoints.logging import configure_logging


def _engine(url: str) -> Iterator[Engine]:
    start_mappers()
    engine = build_engine(url)
    yield engine
    engine.dispose()


def _storage(settings: Settings, clock: SystemClock) -> object:
    if settings.storage == "s3":
        from adapters.storage.s3 import S3FileStorage

        return S3FileStorage(
            bucket=settings.s3_bucket or "",
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key,
            path_style=settings.s3_path_style,
            prefix=settings.s3_prefix,
            clock=clock,
        )
    return LocalFileStorage(
        settings.files_dir, public_url=settings.public_url, secret=settings.signing_secret, clock=clock
    )


def _pdf_renderer(settings: Settings) -> Iterator[WeasyPrintPdfRenderer]:
    """Render workers start on the first render (or ``start()``): building the container stays cheap."""
    renderer = WeasyPrintPdfRenderer(
        RendererSettings(
            processes=settings.pdf_processes,
            timeout=settings.pdf_timeout.total_seconds(),
            memory_limit_mb=settings.pdf_memory_mb,
        )
    )
    try:
        yield renderer
    finally:
        renderer.close()


def _verifier(settings: Settings) -> object:
    if settings.jwks_url:
        return JwksJwtVerifier(settings.jwks_url)
    return HmacJwtVerifier(settings.jwt_secret or "")


def _file_policy(settings: Settings) -> FilePolicy:
    return FilePolicy(
        max_upload_bytes=settings.max_upload_bytes,
        tmp_file_ttl=settings.tmp_file_ttl,
        gc_grace=settings.files_gc_grace,
        max_url_ttl=int(timedelta(days=7).total_seconds()),
    )


# --- aurinko ---------------------------------------------------------------------------------


def _aurinko_http(settings: Settings) -> AurinkoHttp:
    return AurinkoHttp(settings.aurinko_base_url, read_timeout=settings.aurinko_timeout.total_seconds())


def _aurinko_policy(settings: Settings) -> AurinkoPolicy:
    return AurinkoPolicy(
        configured=bool(settings.aurinko_client_id and settings.aurinko_client_secret),
        return_url=settings.aurinko_callback_url,
        days_within=settings.aurinko_sync_days,
    )


def _aurinko_sender_factory(
    http: AurinkoHttp,
) -> Callable[[str, str | None, Callable[[str], None]], AurinkoEmailSender]:
    def make(token: str, mailbox: str | None, on_token_rejected: Callable[[str], None]) -> AurinkoEmailSender:
        return AurinkoEmailSender(http, token, mailbox=mailbox, on_token_rejected=on_token_rejected)

    return make


def _oauth_state_codec(settings: Settings) -> OAuthStateCodec:
    # A key of its own, derived from the signing secret: a state never verifies as a file link.
    key = hmac.new(settings.signing_secret.encode(), b"istmo:aurinko:oauth-state", hashlib.sha256).digest()
    return OAuthStateCodec(key)
# --- emails ---
def _email_senders(
    settings: Settings, tenant_smtp_urls: SqlAlchemyTenantSmtpUrls, aurinko: AurinkoSenderSource
) -> TenantEmailSenders:
    """Each tenant: its active Aurinko connection > its own SMTP URL (``setEmailSettings``) >
    ``ISTMO_SMTP_URL`` > the local outbox."""
    return TenantEmailSenders(
        first=[aurinko.for_tenant],
        outbox=LocalOutboxEmailSender(settings.outbox_dir or settings.data_dir / "outbox", default_from=settings.email_from),
        default_from=settings.email_from,
        instance_smtp_url=settings.smtp_url,
        tenant_smtp_url=tenant_smtp_urls,
    )


def _email_policy(settings: Settings) -> EmailPolicy:
    return EmailPolicy(
        message_id_domain=settings.email_from.rpartition("@")[2].encode("idna").decode("ascii"),
        delivery_attempts=settings.job_max_attempts,
    )


# --- end emails ---


def _pac_policy(settings: Settings) -> PacPolicy:
    return PacPolicy(
        webhook_secret=settings.pac_webhook_secret,
        signature_mode=SignatureMode(settings.pac_signature_mode),
        api_key=settings.pac_api_key,
        poll_after=settings.pac_poll_after,
    )


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)

    logging = providers.Resource(
        configure_logging,
        level=settings.provided.log_level,
        fmt=settings.provided.log_format,
        production=settings.provided.production,
    )
    clock = providers.Singleton(SystemClock)
    engine = providers.Resource(_engine, url=settings.provided.database_url)
    session_factory = providers.Singleton(sessionmaker, bind=engine, expire_on_commit=False)
    uow_factory = providers.Factory(
        SqlAlchemyUnitOfWork,
        session_factory=session_factory,
        clock=clock,
        job_max_attempts=settings.provided.job_max_attempts,
    )

    storage = providers.Singleton(_storage, settings=settings, clock=clock)
    mime_detector = providers.Singleton(SniffingMimeDetector)
    file_policy = providers.Singleton(_file_policy, settings=settings)
    pdf_renderer = providers.Resource(_pdf_renderer, settings=settings)
    # SecretBox: provider tokens and secrets sealed at rest (ISTMO_SECRET_KEYS, first key primary).
    secret_box = providers.Singleton(FernetSecretBox, keys=settings.provided.secret_keys)
    # --- emails ---
    tenant_smtp_urls = providers.Singleton(SqlAlchemyTenantSmtpUrls, session_factory, secret_box)

    smtp_urls = providers.Singleton(SmtpUrlSummaries)
    email_addresses = providers.Singleton(EmailValidatorAddressValidator)
    email_renderer = providers.Singleton(SandboxEmailTemplateRenderer)
    email_policy = providers.Singleton(_email_policy, settings=settings)
    # --- end emails ---

    # --- whatsapp ---
    whatsapp_sender = providers.Singleton(GraphWhatsAppSender, base_url=settings.provided.whatsapp_graph_url)
    phone_numbers = providers.Singleton(LibPhoneNumbers, default_region="PA")
    whatsapp_signatures = providers.Singleton(HubSignatures)
    whatsapp_policy = providers.Singleton(WhatsappPolicy, delivery_attempts=settings.provided.job_max_attempts)
    # --- aurinko: OAuth, inbox sync and sending through a tenant's mailbox ---
    aurinko_http = providers.Singleton(_aurinko_http, settings=settings)
    aurinko_oauth = providers.Singleton(
        AurinkoOAuthProvider,
        aurinko_http,
        client_id=settings.provided.aurinko_client_id,
        client_secret=settings.provided.aurinko_client_secret,
    )
    inbox_provider = providers.Singleton(AurinkoInboxProvider, aurinko_http)
    aurinko_policy = providers.Singleton(_aurinko_policy, settings=settings)
    oauth_state_codec = providers.Singleton(_oauth_state_codec, settings=settings)
    # What the emails domain's per-tenant chooser asks first: an ACTIVE connection's sender, or None.
    aurinko_senders = providers.Singleton(
        AurinkoSenderSource,
        uow_factory.provider,
        secret_box,
        clock,
        make_sender=providers.Callable(_aurinko_sender_factory, aurinko_http),
    )
    # webhooks (issue 6): the PAC's API (Alanube) and the instance's PAC settings
    pac_client = providers.Singleton(
        AlanubePacClient, base_url=settings.provided.pac_base_url, timeout=settings.provided.pac_timeout_seconds
    )
    pac_policy = providers.Singleton(_pac_policy, settings=settings)

    email_senders = providers.Singleton(  # emails
        _email_senders, settings=settings, tenant_smtp_urls=tenant_smtp_urls, aurinko=aurinko_senders
    )

    # What every domain module may need, by name (see each module's ``needs``); the modules whose
    # needs are met are assembled into the bus, the job handlers and the schedules.
    webhook_processors = providers.Object(None)
    """Replaces the processors the modules register, by provider (tests); ``None``: theirs."""
    service = providers.Singleton(
        build_service,
        webhook_processors=webhook_processors,
        uow_factory=uow_factory.provider,
        storage=storage,
        mime=mime_detector,
        clock=clock,
        file_policy=file_policy,
        pdf_renderer=pdf_renderer,
        secrets=secret_box,
        whatsapp_sender=whatsapp_sender,
        phones=phone_numbers,
        webhook_signatures=whatsapp_signatures,
        whatsapp_policy=whatsapp_policy,
        aurinko_oauth=aurinko_oauth,
        inbox_provider=inbox_provider,
        oauth_states=oauth_state_codec,
        aurinko_policy=aurinko_policy,
        aurinko_sync_every=settings.provided.aurinko_sync_every,
        pac_client=pac_client,
        pac_policy=pac_policy,
        pac_poll_every=settings.provided.pac_poll_every,
        email_senders=email_senders,
        email_addresses=email_addresses,
        email_renderer=email_renderer,
        email_policy=email_policy,
        smtp_urls=smtp_urls,
    )
    bus = service.provided.bus
    job_queue = providers.Singleton(
        SqlAlchemyJobQueue, session_factory, clock, max_attempts=settings.provided.job_max_attempts
    )
    job_handlers = service.provided.job_handlers
    schedules = service.provided.schedules
    retry_policy = providers.Singleton(RetryPolicy, max_attempts=settings.provided.job_max_attempts)
    worker = providers.Factory(
        Worker,
        queue=job_queue,
        handlers=job_handlers,
        clock=clock,
        concurrency=settings.provided.worker_concurrency,
        lease=settings.provided.job_lease,
        policy=retry_policy,
        schedules=schedules,
    )

    token_verifier = providers.Singleton(_verifier, settings=settings)
    authenticator = providers.Singleton(
        Authenticator, verifier=token_verifier, uow_factory=uow_factory.provider
    )


def build_container(settings: Settings | None = None) -> Container:
    container = Container(settings=settings or Settings.from_env())
    container.init_resources()
    return container
