"""Keeping bytes as a file: the one path every file takes (uploads, direct uploads, rendered PDFs).

Bytes are kept once per tenant and content: under the content lock, the tenant's file with
the same SHA-256 is reused (kept for good, or its expiry extended if temporary), or the staged
blob is moved to ``{tenant}/{sha256}`` and a new row added. The staging object is gone
afterwards, whatever happened.
"""

from __future__ import annotations

from application.files.commands import FilePolicy
from application.files.ports import FileStorage, FilesUnitOfWork, MimeDetector
from application.files.staging import StagedBlob
from application.files.views import EntityRef, FileView
from application.shared.ports import Clock
from domain.files.model import File, sanitize_file_name
from domain.tenancy.model import Actor


def blob_key(tenant_id: str, sha256: str) -> str:
    return f"{tenant_id}/{sha256}"


def file_view(file: File) -> FileView:
    return FileView(
        id=file.id,
        name=file.name,
        sha256=file.sha256,
        mime=file.mime,
        size=file.size,
        status=file.status,
        created_by=file.created_by,
        created_at=file.created_at,
        expires_at=file.expires_at,
    )


class FileKeeper:
    def __init__(self, storage: FileStorage, mime: MimeDetector, clock: Clock, policy: FilePolicy) -> None:
        self._storage = storage
        self._mime = mime
        self._clock = clock
        self._policy = policy

    def keep(
        self,
        uow: FilesUnitOfWork,
        actor: Actor,
        staged: StagedBlob,
        *,
        name: str | None,
        entity: EntityRef | None,
        temporary: bool,
    ) -> FileView:
        """The tenant's file with these bytes (new, or the one it already has), linked to
        ``entity`` if given; ``temporary`` files expire after the policy's TTL unless kept or linked."""
        now = self._clock.now()
        try:
            with uow:
                uow.files.lock_content(staged.sha256)
                file = uow.files.get_by_sha256(staged.sha256)
                if file is None:
                    self._storage.commit_staged(staged.ref, blob_key(actor.tenant_id, staged.sha256))
                    file = File.add(
                        tenant_id=actor.tenant_id,
                        name=name,
                        sha256=staged.sha256,
                        mime=self._mime.detect(staged.head, sanitize_file_name(name)),
                        size=staged.size,
                        created_by=actor.user_id,
                        now=now,
                        temporary_until=now + self._policy.tmp_file_ttl if temporary else None,
                    )
                    uow.files.add(file)
                elif not temporary:
                    file.promote()
                elif file.is_temporary:
                    file.extend_until(now + self._policy.tmp_file_ttl)
                if entity is not None:
                    file.link(entity.entity_type, entity.entity_id, now=now)
                uow.commit()
                return file_view(file)
        finally:
            self._storage.discard_staged(staged.ref)
