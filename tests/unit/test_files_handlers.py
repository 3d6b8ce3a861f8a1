"""Every files command and query, through the bus from ``build_message_bus``, on in-memory fakes.

Each refused input is checked twice: the error names the problem (code, field), and nothing
was written (no row, no link, no blob, no staging object, no commit).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from adapters.storage.mime import SniffingMimeDetector
from application.modules import build_message_bus
from application.files.commands import (
    AddFile,
    CollectFileGarbage,
    CreateFile,
    DeclaredUpload,
    DeleteFile,
    FilePolicy,
    FindFiles,
    FindFilesByEntities,
    FindFilesByName,
    GetFile,
    GetFileLinks,
    LinkFile,
    PrepareDirectUploads,
    SearchFiles,
    SignFileUrls,
)
from application.files.handlers import blob_key, direct_upload_ref
from application.files.staging import StagedBlob, stage_chunks
from application.files.views import EntityRef, FileCursor, FileFilter, FileView, GarbageReport
from application.tenancy.handlers import CreateTenant
from domain.files.model import EntityType, FileStatus, FileTooLarge, sanitize_file_name
from domain.shared.errors import DomainError, NotFound
from domain.tenancy.model import Actor, Role
from tests.fakes.clock import FakeClock
from tests.fakes.storage import FakeFileStorage
from tests.fakes.uow import FakeStore, fake_uow_factory

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
TEXT = b"Factura 0001 - total B/. 10.00\n"
LIMIT = 1024

POLICY = FilePolicy(
    max_upload_bytes=LIMIT,
    tmp_file_ttl=timedelta(hours=2),
    default_url_ttl=600,
    max_url_ttl=3600,
    upload_url_ttl=900,
    gc_grace=timedelta(minutes=30),
    page_size=3,
    max_page_size=10,
)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class World:
    """The bus on fakes, with helpers to stage bytes and to look at what was written."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.store = FakeStore()
        self.storage = FakeFileStorage(self.clock)
        self.bus = build_message_bus(
            uow_factory=fake_uow_factory(self.store, self.clock),
            storage=self.storage,
            mime=SniffingMimeDetector(),
            clock=self.clock,
            file_policy=POLICY,
        )

    def tenant(self, slug: str) -> Actor:
        created = self.bus.handle(CreateTenant(actor=None, slug=slug, name=slug.title()))
        return Actor(tenant_id=created.tenant_id, user_id=f"owner@{slug}.pa", role=Role.OWNER)

    def stage(self, data: bytes) -> StagedBlob:
        return stage_chunks(self.storage, [data], max_size=1 << 30)

    def add(self, actor: Actor, data: bytes, **kw: Any) -> FileView:
        return self.bus.handle(AddFile(actor=actor, content=self.stage(data), **kw))

    def upload_directly(self, actor: Actor, data: bytes, declared: str | None = None) -> str:
        """What a client's PUT to the presigned URL leaves in storage."""
        ref = direct_upload_ref(actor.tenant_id, declared or sha(data))
        self.storage.put_staged(ref, data)
        return ref

    def rows(self, actor: Actor) -> list[Any]:
        return self.store.files_of(actor.tenant_id)

    def has_blob(self, actor: Actor, data: bytes) -> bool:
        return self.storage.exists(blob_key(actor.tenant_id, sha(data)))

    def snapshot(self) -> tuple[Any, ...]:
        files = sorted(
            (
                f.id,
                f.tenant_id,
                f.name,
                f.sha256,
                f.status,
                f.expires_at,
                tuple(sorted((link.entity_type, link.entity_id) for link in f.links)),
            )
            for f in self.store.files.values()
        )
        return (
            tuple(files),
            {key: obj.data for key, obj in self.storage.blobs.items()},
            {key: obj.data for key, obj in self.storage.staged.items()},
            self.store.commits,
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
def nothing_written(world: World) -> Iterator[None]:
    before = world.snapshot()
    yield
    assert world.snapshot() == before, "a refused request left something behind"


@contextmanager
def refused(code: str, field: str | None) -> Iterator[pytest.ExceptionInfo[DomainError]]:
    with pytest.raises(DomainError) as error:
        yield error
    assert (error.value.code, error.value.field) == (code, field), error.value.message


# --- addFile / uploadTmpFile -----------------------------------------------------------------


def test_add_file_keeps_the_bytes_and_returns_the_view(world: World, acme: Actor) -> None:
    view = world.add(acme, PDF, name="invoice.pdf")
    assert (view.name, view.sha256, view.size, view.status, view.expires_at) == (
        "invoice.pdf",
        sha(PDF),
        len(PDF),
        FileStatus.READY,
        None,
    )
    assert view.created_by == acme.user_id
    assert view.created_at == world.clock.now()
    assert world.storage.content(blob_key(acme.tenant_id, sha(PDF))) == PDF
    assert world.storage.staged == {}
    assert world.bus.handle(GetFile(actor=acme, file_id=view.id)) == view


@pytest.mark.parametrize(
    ("data", "name", "mime"),
    [
        (PDF, "photo.png", "application/pdf"),
        (PNG, "report.pdf", "image/png"),
        (TEXT, "scan.pdf", "text/plain"),
        (b"\x00\x01\x02\x03binary", "notes.txt", "application/octet-stream"),
    ],
)
def test_mime_is_sniffed_from_the_bytes_not_the_name(
    world: World, acme: Actor, data: bytes, name: str, mime: str
) -> None:
    assert world.add(acme, data, name=name).mime == mime


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ana\\Desktop\\factura.pdf", "factura.pdf"),
        ("evil\x00name\r\n.pdf", "evil name .pdf"),
        ("..", "file"),
        (None, "file"),
        ("  recibo..final.pdf. ", "recibo.final.pdf"),
    ],
)
def test_add_file_sanitises_the_name(world: World, acme: Actor, raw: str | None, kept: str) -> None:
    view = world.add(acme, PDF, name=raw)
    assert view.name == kept == sanitize_file_name(raw)


