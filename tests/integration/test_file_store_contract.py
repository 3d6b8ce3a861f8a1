"""One contract for the unit of work, ``FileRepository`` and ``FileReader``.

It runs against the in-memory fakes (``tests/fakes/files.py``) and against the SQLAlchemy
adapters on SQLite and PostgreSQL, so the fakes the unit tests rely on cannot drift from
the real thing. Known defects of one implementation are marked ``xfail(strict=True)`` for
that implementation only, with the reason.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from adapters.db.uow import SqlAlchemyUnitOfWork
from application.files.views import EntityRef, FileCursor, FileFilter, FileView
from application.shared.ports import DuplicateEntry, UnitOfWork
from domain.files.model import EntityType, File, FileAdded, FileDeleted, FileLinked, FileStatus
from domain.tenancy.model import Role, Tenant, User
from tests.fakes.clock import FakeClock
from tests.fakes.uow import FakeStore, fake_uow_factory

T0 = datetime(2026, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Backend:
    name: str
    clock: FakeClock
    uow: Callable[[str | None], UnitOfWork]

    def tenant(self, slug: str, *, external_id: str | None = None, at: datetime = T0) -> str:
        with self.uow(None) as uow:
            tenant = Tenant.create(slug=slug, name=slug.title(), now=at, external_id=external_id)
            uow.tenants.add(tenant)
            uow.commit()
        return tenant.id

    def keep(self, tenant_id: str, *files: File) -> list[File]:
        with self.uow(tenant_id) as uow:
            for file in files:
                uow.files.add(file)
            uow.commit()
        return list(files)

    def known_bug(self, request: pytest.FixtureRequest, backends: tuple[str, ...], reason: str) -> None:
        if self.name in backends:
            request.applymarker(pytest.mark.xfail(reason=reason, strict=True))


def new_file(
    tenant_id: str,
    content: str,
    *,
    name: str | None = None,
    at: datetime = T0,
    mime: str = "text/plain",
    temporary_until: datetime | None = None,
    links: tuple[tuple[EntityType, str], ...] = (),
) -> File:
    file = File.add(
        tenant_id=tenant_id,
        name=name or f"{content}.txt",
        sha256=digest(content),
        mime=mime,
        size=len(content),
        created_by="ana@acme.pa",
        now=at,
        temporary_until=temporary_until,
    )
    for offset, (entity_type, entity_id) in enumerate(links):
        file.link(entity_type, entity_id, now=at + timedelta(seconds=offset))
    if temporary_until is not None:  # link() promotes; keep what the caller asked for
        file.status, file.expires_at = FileStatus.TEMPORARY, temporary_until
    return file


def view_of(file: File) -> FileView:
    return FileView(
        id=file.id,
        name=file.name,
        sha256=file.sha256,
        mime=file.mime,
        size=file.size,
        status=FileStatus(file.status),
        created_by=file.created_by,
        created_at=file.created_at,
        expires_at=file.expires_at,
    )


def ids(views: Any) -> list[str]:
    return [view.id for view in views]


def newest_first(*files: File) -> list[str]:
    return [f.id for f in sorted(files, key=lambda f: (f.created_at, f.id), reverse=True)]


class FileStoreContract:
    """The behaviour every implementation owes; subclasses provide the ``backend`` fixture."""

    @pytest.fixture
    def backend(self) -> Backend:
        raise NotImplementedError

    @pytest.fixture
    def acme(self, backend: Backend) -> str:
        return backend.tenant("acme")

    @pytest.fixture
    def globex(self, backend: Backend) -> str:
        return backend.tenant("globex", at=T0 + timedelta(seconds=1))

    # --- unit of work -----------------------------------------------------------------------

    def test_committed_work_is_visible_to_the_next_unit_of_work(self, backend: Backend, acme: str) -> None:
        file = new_file(acme, "a", links=((EntityType.INVOICE, "inv-1"),))
        backend.keep(acme, file)
        with backend.uow(acme) as uow:
            loaded = uow.files.get(file.id)
            assert loaded is not None
            assert view_of(loaded) == view_of(file)
            assert loaded.created_at == T0 and loaded.created_at.tzinfo is not None
            assert [(link.entity_type, link.entity_id, link.file_id) for link in loaded.links] == [
                (EntityType.INVOICE, "inv-1", file.id)
            ]

    def test_leaving_the_block_without_commit_discards_the_work(self, backend: Backend, acme: str) -> None:
        kept = backend.keep(acme, new_file(acme, "kept", temporary_until=T0 + timedelta(hours=1)))[0]
        with backend.uow(acme) as uow:
            uow.files.add(new_file(acme, "dropped"))
            uow.files.get(kept.id).promote()
        with backend.uow(acme) as uow:
            assert ids(uow.file_views.find(FileFilter(), first=10, after=None)) == [kept.id]
            assert uow.files.get(kept.id).status == FileStatus.TEMPORARY

    def test_an_error_in_the_block_discards_the_work_and_propagates(
        self, backend: Backend, acme: str
    ) -> None:
        with pytest.raises(ZeroDivisionError):
            with backend.uow(acme) as uow:
                uow.files.add(new_file(acme, "a"))
                raise ZeroDivisionError
        with backend.uow(acme) as uow:
            assert uow.file_views.by_sha256(digest("a")) is None

    def test_rollback_discards_what_was_not_committed(self, backend: Backend, acme: str) -> None:
        first = new_file(acme, "first")
        first_id = first.id  # the ORM expires what it held when it rolls back
        with backend.uow(acme) as uow:
            uow.files.add(first)
            uow.commit()
            uow.files.add(new_file(acme, "second"))
            uow.rollback()
            uow.commit()
        with backend.uow(acme) as uow:
            assert ids(uow.file_views.find(FileFilter(), first=10, after=None)) == [first_id]

    def test_changes_after_a_commit_need_another_commit(self, backend: Backend, acme: str) -> None:
        file = new_file(acme, "a", temporary_until=T0 + timedelta(hours=1))
        file_id = file.id
        with backend.uow(acme) as uow:
            uow.files.add(file)
            uow.commit()
            file.link(EntityType.CLIENT, "c-1", now=T0)
            uow.commit()
            file.link(EntityType.CLIENT, "c-2", now=T0)
        with backend.uow(acme) as uow:
            loaded = uow.files.get(file_id)
            assert [link.entity_id for link in loaded.links] == ["c-1"]
            assert (loaded.status, loaded.expires_at) == (FileStatus.READY, None)

    def test_reads_see_the_units_own_uncommitted_writes(self, backend: Backend, acme: str) -> None:
        with backend.uow(acme) as uow:
            file = new_file(acme, "a")
            uow.files.add(file)
            file.link(EntityType.QUOTE, "q-1", now=T0)
            assert uow.file_views.get(file.id) == view_of(file)
            assert [link.entity_id for link in uow.file_views.links_of([file.id])[file.id]] == ["q-1"]

    def test_a_unit_of_work_can_be_used_again_after_its_block(self, backend: Backend, acme: str) -> None:
        uow = backend.uow(acme)
        with uow:
            uow.files.add(new_file(acme, "a"))
            uow.commit()
        with uow:
            assert uow.files.get_by_sha256(digest("a")) is not None

    def test_a_unit_of_work_refuses_to_be_opened_twice_or_committed_outside(
        self, backend: Backend, acme: str
    ) -> None:
        uow = backend.uow(acme)
        with uow:
            with pytest.raises(RuntimeError):
                uow.__enter__()
        with pytest.raises(RuntimeError):
            uow.commit()

    def test_a_unit_of_work_without_tenant_has_no_files(self, backend: Backend, acme: str) -> None:
        with backend.uow(None) as uow:
            with pytest.raises(PermissionError):
                uow.files.get_by_sha256(digest("a"))
            with pytest.raises(PermissionError):
                uow.file_views.find(FileFilter(), first=1, after=None)

    def test_commit_collects_the_events_of_the_aggregates_it_saw(self, backend: Backend, acme: str) -> None:
        uow = backend.uow(acme)
        with uow:
            file = new_file(acme, "a")
            uow.files.add(file)
            assert uow.collect_events() == [], "events are handed out on commit only"
            uow.commit()
        assert uow.collect_events() == [FileAdded(tenant_id=acme, file_id=file.id, sha256=digest("a"))]
        assert uow.collect_events() == []
        with uow:
            uow.files.get(file.id).link(EntityType.INVOICE, "inv-1", now=T0)
            uow.commit()
        assert uow.collect_events() == [
            FileLinked(tenant_id=acme, file_id=file.id, entity_type=EntityType.INVOICE, entity_id="inv-1")
        ]

    def test_rolled_back_work_yields_no_events(self, backend: Backend, acme: str) -> None:
        uow = backend.uow(acme)
        with uow:
            uow.files.add(new_file(acme, "a"))
        with uow:
            uow.files.add(new_file(acme, "b"))
            uow.rollback()
            uow.commit()
        assert uow.collect_events() == []

    def test_commit_collects_the_events_of_deleted_aggregates(
        self, backend: Backend, acme: str, request: pytest.FixtureRequest
    ) -> None:
        file = backend.keep(acme, new_file(acme, "a"))[0]
        uow = backend.uow(acme)
        with uow:
            loaded = uow.files.get(file.id)
            loaded.delete()
            uow.files.delete(loaded)
            uow.commit()
        assert uow.collect_events() == [FileDeleted(tenant_id=acme, file_id=file.id, sha256=digest("a"))]

    # --- repository ---------------------------------------------------------------------------

    def test_get_and_get_by_sha256_find_only_the_tenants_files(
        self, backend: Backend, acme: str, globex: str
    ) -> None:
        mine = backend.keep(acme, new_file(acme, "shared"))[0]
        theirs = backend.keep(globex, new_file(globex, "shared"), new_file(globex, "only-theirs"))
        with backend.uow(acme) as uow:
            assert uow.files.get(mine.id).id == mine.id
            assert uow.files.get_by_sha256(digest("shared")).id == mine.id
            assert uow.files.get(theirs[0].id) is None
            assert uow.files.get(theirs[1].id) is None
            assert uow.files.get_by_sha256(digest("only-theirs")) is None
            assert uow.files.get(str(uuid.uuid4())) is None

    def test_a_repository_refuses_another_tenants_file(
        self, backend: Backend, acme: str, globex: str
    ) -> None:
        theirs = backend.keep(globex, new_file(globex, "t"))[0]
        with backend.uow(acme) as uow:
            with pytest.raises(PermissionError):
                uow.files.add(new_file(globex, "x"))
            with pytest.raises(PermissionError):
                uow.files.delete(theirs)
        with backend.uow(globex) as uow:
            assert ids(uow.file_views.find(FileFilter(), first=10, after=None)) == [theirs.id]

    def test_the_same_bytes_in_two_tenants_are_two_rows(
        self, backend: Backend, acme: str, globex: str
    ) -> None:
        backend.keep(acme, new_file(acme, "same"))
        backend.keep(globex, new_file(globex, "same"))
        for tenant in (acme, globex):
            with backend.uow(tenant) as uow:
                assert uow.files.get_by_sha256(digest("same")).tenant_id == tenant

    def test_a_second_file_with_the_same_bytes_is_a_duplicate_entry(
        self, backend: Backend, acme: str, request: pytest.FixtureRequest
    ) -> None:
        first = backend.keep(acme, new_file(acme, "same"))[0]
        with backend.uow(acme) as uow:
            with pytest.raises(DuplicateEntry):
                uow.files.add(new_file(acme, "same", name="again.txt"))
                uow.commit()
        with backend.uow(acme) as uow:
            assert ids(uow.file_views.find(FileFilter(), first=10, after=None)) == [first.id]

    def test_delete_removes_the_file_and_its_links_only(self, backend: Backend, acme: str) -> None:
        links = ((EntityType.INVOICE, "inv-1"), (EntityType.CLIENT, "c-1"))
        gone, kept = backend.keep(
            acme, new_file(acme, "gone", links=links), new_file(acme, "kept", links=links[:1])
        )
        with backend.uow(acme) as uow:
            uow.files.delete(uow.files.get(gone.id))
            uow.commit()
        with backend.uow(acme) as uow:
            assert uow.files.get(gone.id) is None
            assert uow.files.get_by_sha256(digest("gone")) is None
            assert uow.file_views.links_of([gone.id]) == {}
            refs = [EntityRef(EntityType.INVOICE, "inv-1"), EntityRef(EntityType.CLIENT, "c-1")]
            assert {ref: ids(views) for ref, views in uow.file_views.by_entities(refs).items()} == {
                refs[0]: [kept.id]
            }

    def test_the_bytes_of_a_deleted_file_can_be_kept_again(self, backend: Backend, acme: str) -> None:
        first = backend.keep(acme, new_file(acme, "a"))[0]
        with backend.uow(acme) as uow:
            uow.files.delete(uow.files.get(first.id))
            uow.commit()
        second = backend.keep(acme, new_file(acme, "a"))[0]
        with backend.uow(acme) as uow:
            assert uow.files.get_by_sha256(digest("a")).id == second.id

    def test_expired_lists_the_tenants_expired_temporary_files_oldest_expiry_first(
        self, backend: Backend, acme: str, globex: str
    ) -> None:
        now = T0 + timedelta(days=1)
        late = new_file(acme, "late", temporary_until=now)
        early = new_file(acme, "early", temporary_until=now - timedelta(hours=3))
        middle = new_file(acme, "middle", temporary_until=now - timedelta(hours=1))
        future = new_file(acme, "future", temporary_until=now + timedelta(microseconds=1))
        backend.keep(acme, late, early, middle, future, new_file(acme, "ready"))
        backend.keep(globex, new_file(globex, "theirs", temporary_until=now - timedelta(days=1)))
        with backend.uow(acme) as uow:
            assert ids(uow.files.expired(now, limit=10)) == [early.id, middle.id, late.id]
            assert ids(uow.files.expired(now, limit=2)) == [early.id, middle.id]

    def test_lock_content_serialises_without_changing_what_is_read(self, backend: Backend, acme: str) -> None:
        file = backend.keep(acme, new_file(acme, "a"))[0]
        with backend.uow(acme) as uow:
            uow.files.lock_content(digest("a"))
            uow.files.lock_content(digest("a"))
            uow.files.lock_content(digest("absent"))
            assert uow.files.get_by_sha256(digest("a")).id == file.id
            assert uow.files.get_by_sha256(digest("absent")) is None
            uow.commit()
        with backend.uow(acme) as uow:
            uow.files.lock_content(digest("a"))
            uow.files.delete(uow.files.get(file.id))
            uow.commit()
        with backend.uow(acme) as uow:
            uow.files.lock_content(digest("a"))
            assert ids(uow.file_views.find(FileFilter(), first=10, after=None)) == []

    # --- reader: single files ---------------------------------------------------------------------

    def test_get_get_many_and_by_sha256_return_only_the_tenants_views(
        self, backend: Backend, acme: str, globex: str
    ) -> None:
        a, b = backend.keep(acme, new_file(acme, "a", mime="application/pdf"), new_file(acme, "b"))
        theirs = backend.keep(globex, new_file(globex, "t"))[0]
        with backend.uow(acme) as uow:
            views = uow.file_views
            assert views.get(a.id) == view_of(a)
            assert views.get(theirs.id) is None
            assert sorted(ids(views.get_many([a.id, theirs.id, b.id, str(uuid.uuid4())]))) == sorted(
                [a.id, b.id]
            )
            assert views.get_many([]) == []
            assert views.by_sha256(digest("b")) == view_of(b)
            assert views.by_sha256(digest("t")) is None

    def test_views_carry_status_and_expiry(self, backend: Backend, acme: str) -> None:
        temporary = new_file(acme, "tmp", temporary_until=T0 + timedelta(hours=24))
        backend.keep(acme, temporary)
        with backend.uow(acme) as uow:
            view = uow.file_views.get(temporary.id)
        assert (view.status, view.expires_at) == (FileStatus.TEMPORARY, T0 + timedelta(hours=24))
        assert isinstance(view.status, FileStatus)

    # --- reader: find ---------------------------------------------------------------------------

    def test_find_returns_newest_first_and_breaks_ties_by_id(self, backend: Backend, acme: str) -> None:
        files = [new_file(acme, f"f{i}", at=T0 + timedelta(microseconds=i // 2)) for i in range(6)]
        backend.keep(acme, *files)
        with backend.uow(acme) as uow:
            assert ids(uow.file_views.find(FileFilter(), first=10, after=None)) == newest_first(*files)
            assert ids(uow.file_views.find(FileFilter(), first=4, after=None)) == newest_first(*files)[:4]

    def test_find_pages_from_where_the_previous_page_ended(self, backend: Backend, acme: str) -> None:
        files = [new_file(acme, f"f{i}", at=T0 + timedelta(seconds=i % 3)) for i in range(7)]
        backend.keep(acme, *files)
        pages, after = [], None
        with backend.uow(acme) as uow:
            while True:
                views = uow.file_views.find(FileFilter(), first=2, after=after)
                if not views:
                    break
                pages.append(ids(views))
                after = FileCursor.of(views[-1])
        assert [i for page in pages for i in page] == newest_first(*files)
        assert [len(page) for page in pages] == [2, 2, 2, 1]

    def test_find_never_pages_into_another_tenant(self, backend: Backend, acme: str, globex: str) -> None:
        mine = backend.keep(
            acme, new_file(acme, "m1", at=T0), new_file(acme, "m2", at=T0 + timedelta(hours=2))
        )
        theirs = backend.keep(globex, new_file(globex, "t1", at=T0 + timedelta(hours=1)))[0]
        with backend.uow(acme) as uow:
            assert ids(uow.file_views.find(FileFilter(), first=10, after=None)) == newest_first(*mine)
            assert set(ids(uow.file_views.find(FileFilter(), first=10, after=FileCursor(theirs.created_at, theirs.id)))) <= {
                f.id for f in mine
            }
        with backend.uow(globex) as uow:
            assert set(ids(uow.file_views.find(FileFilter(), first=10, after=FileCursor(mine[1].created_at, mine[1].id)))) <= {theirs.id}

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("INVOICE", ["Invoice-2026.pdf", "old invoice.txt"]),
            ("voice-2", ["Invoice-2026.pdf"]),
            ("100%", ["100%.txt"]),
            ("%", ["100%.txt"]),
            ("a_b", ["a_b.txt"]),
            ("_", ["a_b.txt"]),
            ("\\", []),
            ("zzz", []),
        ],
    )
    def test_find_by_name_contains_is_case_insensitive_and_literal(
        self, backend: Backend, acme: str, globex: str, text: str, expected: list[str]
    ) -> None:
        names = ["Invoice-2026.pdf", "old invoice.txt", "100%.txt", "1000.txt", "a_b.txt", "axb.txt"]
        backend.keep(
            acme, *(new_file(acme, n, name=n, at=T0 - timedelta(minutes=i)) for i, n in enumerate(names))
        )
        backend.keep(globex, new_file(globex, "t", name="Invoice-theirs.pdf"))
        with backend.uow(acme) as uow:
            found = uow.file_views.find(FileFilter(name_contains=text), first=10, after=None)
            assert [view.name for view in found] == expected
            assert [view.name for view in uow.file_views.search(text, limit=10)] == expected

    def test_find_filters_by_mime_entity_type_and_creation_window(
        self, backend: Backend, acme: str, globex: str
    ) -> None:
        pdf = new_file(acme, "pdf", mime="application/pdf", at=T0, links=((EntityType.INVOICE, "i-1"),))
        png = new_file(
            acme, "png", mime="image/png", at=T0 + timedelta(hours=1), links=((EntityType.EXPENSE, "e-1"),)
        )
        txt = new_file(
            acme,
            "txt",
            at=T0 + timedelta(hours=2),
            links=((EntityType.INVOICE, "i-2"), (EntityType.CLIENT, "c")),
        )
        backend.keep(acme, pdf, png, txt)
        backend.keep(
            globex,
            new_file(
                globex,
                "g",
                mime="image/png",
                at=T0 + timedelta(hours=1),
                links=((EntityType.EXPENSE, "e-1"),),
            ),
        )

        def found(**filter: Any) -> list[str]:
            with backend.uow(acme) as uow:
                return ids(uow.file_views.find(FileFilter(**filter), first=10, after=None))

        assert found(mime="image/png") == [png.id]
        assert found(mime="image") == []
        assert found(entity_type=EntityType.INVOICE) == [txt.id, pdf.id]
        assert found(entity_type=EntityType.EXPENSE) == [png.id]
        assert found(entity_type=EntityType.CHAT) == []
        assert found(created_from=T0 + timedelta(hours=1)) == [txt.id, png.id]
        assert found(created_to=T0 + timedelta(hours=1)) == [pdf.id]
        assert found(created_from=T0 + timedelta(microseconds=1), created_to=T0 + timedelta(hours=2)) == [
            png.id
        ]
        assert found(entity_type=EntityType.INVOICE, created_from=T0 + timedelta(minutes=1)) == [txt.id]
        with backend.uow(acme) as uow:
            assert ids(
                uow.file_views.find(FileFilter(entity_type=EntityType.INVOICE), first=1, after=FileCursor(txt.created_at, txt.id))
            ) == [pdf.id]

    # --- reader: search and by_name -----------------------------------------------------------------

    def test_search_is_newest_first_limited_and_tenant_bound(
        self, backend: Backend, acme: str, globex: str
    ) -> None:
        files = [
            new_file(acme, f"s{i}", name=f"Factura {i}.pdf", at=T0 + timedelta(minutes=i)) for i in range(4)
        ]
        backend.keep(acme, *files)
        backend.keep(globex, new_file(globex, "g", name="factura global.pdf", at=T0 + timedelta(days=1)))
        with backend.uow(acme) as uow:
            assert ids(uow.file_views.search("FACTURA", limit=3)) == newest_first(*files)[:3]

    def test_search_folds_the_case_of_spanish_letters(
        self, backend: Backend, acme: str, request: pytest.FixtureRequest
    ) -> None:
        backend.keep(acme, new_file(acme, "a", name="AÑO FISCAL ÉXITO.pdf"))
        with backend.uow(acme) as uow:
            for text in ("año", "AÑO", "éxito", "Año Fiscal"):
                assert [v.name for v in uow.file_views.search(text, limit=5)] == ["AÑO FISCAL ÉXITO.pdf"], (
                    text
                )

    def test_by_name_is_exact_case_sensitive_newest_first_and_tenant_bound(
        self, backend: Backend, acme: str, globex: str
    ) -> None:
        older = new_file(acme, "1", name="Report.pdf", at=T0)
        newer = new_file(acme, "2", name="Report.pdf", at=T0 + timedelta(seconds=1))
        backend.keep(
            acme,
            older,
            newer,
            new_file(acme, "3", name="report.pdf"),
            new_file(acme, "4", name="Report.pdf.bak"),
        )
        backend.keep(globex, new_file(globex, "5", name="Report.pdf", at=T0 + timedelta(days=1)))
        with backend.uow(acme) as uow:
            assert ids(uow.file_views.by_name("Report.pdf", limit=10)) == [newer.id, older.id]
            assert ids(uow.file_views.by_name("Report.pdf", limit=1)) == [newer.id]
            assert uow.file_views.by_name("Report", limit=10) == []

    # --- reader: entities and links ---------------------------------------------------------------

    def test_by_entities_groups_files_per_entity_oldest_first(
        self, backend: Backend, acme: str, globex: str
    ) -> None:
        inv1, inv2, client = (
            EntityRef(EntityType.INVOICE, "inv-1"),
            EntityRef(EntityType.INVOICE, "inv-2"),
            EntityRef(EntityType.CLIENT, "inv-1"),
        )
        a = new_file(
            acme,
            "a",
            at=T0 + timedelta(hours=1),
            links=((inv1.entity_type, inv1.entity_id), (inv2.entity_type, inv2.entity_id)),
        )
        b = new_file(acme, "b", at=T0, links=((inv1.entity_type, inv1.entity_id),))
        c = new_file(acme, "c", at=T0, links=((EntityType.QUOTE, "inv-1"),))
        backend.keep(acme, a, b, c)
        backend.keep(
            globex,
            new_file(globex, "g", at=T0 - timedelta(days=1), links=((inv1.entity_type, inv1.entity_id),)),
        )
        with backend.uow(acme) as uow:
            found = uow.file_views.by_entities([inv1, inv2, client])
            assert {ref: ids(views) for ref, views in found.items()} == {inv1: [b.id, a.id], inv2: [a.id]}
            assert found[inv1][1] == view_of(a)
            assert uow.file_views.by_entities([]) == {}

    def test_links_of_lists_each_files_links_in_creation_order(
        self, backend: Backend, acme: str, globex: str
    ) -> None:
        a = new_file(
            acme,
            "a",
            links=((EntityType.INVOICE, "inv-1"), (EntityType.CLIENT, "c-1"), (EntityType.CHAT, "chat-9")),
        )
        b = new_file(acme, "b")
        theirs = new_file(globex, "t", links=((EntityType.INVOICE, "inv-1"),))
        backend.keep(acme, a, b)
        backend.keep(globex, theirs)
        with backend.uow(acme) as uow:
            found = uow.file_views.links_of([a.id, b.id, theirs.id])
            assert list(found) == [a.id]
            assert [(link.entity_type, link.entity_id, link.file_id) for link in found[a.id]] == [
                (EntityType.INVOICE, "inv-1", a.id),
                (EntityType.CLIENT, "c-1", a.id),
                (EntityType.CHAT, "chat-9", a.id),
            ]
            assert [link.id for link in found[a.id]] == [link.id for link in a.links]
            assert found[a.id][0].created_at == T0
            assert uow.file_views.links_of([]) == {}

    # --- tenant directory ---------------------------------------------------------------------------

    def test_tenants_are_found_by_slug_and_reference_external_id_first(self, backend: Backend) -> None:
        plain = backend.tenant("org-1")
        workos = backend.tenant("acme", external_id="org-1", at=T0 + timedelta(seconds=1))
        with backend.uow(None) as uow:
            assert uow.tenants.by_slug("acme").id == workos
            assert uow.tenants.by_slug("nope") is None
            assert uow.tenants.by_reference("org-1").id == workos
            assert uow.tenants.by_reference("acme").id == workos
            assert uow.tenants.all_ids() == [plain, workos]

    def test_a_second_tenant_with_the_same_slug_is_a_duplicate_entry(self, backend: Backend) -> None:
        backend.tenant("acme")
        with pytest.raises(DuplicateEntry):
            backend.tenant("acme")
        with backend.uow(None) as uow:
            assert len(uow.tenants.all_ids()) == 1

    def test_users_are_found_within_their_tenant_by_id_external_id_or_email(self, backend: Backend) -> None:
        acme, globex = backend.tenant("acme"), backend.tenant("globex")
        user = User(
            id=str(uuid.uuid4()),
            tenant_id=acme,
            email="ana@acme.pa",
            role=Role.ADMIN,
            external_id="user_01",
            active=True,
            created_at=T0,
        )
        with backend.uow(None) as uow:
            uow.tenants.add_user(user)
            uow.commit()
        with backend.uow(None) as uow:
            for reference in (user.id, "user_01", "ana@acme.pa"):
                found = uow.tenants.user(acme, reference)
                assert (found.id, found.role, found.active) == (user.id, Role.ADMIN, True)
            assert uow.tenants.user(globex, "ana@acme.pa") is None


class TestFakeFileStore(FileStoreContract):
    @pytest.fixture
    def backend(self) -> Backend:
        clock = FakeClock(T0)
        return Backend("fake", clock, fake_uow_factory(FakeStore(), clock))


class TestSqlAlchemyFileStore(FileStoreContract):
    @pytest.fixture
    def backend(self, engine: Engine) -> Iterator[Backend]:
        clock = FakeClock(T0)
        sessions = sessionmaker(bind=engine, expire_on_commit=False)
        yield Backend(
            engine.dialect.name,
            clock,
            lambda tenant_id: SqlAlchemyUnitOfWork(tenant_id, session_factory=sessions, clock=clock),
        )
