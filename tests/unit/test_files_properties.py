"""Properties of the files domain: name sanitisation, dedupe idempotence, tenant isolation.

``two_tenant_machine`` builds a stateful model of two tenants driving the bus; it runs here on
the in-memory fakes and, in ``tests/integration/test_tenant_isolation.py``, on the real
SQLAlchemy unit of work and local storage.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import hashlib
import string
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from adapters.storage.mime import SniffingMimeDetector
from application.modules import build_message_bus
from application.files.commands import (
    AddFile,
    DeleteFile,
    FilePolicy,
    FindFiles,
    FindFilesByEntities,
    GetFile,
    GetFileLinks,
    LinkFile,
    SearchFiles,
    SignFileUrls,
)
from application.files.handlers import blob_key
from application.files.staging import StagedBlob, stage_chunks
from application.files.views import EntityRef, FileCursor, FileView
from application.shared.bus import MessageBus
from application.tenancy.handlers import CreateTenant
from domain.files.model import MAX_NAME_BYTES, EntityType, FileStatus, sanitize_file_name
from domain.shared.errors import NotFound
from domain.tenancy.model import Actor, Role
from tests.fakes.clock import FakeClock
from tests.fakes.storage import FakeFileStorage
from tests.fakes.uow import FakeStore, fake_uow_factory

# --- sanitize_file_name ------------------------------------------------------------------------

_UNSAFE_CATEGORIES = {"Cc", "Cf", "Zl", "Zp"}
names = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.sampled_from(list("./\\ \t\x00\u200b\u202e.aé漢😀")), max_size=40),
    st.text(min_size=200, max_size=400),
)


@given(names)
def test_sanitize_file_name_is_idempotent(raw: str) -> None:
    once = sanitize_file_name(raw)
    assert sanitize_file_name(once) == once


@given(names)
def test_sanitize_file_name_is_a_safe_non_empty_bounded_name(raw: str) -> None:
    name = sanitize_file_name(raw)
    assert name
    assert "/" not in name and "\\" not in name
    assert ".." not in name
    assert not any(unicodedata.category(ch) in _UNSAFE_CATEGORIES for ch in name)
    assert len(name.encode()) <= MAX_NAME_BYTES
    assert name == name.strip(" .")


@given(st.text(max_size=300))
def test_sanitize_file_name_keeps_a_harmless_name_as_given(raw: str) -> None:
    safe = "".join(ch for ch in raw if ch.isalnum() or ch in "-_")
    name = unicodedata.normalize("NFC", safe)[:60]
    if name:
        assert sanitize_file_name(name + ".pdf") == name + ".pdf"


stems = st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=400)
extensions = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=10)


@given(stems, extensions)
def test_sanitize_file_name_keeps_a_short_extension_even_when_it_cuts_the_name(stem: str, ext: str) -> None:
    name = sanitize_file_name(f"{stem}.{ext}")
    assert name.endswith(f".{ext}")
    assert len(name) > len(ext) + 1, "something of the stem survives"
    assert len(name.encode()) <= MAX_NAME_BYTES


@given(st.lists(stems, min_size=1, max_size=4), st.sampled_from(["/", "\\"]), extensions)
def test_sanitize_file_name_keeps_only_the_last_path_component(parts: list[str], sep: str, ext: str) -> None:
    raw = sep.join(["..", *parts]) + f".{ext}"
    assert sanitize_file_name(raw) == sanitize_file_name(f"{parts[-1]}.{ext}")


@pytest.mark.parametrize("raw", ["\ud800", "factura\udcff.pdf"])
def test_sanitize_file_name_survives_lone_surrogates(raw: str) -> None:
    name = sanitize_file_name(raw)
    name.encode()
    assert name


# --- a world on fakes ----------------------------------------------------------------------------


@dataclass
class Harness:
    """The bus plus what a test needs to see in storage, for one implementation of the ports."""

    bus: MessageBus
    stage: Callable[[bytes], StagedBlob]
    blob_exists: Callable[[str], bool]
    url_key: Callable[[str], str]
    extra: dict[str, Any] = field(default_factory=dict)

    def tenant(self, slug: str) -> Actor:
        created = self.bus.handle(CreateTenant(actor=None, slug=slug, name=slug.title()))
        return Actor(tenant_id=created.tenant_id, user_id=f"owner@{slug}", role=Role.OWNER)


def fake_harness(policy: FilePolicy | None = None) -> Harness:
    clock = FakeClock()
    store = FakeStore()
    storage = FakeFileStorage(clock)
    bus = build_message_bus(
        uow_factory=fake_uow_factory(store, clock),
        storage=storage,
        mime=SniffingMimeDetector(),
        clock=clock,
        file_policy=policy or FilePolicy(),
    )

    def url_key(url: str) -> str:
        parts = urlsplit(url)
        assert (parts.scheme, parts.netloc) == ("fake", "download"), url
        return unquote(parts.path.lstrip("/"))

    return Harness(
        bus=bus,
        stage=lambda data: stage_chunks(storage, [data], max_size=1 << 30),
        blob_exists=storage.exists,
        url_key=url_key,
        extra={"store": store, "storage": storage},
    )


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- dedupe idempotence ----------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    contents=st.lists(st.binary(max_size=48), min_size=1, max_size=5, unique=True),
    uploads=st.lists(st.tuples(st.integers(0, 1), st.integers(0, 4), st.booleans()), min_size=1, max_size=20),
)
def test_any_sequence_of_uploads_keeps_one_row_and_one_blob_per_content_and_tenant(
    contents: list[bytes], uploads: list[tuple[int, int, bool]]
) -> None:
    h = fake_harness()
    store: FakeStore = h.extra["store"]
    storage: FakeFileStorage = h.extra["storage"]
    actors = [h.tenant("uno"), h.tenant("dos")]
    first_id: dict[tuple[int, bytes], str] = {}
    kept_for_good: set[tuple[int, bytes]] = set()

    for who, index, temporary in uploads:
        data = contents[index % len(contents)]
        view = h.bus.handle(AddFile(actor=actors[who], content=h.stage(data), temporary=temporary))
        assert first_id.setdefault((who, data), view.id) == view.id
        assert view.sha256 == sha(data)
        if not temporary:
            kept_for_good.add((who, data))
        expected = FileStatus.READY if (who, data) in kept_for_good else FileStatus.TEMPORARY
        assert view.status == expected

    for who, actor in enumerate(actors):
        uploaded = {data for (owner, data) in first_id if owner == who}
        rows = store.files_of(actor.tenant_id)
        assert sorted(f.sha256 for f in rows) == sorted(sha(d) for d in uploaded)
        assert {f.id for f in rows} == {first_id[(who, d)] for d in uploaded}
        blobs = {key for key in storage.blobs if key.startswith(f"{actor.tenant_id}/")}
        assert blobs == {blob_key(actor.tenant_id, sha(d)) for d in uploaded}
    assert storage.staged == {}


# --- two tenants, one model ---------------------------------------------------------------------

CONTENTS = (
    b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01",
    b"Factura 0001 total 10.00\n",
    b"the same bytes that both tenants keep",
)
NAMES = ("Factura 001.pdf", "report.PDF", "50%_off.txt", "notes")
ENTITIES = (
    EntityRef(EntityType.INVOICE, "inv-1"),
    EntityRef(EntityType.INVOICE, "inv-2"),
    EntityRef(EntityType.CLIENT, "inv-1"),
)
SEARCHES = ("factura", "REPORT", "%", "_", "zzz")

STATEFUL_SETTINGS = settings(
    max_examples=25,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@dataclass
class ModelFile:
    id: str
    owner: int
    sha256: str
    name: str
    status: FileStatus
    links: set[EntityRef] = field(default_factory=set)


tenant_index = st.integers(0, 1)
picks = st.integers(0, 10_000)


class TwoTenantModel(RuleBasedStateMachine):
    """Two tenants share one service; every answer is checked against a model of each tenant."""

    make_harness: ClassVar[Callable[[], Harness]]

    def __init__(self) -> None:
        super().__init__()
        self.h = type(self).make_harness()
        suffix = uuid.uuid4().hex[:10]
        self.actors = [self.h.tenant(f"uno-{suffix}"), self.h.tenant(f"dos-{suffix}")]
        self.alive: list[dict[str, ModelFile]] = [{}, {}]
        self.known: list[str] = []  # every id ever seen, of both tenants, deleted ones too

    # --- helpers ------------------------------------------------------------------------

    def pick(self, index: int) -> str:
        """An id of either tenant (alive or deleted), or now and then one nobody has."""
        slot = index % (len(self.known) + 1)
        return self.known[slot] if slot < len(self.known) else str(uuid.uuid4())

    def own(self, who: int, file_id: str) -> ModelFile | None:
        return self.alive[who].get(file_id)

    def by_sha(self, who: int, digest: str) -> ModelFile | None:
        return next((f for f in self.alive[who].values() if f.sha256 == digest), None)

    def check_view(self, who: int, view: FileView) -> None:
        model = self.own(who, view.id)
        assert model is not None, f"tenant {who} got a file that is not its own: {view.id}"
        assert (view.sha256, view.name, view.status) == (model.sha256, model.name, model.status)

    # --- rules --------------------------------------------------------------------------

    @rule(
        who=tenant_index,
        content=st.sampled_from(CONTENTS),
        name=st.sampled_from(NAMES),
        entity=st.none() | st.sampled_from(ENTITIES),
        temporary=st.booleans(),
    )
    def add(self, who: int, content: bytes, name: str, entity: EntityRef | None, temporary: bool) -> None:
        extra = {"entity_type": entity.entity_type.value, "entity_id": entity.entity_id} if entity else {}
        view = self.h.bus.handle(
            AddFile(
                actor=self.actors[who], content=self.h.stage(content), name=name, temporary=temporary, **extra
            )
        )
        model = self.by_sha(who, sha(content))
        if model is None:
            assert view.id not in self.known, "a new file must get a new id"
            model = ModelFile(view.id, who, sha(content), name, FileStatus.TEMPORARY)
            self.alive[who][view.id] = model
            self.known.append(view.id)
        assert view.id == model.id
        if not temporary or entity is not None:
            model.status = FileStatus.READY
        if entity is not None:
            model.links.add(entity)
        self.check_view(who, view)

    @rule(who=tenant_index, pick=picks, entity=st.sampled_from(ENTITIES))
    def link(self, who: int, pick: int, entity: EntityRef) -> None:
        file_id = self.pick(pick)
        command = LinkFile(
            actor=self.actors[who],
            file_id=file_id,
            entity_type=entity.entity_type.value,
            entity_id=entity.entity_id,
        )
        model = self.own(who, file_id)
        if model is None:
            with pytest.raises(NotFound):
                self.h.bus.handle(command)
            return
        link = self.h.bus.handle(command)
        assert (link.file_id, link.entity_type, link.entity_id) == (
            file_id,
            entity.entity_type,
            entity.entity_id,
        )
        model.links.add(entity)
        model.status = FileStatus.READY

    @rule(who=tenant_index, pick=picks)
    def delete(self, who: int, pick: int) -> None:
        file_id = self.pick(pick)
        if self.own(who, file_id) is None:
            with pytest.raises(NotFound):
                self.h.bus.handle(DeleteFile(actor=self.actors[who], file_id=file_id))
            return
        assert self.h.bus.handle(DeleteFile(actor=self.actors[who], file_id=file_id)) == file_id
        del self.alive[who][file_id]

    @rule(who=tenant_index, pick=picks)
    def get(self, who: int, pick: int) -> None:
        file_id = self.pick(pick)
        if self.own(who, file_id) is None:
            with pytest.raises(NotFound):
                self.h.bus.handle(GetFile(actor=self.actors[who], file_id=file_id))
            return
        view = self.h.bus.handle(GetFile(actor=self.actors[who], file_id=file_id))
        assert view.id == file_id
        self.check_view(who, view)

    @rule(who=tenant_index, page_size=st.integers(1, 3), pick=picks)
    def find(self, who: int, page_size: int, pick: int) -> None:
        seen: list[str] = []
        page = self.h.bus.handle(FindFiles(actor=self.actors[who], first=page_size))
        while True:
            for view in page.items:
                self.check_view(who, view)
            seen += [view.id for view in page.items]
            if not page.has_next_page:
                break
            page = self.h.bus.handle(
                FindFiles(actor=self.actors[who], first=page_size, after=page.end_cursor)
            )
        assert sorted(seen) == sorted(self.alive[who]), "every own file exactly once, nothing else"
        # A cursor made from any id (the other tenant's included) never yields a foreign row.
        cursor = FileCursor(datetime.now(UTC) + timedelta(days=1), self.pick(pick)).encode()
        for view in self.h.bus.handle(FindFiles(actor=self.actors[who], after=cursor)).items:
            self.check_view(who, view)

    @rule(who=tenant_index, refs=st.lists(st.sampled_from(ENTITIES), min_size=1, max_size=3))
    def find_by_entity(self, who: int, refs: list[EntityRef]) -> None:
        found = self.h.bus.handle(FindFilesByEntities(actor=self.actors[who], refs=tuple(refs)))
        assert set(found) == set(refs)
        for ref, views in found.items():
            for view in views:
                self.check_view(who, view)
            expected = {f.id for f in self.alive[who].values() if ref in f.links}
            assert {view.id for view in views} == expected

    @rule(who=tenant_index, text=st.sampled_from(SEARCHES))
    def search(self, who: int, text: str) -> None:
        views = self.h.bus.handle(SearchFiles(actor=self.actors[who], text=text, first=100))
        for view in views:
            self.check_view(who, view)
        expected = {f.id for f in self.alive[who].values() if text.lower() in f.name.lower()}
        assert {view.id for view in views} == expected

    @rule(who=tenant_index, chosen=st.lists(picks, min_size=1, max_size=3))
    def sign(self, who: int, chosen: list[int]) -> None:
        file_ids = tuple(self.pick(index) for index in chosen)
        query = SignFileUrls(actor=self.actors[who], file_ids=file_ids)
        if any(self.own(who, file_id) is None for file_id in file_ids):
            with pytest.raises(NotFound):
                self.h.bus.handle(query)
            return
        urls = self.h.bus.handle(query)
        assert [url.file_id for url in urls] == list(file_ids)
        for url in urls:
            model = self.own(who, url.file_id)
            assert self.h.url_key(url.url) == blob_key(self.actors[who].tenant_id, model.sha256)

    # --- invariants -----------------------------------------------------------------------

    @invariant()
    def each_tenant_keeps_exactly_its_blobs(self) -> None:
        for who, actor in enumerate(self.actors):
            alive = {f.sha256 for f in self.alive[who].values()}
            for content in CONTENTS:
                key = blob_key(actor.tenant_id, sha(content))
                assert self.h.blob_exists(key) == (sha(content) in alive), (who, key)

    @invariant()
    def each_tenant_sees_exactly_its_links(self) -> None:
        for who, actor in enumerate(self.actors):
            ids = tuple(self.alive[who]) + tuple(self.known)
            links = self.h.bus.handle(GetFileLinks(actor=actor, file_ids=ids))
            for file_id, found in links.items():
                model = self.own(who, file_id)
                if model is None:
                    assert found == [], f"tenant {who} sees links of a file that is not its own"
                else:
                    assert {EntityRef(link.entity_type, link.entity_id) for link in found} == model.links


def two_tenant_machine(make_harness: Callable[[], Harness]) -> type[TwoTenantModel]:
    """The model bound to one implementation of the ports."""
    return type("TwoTenantModelOn", (TwoTenantModel,), {"make_harness": staticmethod(make_harness)})


def test_two_tenants_never_see_or_touch_each_others_files_on_fakes() -> None:
    run_state_machine_as_test(two_tenant_machine(fake_harness), settings=STATEFUL_SETTINGS)