def test_add_file_caps_a_long_name_keeping_its_extension(world: World, acme: Actor) -> None:
    name = world.add(acme, PDF, name="ñ" * 300 + ".pdf").name
    assert name.endswith(".pdf")
    assert len(name.encode()) <= 255


def test_add_file_with_an_entity_links_it(world: World, acme: Actor) -> None:
    view = world.add(acme, PDF, name="a.pdf", entity_type="INVOICE", entity_id="inv-001")
    links = world.bus.handle(GetFileLinks(actor=acme, file_ids=(view.id,)))[view.id]
    assert [(link.entity_type, link.entity_id, link.file_id) for link in links] == [
        (EntityType.INVOICE, "inv-001", view.id)
    ]
    found = world.bus.handle(
        FindFilesByEntities(actor=acme, refs=(EntityRef(EntityType.INVOICE, "inv-001"),))
    )
    assert [file.id for file in found[EntityRef(EntityType.INVOICE, "inv-001")]] == [view.id]


def test_a_temporary_file_expires_after_the_ttl_and_a_kept_file_never(world: World, acme: Actor) -> None:
    temporary = world.add(acme, PDF, temporary=True)
    kept = world.add(acme, PNG)
    assert (temporary.status, temporary.expires_at) == (
        FileStatus.TEMPORARY,
        world.clock.now() + timedelta(hours=2),
    )
    assert (kept.status, kept.expires_at) == (FileStatus.READY, None)


def test_add_file_without_an_actor_is_refused_and_keeps_nothing(world: World, acme: Actor) -> None:
    with pytest.raises(PermissionError):
        world.add(None, PDF)  # type: ignore[arg-type]
    assert world.store.files == {}
    assert world.storage.blobs == {}


# --- dedupe ----------------------------------------------------------------------------------


def test_the_same_bytes_twice_resolve_to_the_same_row_and_one_blob(world: World, acme: Actor) -> None:
    first = world.add(acme, PDF, name="first.pdf")
    second = world.add(acme, PDF, name="second.pdf")
    assert second.id == first.id
    assert second.name == "first.pdf"
    assert len(world.rows(acme)) == 1
    assert list(world.storage.blobs) == [blob_key(acme.tenant_id, sha(PDF))]
    assert world.storage.staged == {}, "the second staged copy must be discarded"


def test_the_same_bytes_in_two_tenants_are_two_rows_and_two_blobs(
    world: World, acme: Actor, globex: Actor
) -> None:
    mine = world.add(acme, PDF)
    theirs = world.add(globex, PDF)
    assert mine.id != theirs.id
    assert [f.id for f in world.rows(acme)] == [mine.id]
    assert [f.id for f in world.rows(globex)] == [theirs.id]
    assert set(world.storage.blobs) == {
        blob_key(acme.tenant_id, sha(PDF)),
        blob_key(globex.tenant_id, sha(PDF)),
    }


def test_a_dedupe_link_on_the_second_upload_is_added_to_the_existing_file(world: World, acme: Actor) -> None:
    first = world.add(acme, PDF, entity_type="INVOICE", entity_id="inv-1")
    world.add(acme, PDF, entity_type="CLIENT", entity_id="cli-9")
    links = world.bus.handle(GetFileLinks(actor=acme, file_ids=(first.id,)))[first.id]
    assert {(link.entity_type, link.entity_id) for link in links} == {
        (EntityType.INVOICE, "inv-1"),
        (EntityType.CLIENT, "cli-9"),
    }


def test_upload_tmp_file_of_bytes_the_tenant_keeps_returns_the_ready_file(world: World, acme: Actor) -> None:
    kept = world.add(acme, PDF)
    again = world.add(acme, PDF, temporary=True)
    assert again.id == kept.id
    assert (again.status, again.expires_at) == (FileStatus.READY, None)
    assert world.rows(acme)[0].status == FileStatus.READY


def test_adding_for_good_the_bytes_of_a_temporary_file_promotes_it(world: World, acme: Actor) -> None:
    temporary = world.add(acme, PDF, temporary=True)
    kept = world.add(acme, PDF)
    assert kept.id == temporary.id
    assert (kept.status, kept.expires_at) == (FileStatus.READY, None)


def test_uploading_a_temporary_file_again_extends_its_expiry(world: World, acme: Actor) -> None:
    world.add(acme, PDF, temporary=True)
    world.clock.advance(timedelta(hours=1, minutes=59))
    again = world.add(acme, PDF, temporary=True)
    assert again.expires_at == world.clock.now() + POLICY.tmp_file_ttl


# --- addFileEntity (LinkFile) ----------------------------------------------------------------


