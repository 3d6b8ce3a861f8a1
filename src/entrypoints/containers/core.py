"""The core container: settings, logging, clock, database, unit of work, secrets, storage, jobs."""

from __future__ import annotations

from collections.abc import Iterator

from dependency_injector import containers, providers
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from adapters.clock import SystemClock
from adapters.db.engine import build_engine
from adapters.db.jobs.queue import SqlAlchemyJobQueue
from adapters.db.modules import start_mappers
from adapters.db.uow import SqlAlchemyUnitOfWork
from adapters.egress.policy import EgressPolicy
from adapters.secrets.fernet import FernetSecretBox
from adapters.storage.local import LocalFileStorage
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


class Core(containers.DeclarativeContainer):
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
    # Provider tokens and secrets sealed at rest (ISTMO_SECRET_KEYS, the first key primary).
    secret_box = providers.Singleton(FernetSecretBox, keys=settings.provided.secret_keys)
    storage = providers.Singleton(_storage, settings=settings, clock=clock)
    job_queue = providers.Singleton(
        SqlAlchemyJobQueue, session_factory, clock, max_attempts=settings.provided.job_max_attempts
    )
    # Every connection to a host a tenant configured goes through it (ISTMO_EGRESS_ALLOW: exceptions).
    egress_policy = providers.Singleton(EgressPolicy, allow=settings.provided.egress_allow)

    exports = providers.Dict(
        uow_factory=uow_factory.provider,
        clock=clock,
        storage=storage,
        secrets=secret_box,
    )
    """What every domain module may use, by the name its ``needs`` give."""
