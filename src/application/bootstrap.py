"""Which handler handles which message: the one registry, shared by the service and the tests."""

from __future__ import annotations

from application.files import commands as files
from application.files import handlers as file_handlers
from application.files.ports import FileStorage, MimeDetector
from application.shared.bus import MessageBus
from application.shared.ports import Clock, UnitOfWorkFactory
from application.tenancy import handlers as tenancy


def build_message_bus(
    *,
    uow_factory: UnitOfWorkFactory,
    storage: FileStorage,
    mime: MimeDetector,
    clock: Clock,
    file_policy: files.FilePolicy,
) -> MessageBus:
    keeps = (storage, mime, clock, file_policy)
    handlers = {
        tenancy.CreateTenant: tenancy.CreateTenantHandler(clock),
        tenancy.EnsureUser: tenancy.EnsureUserHandler(clock),
        files.AddFile: file_handlers.AddFileHandler(*keeps),
        files.CreateFile: file_handlers.CreateFileHandler(*keeps),
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
    }
    return MessageBus(uow_factory, handlers)