def test_link_file_links_and_promotes_a_temporary_file(world: World, acme: Actor) -> None:
    temporary = world.add(acme, PDF, temporary=True)
    link = world.bus.handle(
        LinkFile(actor=acme, file_id=temporary.id, entity_type="EXPENSE", entity_id="exp-3")
    )
    assert (link.file_id, link.entity_type, link.entity_id) == (temporary.id, EntityType.EXPENSE, "exp-3")
    view = world.bus.handle(GetFile(actor=acme, file_id=temporary.id))
    assert (view.status, view.expires_at) == (FileStatus.READY, None)


def test_link_file_is_idempotent(world: World, acme: Actor) -> None:
    file = world.add(acme, PDF)
    command = LinkFile(actor=acme, file_id=file.id, entity_type="INVOICE", entity_id="inv-1")
    first = world.bus.handle(command)
    rows_before = world.snapshot()[0]
    second = world.bus.handle(command)
    assert second.id == first.id
    assert world.snapshot()[0] == rows_before
    assert len(world.rows(acme)[0].links) == 1


def test_one_file_links_to_many_entities_and_one_entity_to_many_files(world: World, acme: Actor) -> None:
    a, b = world.add(acme, PDF), world.add(acme, PNG)
    for file_id, entity_id in [(a.id, "inv-1"), (a.id, "inv-2"), (b.id, "inv-1")]:
        world.bus.handle(LinkFile(actor=acme, file_id=file_id, entity_type="INVOICE", entity_id=entity_id))
    inv1, inv2 = EntityRef(EntityType.INVOICE, "inv-1"), EntityRef(EntityType.INVOICE, "inv-2")
    found = world.bus.handle(FindFilesByEntities(actor=acme, refs=(inv1, inv2)))
    assert {f.id for f in found[inv1]} == {a.id, b.id}
    assert [f.id for f in found[inv2]] == [a.id]


def test_unknown_entity_type_on_add_file_is_refused_and_leaves_nothing(world: World, acme: Actor) -> None:
    with nothing_written(world):
        staged = world.stage(PDF)
        with refused("UNKNOWN_ENTITY_TYPE", "entityType") as error:
            world.bus.handle(AddFile(actor=acme, content=staged, entity_type="SPACESHIP", entity_id="x-1"))
    assert "SPACESHIP" in error.value.message and "INVOICE" in error.value.message


def test_unknown_entity_type_on_link_file_is_refused(world: World, acme: Actor) -> None:
    file = world.add(acme, PDF)
    with nothing_written(world), refused("UNKNOWN_ENTITY_TYPE", "entityType"):
        world.bus.handle(LinkFile(actor=acme, file_id=file.id, entity_type="invoice", entity_id="inv-1"))


@pytest.mark.parametrize("entity_id", ["", "../etc/passwd", "-starts-with-dash", "x" * 129, "a b"])
def test_malformed_entity_id_is_refused_naming_entity_id(world: World, acme: Actor, entity_id: str) -> None:
    file = world.add(acme, PNG)
    with nothing_written(world):
        staged = world.stage(PDF)
        with refused("INVALID_INPUT", "entityId"):
            world.bus.handle(AddFile(actor=acme, content=staged, entity_type="INVOICE", entity_id=entity_id))
        with refused("INVALID_INPUT", "entityId"):
            world.bus.handle(
                LinkFile(actor=acme, file_id=file.id, entity_type="INVOICE", entity_id=entity_id)
            )


@pytest.mark.parametrize(
    ("entity_type", "entity_id", "missing"), [("INVOICE", None, "entityId"), (None, "inv-1", "entityType")]
)
def test_half_an_entity_is_refused_naming_the_missing_half(
    world: World, acme: Actor, entity_type: str | None, entity_id: str | None, missing: str
) -> None:
    with nothing_written(world):
        staged = world.stage(PDF)
        with refused("INVALID_INPUT", missing):
            world.bus.handle(
                AddFile(actor=acme, content=staged, entity_type=entity_type, entity_id=entity_id)
            )


def test_add_file_over_the_limit_is_refused_naming_the_limit_and_leaves_nothing(
    world: World, acme: Actor
) -> None:
    with nothing_written(world):
        staged = world.stage(b"x" * (LIMIT + 1))
        with refused("FILE_TOO_LARGE", "file") as error:
            world.bus.handle(AddFile(actor=acme, content=staged))
    assert str(LIMIT) in error.value.message


def test_staging_over_the_limit_is_refused_while_streaming_and_leaves_nothing(world: World) -> None:
    chunks = (b"x" * 100 for _ in range(20))
    with nothing_written(world), pytest.raises(FileTooLarge, match=str(LIMIT)):
        stage_chunks(world.storage, chunks, max_size=LIMIT)


def test_a_file_of_exactly_the_limit_is_kept(world: World, acme: Actor) -> None:
    assert world.add(acme, b"y" * LIMIT).size == LIMIT


# --- malformed ids and other tenants' ids ----------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda a: GetFile(actor=a, file_id="not-an-id"), "id"),
        (lambda a: DeleteFile(actor=a, file_id="1; DROP TABLE files"), "id"),
        (lambda a: LinkFile(actor=a, file_id="123", entity_type="INVOICE", entity_id="inv-1"), "fileId"),
        (lambda a: SignFileUrls(actor=a, file_ids=("zz",)), "fileIds"),
        (lambda a: FindFiles(actor=a, after="page-2"), "after"),
    ],
)
def test_a_malformed_id_is_refused_naming_the_field(world: World, acme: Actor, make: Any, field: str) -> None:
    world.add(acme, PDF)
    with nothing_written(world), refused("INVALID_INPUT", field):
        world.bus.handle(make(acme))


