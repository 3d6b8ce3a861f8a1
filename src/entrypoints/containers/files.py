"""Files: their limits and lifetimes, and what a blob's bytes say it is (every domain may use both)."""

from __future__ import annotations

from datetime import timedelta

from dependency_injector import providers

from adapters.storage.mime import SniffingMimeDetector
from application.files.commands import FilePolicy
from entrypoints.config import Settings
from entrypoints.containers.base import DomainServices


def _file_policy(settings: Settings) -> FilePolicy:
    return FilePolicy(
        max_upload_bytes=settings.max_upload_bytes,
        tmp_file_ttl=settings.tmp_file_ttl,
        gc_grace=settings.files_gc_grace,
        max_url_ttl=int(timedelta(days=7).total_seconds()),
    )


class Services(DomainServices):
    settings = providers.Dependency(instance_of=Settings)

    mime_detector = providers.Singleton(SniffingMimeDetector)
    file_policy = providers.Singleton(_file_policy, settings=settings)

    exports = providers.Dict(mime=mime_detector, file_policy=file_policy)
