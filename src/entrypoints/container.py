"""The composition root: the only place where concrete adapters are chosen."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from dependency_injector import containers, providers
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from adapters.auth.jwt import HmacJwtVerifier, JwksJwtVerifier
from adapters.clock import SystemClock
from adapters.db.engine import build_engine
from adapters.db.jobs import SqlAlchemyJobQueue
from adapters.db.orm import start_mappers
from adapters.db.uow import SqlAlchemyUnitOfWork
from adapters.pdf.weasyprint import RendererSettings, WeasyPrintPdfRenderer
from adapters.phones.libphonenumber import LibPhoneNumbers
from adapters.webhooks.whatsapp import HubSignatures
from adapters.whatsapp.graph import GraphWhatsAppSender
from adapters.secrets.fernet import FernetSecretBox
from adapters.storage.local import LocalFileStorage
from adapters.storage.mime import SniffingMimeDetector
from application.bootstrap import build_job_handlers, build_message_bus, build_schedules, build_webhook_processors
from application.files.commands import FilePolicy
from application.whatsapp.commands import WhatsappPolicy
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

    # --- whatsapp ---
    whatsapp_sender = providers.Singleton(GraphWhatsAppSender, base_url=settings.provided.whatsapp_graph_url)
    phone_numbers = providers.Singleton(LibPhoneNumbers, default_region="PA")
    whatsapp_signatures = providers.Singleton(HubSignatures)
    whatsapp_policy = providers.Singleton(WhatsappPolicy, delivery_attempts=settings.provided.job_max_attempts)

    bus = providers.Singleton(
        build_message_bus,
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
    )

    job_queue = providers.Singleton(
        SqlAlchemyJobQueue, session_factory, clock, max_attempts=settings.provided.job_max_attempts
    )
    webhook_processors = providers.Singleton(build_webhook_processors, bus=bus)  # webhooks (issue 6)
    job_handlers = providers.Singleton(build_job_handlers, bus=bus, webhook_processors=webhook_processors)
    schedules = providers.Singleton(build_schedules)
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