@pytest.fixture
def globex_file(world: World, globex: Actor) -> FileView:
    return world.add(globex, PDF, name="secret.pdf", entity_type="CONTRACT", entity_id="c-1")


@pytest.mark.parametrize(
    "make",
    [
        lambda a, fid: GetFile(actor=a, file_id=fid),
        lambda a, fid: DeleteFile(actor=a, file_id=fid),
        lambda a, fid: LinkFile(actor=a, file_id=fid, entity_type="INVOICE", entity_id="inv-1"),
        lambda a, fid: SignFileUrls(actor=a, file_ids=(fid,)),
    ],
    ids=["get", "delete", "link", "sign"],
)
def test_another_tenants_file_id_reads_as_not_found_and_is_untouched(
    world: World, acme: Actor, globex_file: FileView, make: Any
) -> None:
    world.add(acme, PDF)  # acme even has the same bytes
    with nothing_written(world), pytest.raises(NotFound) as error:
        world.bus.handle(make(acme, globex_file.id))
    assert error.value.code == "NOT_FOUND"


def test_another_tenants_files_never_appear_in_lists(
    world: World, acme: Actor, globex_file: FileView
) -> None:
    mine = world.add(acme, PNG, name="secret-mine.png", entity_type="CONTRACT", entity_id="c-1")
    contract = EntityRef(EntityType.CONTRACT, "c-1")
    assert [f.id for f in world.bus.handle(FindFiles(actor=acme)).items] == [mine.id]
    theirs = FileCursor(mine.created_at + timedelta(days=1), globex_file.id).encode()
    assert [f.id for f in world.bus.handle(FindFiles(actor=acme, after=theirs)).items] == [mine.id]
    assert [f.id for f in world.bus.handle(SearchFiles(actor=acme, text="secret"))] == [mine.id]
    assert world.bus.handle(FindFilesByName(actor=acme, name="secret.pdf")) == []
    assert [f.id for f in world.bus.handle(FindFilesByEntities(actor=acme, refs=(contract,)))[contract]] == [
        mine.id
    ]
    assert world.bus.handle(GetFileLinks(actor=acme, file_ids=(globex_file.id,))) == {globex_file.id: []}


# --- deleteFile ------------------------------------------------------------------------------


def test_delete_file_removes_the_row_its_links_and_its_blob(world: World, acme: Actor) -> None:
    file = world.add(acme, PDF, entity_type="INVOICE", entity_id="inv-1")
    world.bus.handle(LinkFile(actor=acme, file_id=file.id, entity_type="CLIENT", entity_id="cli-1"))
    other = world.add(acme, PNG)
    assert world.bus.handle(DeleteFile(actor=acme, file_id=file.id)) == file.id
    assert [f.id for f in world.rows(acme)] == [other.id]
    assert world.store.links_of(acme.tenant_id) == []
    assert not world.has_blob(acme, PDF)
    assert world.has_blob(acme, PNG)
    with pytest.raises(NotFound):
        world.bus.handle(GetFile(actor=acme, file_id=file.id))
    inv = EntityRef(EntityType.INVOICE, "inv-1")
    assert world.bus.handle(FindFilesByEntities(actor=acme, refs=(inv,))) == {inv: []}


def test_deleting_a_file_keeps_another_tenants_copy_of_the_same_bytes(
    world: World, acme: Actor, globex: Actor
) -> None:
    mine, theirs = world.add(acme, PDF), world.add(globex, PDF)
    world.bus.handle(DeleteFile(actor=acme, file_id=mine.id))
    assert world.has_blob(globex, PDF)
    assert world.bus.handle(GetFile(actor=globex, file_id=theirs.id)).id == theirs.id


def test_deleting_twice_reads_as_not_found_the_second_time(world: World, acme: Actor) -> None:
    file = world.add(acme, PDF)
    world.bus.handle(DeleteFile(actor=acme, file_id=file.id))
    with nothing_written(world), refused("NOT_FOUND", "id"):
        world.bus.handle(DeleteFile(actor=acme, file_id=file.id))


def test_bytes_added_again_after_delete_get_a_new_row_and_blob(world: World, acme: Actor) -> None:
    first = world.add(acme, PDF)
    world.bus.handle(DeleteFile(actor=acme, file_id=first.id))
    again = world.add(acme, PDF)
    assert again.id != first.id
    assert world.has_blob(acme, PDF)


# --- generateTempFileUrls (PrepareDirectUploads) ---------------------------------------------------


def declared(data: bytes, **kw: Any) -> DeclaredUpload:
    values: dict[str, Any] = {
        "name": "big.pdf",
        "size": len(data),
        "mime": "application/pdf",
        "sha256": sha(data),
    }
    return DeclaredUpload(**(values | kw))


