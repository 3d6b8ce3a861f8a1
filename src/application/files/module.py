"""The files module: uploads, dedupe, links to entities, signed URLs, and the hourly garbage collection."""

from __future__ import annotations

from datetime import timedelta

from application.files import commands as c
from application.files import handlers as h
from application.files.keeping import FileKeeper
from application.jobs.schedules import Schedule
from application.shared.modules import Dependencies, DomainModule, Registrations
from domain.jobs.model import Job

GC_JOB = "files.gc"


def register(deps: Dependencies) -> Registrations:
    storage, clock, policy = deps.storage, deps.clock, deps.file_policy
    keeper = FileKeeper(storage, deps.mime, clock, policy)

    def collect_garbage(job: Job) -> None:
        deps.messages.handle(c.CollectFileGarbage(actor=None))

    return Registrations(
        handlers={
            c.AddFile: h.AddFileHandler(keeper, storage, policy),
            c.CreateFile: h.CreateFileHandler(keeper, storage, clock, policy),
            c.LinkFile: h.LinkFileHandler(clock),
            c.DeleteFile: h.DeleteFileHandler(storage),
            c.PrepareDirectUploads: h.PrepareDirectUploadsHandler(storage, policy),
            c.CollectFileGarbage: h.CollectFileGarbageHandler(deps.uow_factory, storage, clock, policy),
            c.GetFile: h.GetFileHandler(),
            c.FindFiles: h.FindFilesHandler(policy),
            c.SearchFiles: h.SearchFilesHandler(policy),
            c.FindFilesByName: h.FindFilesByNameHandler(policy),
            c.FindFilesByEntities: h.FindFilesByEntitiesHandler(),
            c.GetFileLinks: h.GetFileLinksHandler(),
            c.SignFileUrls: h.SignFileUrlsHandler(storage, clock, policy),
            c.SignFiles: h.SignFilesHandler(storage, clock, policy),
        },
        jobs={GC_JOB: collect_garbage},
        schedules=[Schedule(kind=GC_JOB, interval=deps.get("files_gc_every", timedelta(hours=1)))],
    )


MODULE = DomainModule(
    name="files", needs=("uow_factory", "storage", "mime", "clock", "file_policy"), register=register
)