def test_prepare_direct_uploads_signs_an_upload_url_for_new_bytes(world: World, acme: Actor) -> None:
    with nothing_written(world):
        [view] = world.bus.handle(
            PrepareDirectUploads(
                actor=acme, uploads=(declared(PDF, name="a/b/../Scan 1.pdf", mime="Application/PDF"),)
            )
        )
    assert (view.name, view.sha256, view.existing_file, view.method) == ("Scan 1.pdf", sha(PDF), None, "PUT")
    target = urlsplit(view.upload_url)
    assert (target.scheme, target.netloc) == ("fake", "upload")
    assert unquote(target.path.lstrip("/")) == direct_upload_ref(acme.tenant_id, sha(PDF))
    assert parse_qs(target.query)["size"] == [str(len(PDF))]
    assert view.headers == {"Content-Type": "application/pdf", "Content-Length": str(len(PDF))}
    assert view.expires_at == world.clock.now() + timedelta(seconds=POLICY.upload_url_ttl)


def test_prepare_direct_uploads_returns_the_existing_file_and_no_url(world: World, acme: Actor) -> None:
    kept = world.add(acme, PDF)
    with nothing_written(world):
        existing, new = world.bus.handle(
            PrepareDirectUploads(actor=acme, uploads=(declared(PDF), declared(PNG)))
        )
    assert existing.existing_file == kept
    assert (existing.upload_url, existing.method, existing.headers, existing.expires_at) == (
        None,
        None,
        {},
        None,
    )
    assert new.existing_file is None and new.upload_url is not None


def test_prepare_direct_uploads_does_not_reveal_another_tenants_bytes(
    world: World, acme: Actor, globex_file: FileView
) -> None:
    [view] = world.bus.handle(PrepareDirectUploads(actor=acme, uploads=(declared(PDF),)))
    assert view.existing_file is None
    assert view.upload_url is not None


@pytest.mark.parametrize(
    ("upload", "field"),
    [
        (declared(PDF, size=0), "files[1].size"),
        (declared(PDF, size=-5), "files[1].size"),
        (declared(PDF, mime="pdf"), "files[1].mime"),
        (declared(PDF, mime=""), "files[1].mime"),
        (declared(PDF, mime="text/plain\r\nX-Evil: 1"), "files[1].mime"),
        (declared(PDF, sha256="abc"), "files[1].sha256"),
        (declared(PDF, sha256="g" * 64), "files[1].sha256"),
    ],
)
def test_prepare_direct_uploads_refuses_bad_declarations_naming_the_field(
    world: World, acme: Actor, upload: DeclaredUpload, field: str
) -> None:
    with nothing_written(world), refused("INVALID_INPUT", field):
        world.bus.handle(PrepareDirectUploads(actor=acme, uploads=(declared(PNG), upload)))


def test_prepare_direct_uploads_refuses_an_oversize_declaration_naming_the_limit(
    world: World, acme: Actor
) -> None:
    with nothing_written(world), refused("FILE_TOO_LARGE", "file") as error:
        world.bus.handle(PrepareDirectUploads(actor=acme, uploads=(declared(PDF, size=LIMIT + 1),)))
    assert str(LIMIT) in error.value.message


@pytest.mark.parametrize("count", [0, 101])
def test_prepare_direct_uploads_needs_between_1_and_100_uploads(
    world: World, acme: Actor, count: int
) -> None:
    uploads = tuple(declared(str(i).encode()) for i in range(count))
    with nothing_written(world), refused("INVALID_INPUT", "files"):
        world.bus.handle(PrepareDirectUploads(actor=acme, uploads=uploads))


def test_prepare_direct_uploads_accepts_an_uppercase_sha256(world: World, acme: Actor) -> None:
    [view] = world.bus.handle(
        PrepareDirectUploads(actor=acme, uploads=(declared(PDF, sha256=sha(PDF).upper()),))
    )
    assert view.sha256 == sha(PDF)


# --- createFile --------------------------------------------------------------------------------


def test_create_file_keeps_a_verified_direct_upload(world: World, acme: Actor) -> None:
    world.upload_directly(acme, PDF)
    view = world.bus.handle(
        CreateFile(actor=acme, sha256=sha(PDF), name="scan.pdf", entity_type="INVOICE", entity_id="inv-7")
    )
    assert (view.name, view.mime, view.size, view.status) == (
        "scan.pdf",
        "application/pdf",
        len(PDF),
        FileStatus.READY,
    )
    assert world.storage.content(blob_key(acme.tenant_id, sha(PDF))) == PDF
    assert world.storage.staged == {}
    assert [(link.entity_type, link.entity_id) for link in world.rows(acme)[0].links] == [
        (EntityType.INVOICE, "inv-7")
    ]


def test_create_file_refuses_bytes_that_do_not_match_the_declared_sha256(world: World, acme: Actor) -> None:
    with nothing_written(world):
        world.upload_directly(acme, TEXT, declared=sha(PDF))
        with refused("CHECKSUM_MISMATCH", "sha256") as error:
            world.bus.handle(CreateFile(actor=acme, sha256=sha(PDF)))
    assert sha(TEXT) in error.value.message


def test_create_file_refuses_a_direct_upload_over_the_limit_and_discards_it(
    world: World, acme: Actor
) -> None:
    big = b"z" * (LIMIT + 1)
    with nothing_written(world):
        world.upload_directly(acme, big)
        with refused("FILE_TOO_LARGE", "file"):
            world.bus.handle(CreateFile(actor=acme, sha256=sha(big)))


def test_create_file_without_an_upload_is_upload_not_found(world: World, acme: Actor) -> None:
    with nothing_written(world), refused("UPLOAD_NOT_FOUND", "sha256"):
        world.bus.handle(CreateFile(actor=acme, sha256=sha(PDF)))


def test_create_file_refuses_a_malformed_sha256(world: World, acme: Actor) -> None:
    with nothing_written(world), refused("INVALID_INPUT", "sha256"):
        world.bus.handle(CreateFile(actor=acme, sha256="not-a-digest"))


def test_create_file_does_not_see_another_tenants_direct_upload(
    world: World, acme: Actor, globex: Actor
) -> None:
    world.upload_directly(globex, PDF)
    with nothing_written(world), refused("UPLOAD_NOT_FOUND", "sha256"):
        world.bus.handle(CreateFile(actor=acme, sha256=sha(PDF)))
    assert world.bus.handle(CreateFile(actor=globex, sha256=sha(PDF))).sha256 == sha(PDF)


def test_create_file_with_an_unknown_entity_type_writes_no_row_and_can_be_retried(
    world: World, acme: Actor
) -> None:
    world.upload_directly(acme, PDF)
    with refused("UNKNOWN_ENTITY_TYPE", "entityType"):
        world.bus.handle(CreateFile(actor=acme, sha256=sha(PDF), entity_type="NOPE", entity_id="x"))
    assert world.rows(acme) == []
    assert world.storage.blobs == {}
    assert world.bus.handle(
        CreateFile(actor=acme, sha256=sha(PDF), entity_type="QUOTE", entity_id="q-1")
    ).size == len(PDF)


def test_create_file_promotes_the_tenants_temporary_file_with_those_bytes(world: World, acme: Actor) -> None:
    temporary = world.add(acme, PDF, temporary=True)
    world.upload_directly(acme, PDF)
    view = world.bus.handle(CreateFile(actor=acme, sha256=sha(PDF), entity_type="INVOICE", entity_id="inv-1"))
    assert view.id == temporary.id
    assert (view.status, view.expires_at) == (FileStatus.READY, None)
    assert world.storage.staged == {}
    assert list(world.storage.blobs) == [blob_key(acme.tenant_id, sha(PDF))]
    assert len(world.rows(acme)[0].links) == 1


# --- generateSignedUrl / generateFileUrls -------------------------------------------------------


def test_sign_file_urls_defaults_to_the_policy_ttl_and_addresses_the_tenants_blob(
    world: World, acme: Actor
) -> None:
    a, b = world.add(acme, PDF, name="a.pdf"), world.add(acme, PNG, name="b.png")
    urls = world.bus.handle(SignFileUrls(actor=acme, file_ids=(b.id, a.id), inline=True))
    assert [url.file_id for url in urls] == [b.id, a.id]
    assert all(url.expires_at == world.clock.now() + timedelta(seconds=600) for url in urls)
    link = urlsplit(urls[1].url)
    assert unquote(link.path.lstrip("/")) == blob_key(acme.tenant_id, sha(PDF))
    query = parse_qs(link.query)
    assert (query["name"], query["mime"], query["inline"]) == (["a.pdf"], ["application/pdf"], ["1"])


@pytest.mark.parametrize("seconds", [1, 3600])
def test_sign_file_urls_accepts_an_expiry_within_bounds(world: World, acme: Actor, seconds: int) -> None:
    file = world.add(acme, PDF)
    [url] = world.bus.handle(SignFileUrls(actor=acme, file_ids=(file.id,), expires_in=seconds))
    assert url.expires_at == world.clock.now() + timedelta(seconds=seconds)


@pytest.mark.parametrize("seconds", [-1, 3601, 10**9])
def test_sign_file_urls_refuses_an_expiry_out_of_bounds(world: World, acme: Actor, seconds: int) -> None:
    file = world.add(acme, PDF)
    with refused("INVALID_INPUT", "expiresIn") as error:
        world.bus.handle(SignFileUrls(actor=acme, file_ids=(file.id,), expires_in=seconds))
    assert "3600" in error.value.message


def test_sign_file_urls_refuses_a_zero_expiry(world: World, acme: Actor) -> None:
    file = world.add(acme, PDF)
    with refused("INVALID_INPUT", "expiresIn"):
        world.bus.handle(SignFileUrls(actor=acme, file_ids=(file.id,), expires_in=0))


def test_sign_file_urls_with_a_missing_id_is_not_found(world: World, acme: Actor) -> None:
    file = world.add(acme, PDF)
    missing = str(uuid.uuid4())
    with refused("NOT_FOUND", "fileIds") as error:
        world.bus.handle(SignFileUrls(actor=acme, file_ids=(file.id, missing)))
    assert missing in error.value.message


def test_sign_file_urls_needs_at_least_one_id(world: World, acme: Actor) -> None:
    with refused("INVALID_INPUT", "fileIds"):
        world.bus.handle(SignFileUrls(actor=acme, file_ids=()))


# --- findFiles / getFileBySearch / findByFileName / findFilesByEntity -------------------------------


def add_series(
    world: World, actor: Actor, count: int, *, step: timedelta = timedelta(minutes=1)
) -> list[FileView]:
    files = []
    for i in range(count):
        files.append(world.add(actor, f"document {i}\n".encode(), name=f"doc-{i}.txt"))
        world.clock.advance(step)
    return files


def test_find_files_pages_newest_first_with_a_cursor(world: World, acme: Actor) -> None:
    files = add_series(world, acme, 7)
    newest_first = [f.id for f in reversed(files)]
    first = world.bus.handle(FindFiles(actor=acme))
    assert [f.id for f in first.items] == newest_first[:3]
    assert (FileCursor.decode(first.end_cursor).file_id, first.has_next_page) == (newest_first[2], True)
    second = world.bus.handle(FindFiles(actor=acme, after=first.end_cursor))
    assert [f.id for f in second.items] == newest_first[3:6]
    assert second.has_next_page is True
    last = world.bus.handle(FindFiles(actor=acme, after=second.end_cursor, first=3))
    assert [f.id for f in last.items] == newest_first[6:]
    assert (FileCursor.decode(last.end_cursor).file_id, last.has_next_page) == (newest_first[6], False)


def test_find_files_pages_through_files_created_at_the_same_instant_without_gaps(
    world: World, acme: Actor
) -> None:
    files = add_series(world, acme, 5, step=timedelta(0))
    seen: list[str] = []
    after = None
    while True:
        page = world.bus.handle(FindFiles(actor=acme, first=2, after=after))
        seen += [f.id for f in page.items]
        if not page.has_next_page:
            break
        after = page.end_cursor
    assert seen == sorted((f.id for f in files), reverse=True)


def test_find_files_on_an_empty_tenant_is_an_empty_last_page(world: World, acme: Actor) -> None:
    page = world.bus.handle(FindFiles(actor=acme))
    assert (page.items, page.end_cursor, page.has_next_page) == ((), None, False)


def test_find_files_with_exactly_a_page_has_no_next_page(world: World, acme: Actor) -> None:
    add_series(world, acme, 3)
    assert world.bus.handle(FindFiles(actor=acme, first=3)).has_next_page is False


def test_paging_continues_after_a_cursor_whose_file_was_deleted(world: World, acme: Actor) -> None:
    files = add_series(world, acme, 6)
    first = world.bus.handle(FindFiles(actor=acme, first=3))
    world.bus.handle(DeleteFile(actor=acme, file_id=first.items[-1].id))
    second = world.bus.handle(FindFiles(actor=acme, first=3, after=first.end_cursor))
    assert [f.id for f in second.items] == [f.id for f in reversed(files[:3])]


@pytest.mark.parametrize("first", [0, -1, 11])
def test_find_files_refuses_a_page_size_out_of_bounds(world: World, acme: Actor, first: int) -> None:
    with refused("INVALID_INPUT", "first"):
        world.bus.handle(FindFiles(actor=acme, first=first))


def test_find_files_filters(world: World, acme: Actor) -> None:
    t0 = world.clock.now()
    invoice = world.add(acme, PDF, name="Invoice-2026.pdf", entity_type="INVOICE", entity_id="inv-1")
    world.clock.advance(timedelta(hours=1))
    photo = world.add(acme, PNG, name="photo.png", entity_type="EXPENSE", entity_id="exp-1")
    world.clock.advance(timedelta(hours=1))
    note = world.add(acme, TEXT, name="invoice notes.txt")

    def ids(**filter: Any) -> list[str]:
        return [f.id for f in world.bus.handle(FindFiles(actor=acme, filter=FileFilter(**filter))).items]

    assert ids(name_contains="INVOICE") == [note.id, invoice.id]
    assert ids(mime="image/png") == [photo.id]
    assert ids(entity_type=EntityType.INVOICE) == [invoice.id]
    assert ids(created_from=t0 + timedelta(hours=1)) == [note.id, photo.id]
    assert ids(created_to=t0 + timedelta(hours=1)) == [invoice.id]
    assert ids(created_from=t0, created_to=t0 + timedelta(hours=2)) == [photo.id, invoice.id]
    assert ids(name_contains="invoice", mime="text/plain") == [note.id]


def test_search_files_is_case_insensitive_and_treats_wildcards_literally(world: World, acme: Actor) -> None:
    factura = world.add(acme, PDF, name="Factura-Enero.pdf")
    mine = world.add(acme, TEXT, name="mi FACTURA.txt")
    sale = world.add(acme, PNG, name="50%_off.png")
    world.add(acme, b"other", name="5000 off.png")
    assert {f.id for f in world.bus.handle(SearchFiles(actor=acme, text="factura"))} == {factura.id, mine.id}
    assert [f.id for f in world.bus.handle(SearchFiles(actor=acme, text="50%"))] == [sale.id]
    assert [f.id for f in world.bus.handle(SearchFiles(actor=acme, text="%_"))] == [sale.id]
    assert world.bus.handle(SearchFiles(actor=acme, text="enero", first=1))[0].id == factura.id


@pytest.mark.parametrize("text", ["", "   "])
def test_search_files_refuses_an_empty_search(world: World, acme: Actor, text: str) -> None:
    with refused("INVALID_INPUT", "search"):
        world.bus.handle(SearchFiles(actor=acme, text=text))


def test_find_by_file_name_matches_the_exact_name_newest_first(world: World, acme: Actor) -> None:
    older = world.add(acme, PDF, name="Report.pdf")
    world.clock.advance(timedelta(seconds=1))
    newer = world.add(acme, PNG, name="Report.pdf")
    world.add(acme, TEXT, name="report.pdf")
    world.add(acme, b"x", name="Report.pdf.bak")
    assert [f.id for f in world.bus.handle(FindFilesByName(actor=acme, name="Report.pdf"))] == [
        newer.id,
        older.id,
    ]


def test_find_by_file_name_refuses_an_empty_name(world: World, acme: Actor) -> None:
    with refused("INVALID_INPUT", "name"):
        world.bus.handle(FindFilesByName(actor=acme, name=" "))


def test_find_files_by_entities_answers_every_ref_in_one_query(world: World, acme: Actor) -> None:
    a = world.add(acme, PDF, entity_type="INVOICE", entity_id="inv-1")
    world.clock.advance(timedelta(seconds=1))
    b = world.add(acme, PNG, entity_type="INVOICE", entity_id="inv-1")
    inv1, cli = EntityRef(EntityType.INVOICE, "inv-1"), EntityRef(EntityType.CLIENT, "inv-1")
    found = world.bus.handle(FindFilesByEntities(actor=acme, refs=(inv1, cli)))
    assert found == {inv1: [a, b], cli: []}


def test_get_file_links_answers_every_file_id(world: World, acme: Actor) -> None:
    a = world.add(acme, PDF, entity_type="INVOICE", entity_id="inv-1")
    b = world.add(acme, PNG)
    found = world.bus.handle(GetFileLinks(actor=acme, file_ids=(a.id, b.id)))
    assert [link.entity_id for link in found[a.id]] == ["inv-1"]
    assert found[b.id] == []


# --- files gc (CollectFileGarbage) ------------------------------------------------------------------


def plant_blob(world: World, tenant_id: str, data: bytes) -> str:
    """A blob no row references (what a crash between storage and commit leaves)."""
    staged = world.stage(data)
    key = blob_key(tenant_id, sha(data))
    world.storage.commit_staged(staged.ref, key)
    return key


def gc(world: World) -> GarbageReport:
    return world.bus.handle(CollectFileGarbage(actor=None))


def test_gc_removes_expired_temporary_files_with_their_blob_and_keeps_the_rest(
    world: World, acme: Actor
) -> None:
    ready = world.add(acme, PDF)
    world.add(acme, TEXT, temporary=True)  # expires first
    world.clock.advance(timedelta(minutes=90))
    fresh = world.add(acme, PNG, temporary=True)
    world.clock.advance(timedelta(minutes=31))  # expiring is 2h01 old, fresh 31 minutes
    report = gc(world)
    assert (report.expired_files, report.orphan_blobs) == (1, 1)
    assert {f.id for f in world.rows(acme)} == {ready.id, fresh.id}
    assert not world.has_blob(acme, TEXT)
    assert world.has_blob(acme, PDF) and world.has_blob(acme, PNG)


def test_gc_does_not_touch_a_promoted_temporary_file(world: World, acme: Actor) -> None:
    temporary = world.add(acme, PDF, temporary=True)
    world.bus.handle(LinkFile(actor=acme, file_id=temporary.id, entity_type="INVOICE", entity_id="inv-1"))
    world.clock.advance(timedelta(days=3))
    assert gc(world) == GarbageReport(expired_files=0, orphan_blobs=0, stale_staging=0)
    assert world.bus.handle(GetFile(actor=acme, file_id=temporary.id)).status == FileStatus.READY
    assert world.has_blob(acme, PDF)


def test_gc_removes_orphan_blobs_only_after_the_grace_period(world: World, acme: Actor) -> None:
    old = plant_blob(world, acme.tenant_id, b"orphan from a crash")
    world.clock.advance(timedelta(minutes=20))
    young = plant_blob(world, acme.tenant_id, b"upload in flight")
    world.clock.advance(timedelta(minutes=10))  # old: 30 minutes, young: 10 minutes
    assert gc(world).orphan_blobs == 1
    assert not world.storage.exists(old)
    assert world.storage.exists(young)
    world.clock.advance(timedelta(minutes=20))
    assert gc(world).orphan_blobs == 1
    assert not world.storage.exists(young)


def test_gc_removes_stale_staging_objects_and_keeps_fresh_ones(world: World, acme: Actor) -> None:
    stale = world.stage(b"abandoned upload").ref
    world.upload_directly(acme, b"abandoned direct upload")
    world.clock.advance(timedelta(minutes=31))
    fresh = world.stage(b"upload in progress").ref
    report = gc(world)
    assert report.stale_staging == 2
    assert set(world.storage.staged) == {fresh}
    assert stale not in world.storage.staged


def test_gc_of_one_tenants_expired_file_keeps_another_tenants_copy(
    world: World, acme: Actor, globex: Actor
) -> None:
    kept = world.add(acme, PDF)
    world.add(globex, PDF, temporary=True)
    world.clock.advance(timedelta(hours=3))
    report = gc(world)
    assert (report.expired_files, report.orphan_blobs) == (1, 1)
    assert world.rows(globex) == [] and not world.has_blob(globex, PDF)
    assert [f.id for f in world.rows(acme)] == [kept.id] and world.has_blob(acme, PDF)


def test_gc_keeps_ready_files_and_a_second_run_finds_nothing(
    world: World, acme: Actor, globex: Actor
) -> None:
    world.add(acme, PDF)
    world.add(globex, PNG, entity_type="CLIENT", entity_id="c-1")
    world.add(globex, TEXT, temporary=True)
    world.clock.advance(timedelta(days=30))
    assert gc(world) == GarbageReport(expired_files=1, orphan_blobs=1, stale_staging=0)
    kept = world.snapshot()[:3]
    assert gc(world) == GarbageReport(expired_files=0, orphan_blobs=0, stale_staging=0)
    assert world.snapshot()[:3] == kept
    assert len(world.rows(acme)) == len(world.rows(globex)) == 1
