"""One contract for every ``FileStorage``: the in-memory fake, the local disk and S3 (on moto).

Each implementation comes with a harness that plays the client at the other end of its links:
it follows a download URL and performs a direct upload the way a browser would (HTTP against
moto for S3, the signed-token routes' logic for local storage, the URL itself for the fake).
S3-only behaviour (multipart staging, presigning details, prefixes) is tested after the contract.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from adapters.storage.disposition import content_disposition
from adapters.storage.local import LocalFileStorage
from adapters.storage.s3 import (
    MAX_PRESIGN_SECONDS,
    PART_SIZE,
    S3FileStorage,
    StorageUnavailable,
)
from application.files.ports import FileStorage, UploadTarget
from tests.fakes.storage import FakeFileStorage
from tests.s3server import ACCESS_KEY, REGION, SECRET_KEY, admin_client, s3_bucket, s3_endpoint

__all__ = ["s3_bucket", "s3_endpoint"]  # fixtures used by this module

MiB = 1 << 20
TENANT = "0b7f6b1e-3c1d-4a59-9a57-2f8e6d1c9a01"
OTHER_TENANT = "5d2c9e4a-8b1f-4c3e-a7d6-1e0f9b8c7a62"
UPLOAD_REF = re.compile(r"^uploads/[0-9a-f]{32}$")


class RealClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True)
class Download:
    data: bytes
    filename: str
    mime: str
    inline: bool


class Harness:
    """A storage plus the client behaviour its links expect."""

    name: str
    storage: Any

    def follow_download(self, url: str) -> Download:
        raise NotImplementedError

    def upload(self, target: UploadTarget, data: bytes) -> None:
        raise NotImplementedError


class FakeHarness(Harness):
    name = "fake"

    def __init__(self) -> None:
        self.storage = FakeFileStorage(RealClock())

    def follow_download(self, url: str) -> Download:
        parts = urlsplit(url)
        assert parts.scheme == "fake" and parts.netloc == "download", url
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        data = b"".join(self.storage.read(unquote(parts.path.lstrip("/"))))
        return Download(data, query["name"], query["mime"], query["inline"] == "1")

    def upload(self, target: UploadTarget, data: bytes) -> None:
        parts = urlsplit(target.url)
        assert parts.scheme == "fake" and parts.netloc == "upload", target.url
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        assert int(query["size"]) == len(data) and query["mime"] == target.headers["Content-Type"]
        self.storage.put_staged(unquote(parts.path.lstrip("/")), data)


class LocalHarness(Harness):
    name = "local"

    def __init__(self, root: Path) -> None:
        self.storage = LocalFileStorage(root, public_url="http://testserver", secret="s", clock=RealClock())

    def follow_download(self, url: str) -> Download:
        prefix = "http://testserver/files/download/"
        assert url.startswith(prefix), url
        grant = self.storage.verify_download(url.removeprefix(prefix))
        data = b"".join(self.storage.read(grant.key))
        return Download(data, grant.filename, grant.mime, grant.inline)

    def upload(self, target: UploadTarget, data: bytes) -> None:
        prefix = "http://testserver/files/upload/"
        assert target.url.startswith(prefix), target.url
        grant = self.storage.verify_upload(target.url.removeprefix(prefix))
        assert grant.size == len(data) and grant.mime == target.headers["Content-Type"]
        writer = self.storage.open_staging_at(grant.ref)
        writer.write(data)
        writer.close()


_DISPOSITION = re.compile(
    r"^(?P<kind>inline|attachment); filename=\"(?P<fallback>[^\"\\]*)\"; "
    r"filename\*=UTF-8''(?P<encoded>[A-Za-z0-9!#$&+\-.^_`|~%]+)$"
)


class S3Harness(Harness):
    name = "s3"

    def __init__(self, endpoint: str, bucket: str) -> None:
        self.endpoint = endpoint
        self.bucket = bucket
        self.storage = make_s3(endpoint, bucket)

    def follow_download(self, url: str) -> Download:
        response = requests.get(url, timeout=30)
        assert response.status_code == 200, response.text
        match = _DISPOSITION.match(response.headers["Content-Disposition"])
        assert match, response.headers["Content-Disposition"]
        assert match["fallback"].isascii()
        return Download(
            response.content,
            unquote(match["encoded"], encoding="utf-8", errors="strict"),
            response.headers["Content-Type"],
            match["kind"] == "inline",
        )

    def upload(self, target: UploadTarget, data: bytes) -> None:
        response = requests.request(target.method, target.url, data=data, headers=dict(target.headers), timeout=30)
        assert response.status_code == 200, response.text


def make_s3(endpoint: str, bucket: str, *, prefix: str = "") -> S3FileStorage:
    return S3FileStorage(
        bucket=bucket,
        endpoint_url=endpoint,
        region=REGION,
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        path_style=True,
        prefix=prefix,
        clock=RealClock(),
    )


@pytest.fixture(params=["fake", "local", "s3"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Harness:
    if request.param == "fake":
        return FakeHarness()
    if request.param == "local":
        return LocalHarness(tmp_path / "storage")
    endpoint = request.getfixturevalue("s3_endpoint")
    return S3Harness(endpoint, request.getfixturevalue("s3_bucket"))


# --- helpers ------------------------------------------------------------------------------


def payload(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


def pieces(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def stage(storage: FileStorage, chunks: Iterable[bytes]) -> str:
    writer = storage.open_staging()
    for chunk in chunks:
        assert writer.write(chunk) == len(chunk)
    writer.close()
    return writer.ref


def read_all(chunks: Iterable[bytes], *, max_chunk: int = MiB) -> bytes:
    out = bytearray()
    for chunk in chunks:
        assert 0 < len(chunk) <= max_chunk
        out += chunk
    return bytes(out)


def blob_key(data: bytes, tenant: str = TENANT) -> str:
    return f"{tenant}/{hashlib.sha256(data).hexdigest()}"


def direct_ref(data: bytes, tenant: str = TENANT) -> str:
    return f"direct/{tenant}/{hashlib.sha256(data).hexdigest()}"


def assert_recent(moment: datetime, before: datetime, after: datetime) -> None:
    assert moment.tzinfo is not None and moment.utcoffset() == timedelta(0)
    # S3 keeps whole seconds and file systems have their own granularity: allow a little slack.
    assert before - timedelta(seconds=2) <= moment <= after + timedelta(seconds=2)


# --- the contract -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "write_size"),
    [
        (0, 1),
        (1, 1),
        (3 * MiB + 17, 100_000),
        (PART_SIZE, MiB),
        (2 * PART_SIZE + 5, 3 * MiB + 1),
    ],
    ids=["empty", "one-byte", "multi-chunk", "exactly-one-part", "multipart"],
)
def test_staged_bytes_survive_commit_and_read(harness: Harness, size: int, write_size: int) -> None:
    storage = harness.storage
    data = payload(size)
    ref = stage(storage, pieces(data, write_size))
    assert UPLOAD_REF.match(ref)
    assert read_all(storage.read_staged(ref)) == data

    key = blob_key(data)
    storage.commit_staged(ref, key)

    assert storage.exists(key)
    assert read_all(storage.read(key)) == data
    with pytest.raises(KeyError):
        storage.read_staged(ref)
    assert ref not in {s.key for s in storage.list_staged()}


def test_each_staging_writer_gets_its_own_ref(harness: Harness) -> None:
    storage = harness.storage
    first = stage(storage, [b"first"])
    second = stage(storage, [b"second"])
    assert first != second
    assert read_all(storage.read_staged(first)) == b"first"
    assert read_all(storage.read_staged(second)) == b"second"


def test_commit_replaces_what_is_at_the_key(harness: Harness) -> None:
    storage = harness.storage
    key = blob_key(b"the key")
    storage.commit_staged(stage(storage, [b"old bytes"]), key)
    storage.commit_staged(stage(storage, [b"new bytes"]), key)
    assert read_all(storage.read(key)) == b"new bytes"
    assert [b.key for b in storage.list_blobs()] == [key]


def test_commit_of_an_absent_ref_fails_and_writes_nothing(harness: Harness) -> None:
    storage = harness.storage
    key = blob_key(b"never staged")
    # KeyError for S3 and the fake; the local storage lets os.replace's FileNotFoundError out.
    with pytest.raises((KeyError, FileNotFoundError)):
        storage.commit_staged(f"uploads/{'a' * 32}", key)
    assert not storage.exists(key)


def test_removing_absent_things_is_a_no_op(harness: Harness) -> None:
    storage = harness.storage
    kept = blob_key(b"kept")
    storage.commit_staged(stage(storage, [b"kept"]), kept)
    staged = stage(storage, [b"staged"])

    storage.discard_staged(f"uploads/{'0' * 32}")
    storage.discard_staged(direct_ref(b"nothing"))
    storage.delete(blob_key(b"nothing"))

    assert read_all(storage.read(kept)) == b"kept"
    assert read_all(storage.read_staged(staged)) == b"staged"


def test_discard_and_delete_remove_what_exists(harness: Harness) -> None:
    storage = harness.storage
    key = blob_key(b"to delete")
    storage.commit_staged(stage(storage, [b"to delete"]), key)
    ref = stage(storage, [b"to discard"])

    storage.discard_staged(ref)
    storage.discard_staged(ref)
    storage.delete(key)
    storage.delete(key)

    assert not storage.exists(key)
    assert list(storage.list_blobs()) == []
    assert list(storage.list_staged()) == []
    with pytest.raises(KeyError):
        storage.read(key)
    with pytest.raises(KeyError):
        storage.read_staged(ref)


def test_reading_absent_things_raises_key_error_before_iteration(harness: Harness) -> None:
    storage = harness.storage
    # No iteration: the KeyError must come from the call itself, not from the first next().
    with pytest.raises(KeyError):
        storage.read(blob_key(b"absent"))
    with pytest.raises(KeyError):
        storage.read_staged(f"uploads/{'f' * 32}")
    with pytest.raises(KeyError):
        storage.read_staged(direct_ref(b"absent"))


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.read("../../etc/passwd"),
        lambda s: s.read(f"{TENANT}/{'A' * 64}"),
        lambda s: s.exists(f"{TENANT}/../{'a' * 64}"),
        lambda s: s.delete("tenant/sha"),
        lambda s: s.read_staged("uploads/../../blobs/x"),
        lambda s: s.read_staged(f"staging/{'a' * 32}"),
        lambda s: s.discard_staged(f"direct/{TENANT}/short"),
        lambda s: s.commit_staged(f"uploads/{'a' * 32}", "not-a-key"),
        lambda s: s.download_url("x/y", filename="a", mime="text/plain", expires_in=60, inline=False),
        lambda s: s.upload_target("uploads/x", size=1, mime="text/plain", expires_in=60),
    ],
    ids=[
        "read-traversal", "read-uppercase-sha", "exists-traversal", "delete-malformed",
        "read_staged-traversal", "read_staged-wrong-kind", "discard-short-sha",
        "commit-malformed-key", "download_url-malformed", "upload_target-malformed",
    ],
)
def test_malformed_keys_and_refs_are_refused(harness: Harness, call: Any) -> None:
    with pytest.raises(ValueError):
        call(harness.storage)


def test_exists_follows_the_blob(harness: Harness) -> None:
    storage = harness.storage
    key = blob_key(b"exists")
    assert not storage.exists(key)
    ref = stage(storage, [b"exists"])
    assert not storage.exists(key)  # staged bytes are not a blob yet
    storage.commit_staged(ref, key)
    assert storage.exists(key)
    assert not storage.exists(blob_key(b"exists", tenant=OTHER_TENANT))
    storage.delete(key)
    assert not storage.exists(key)


def test_listings_use_port_keys_and_aware_times(harness: Harness) -> None:
    storage = harness.storage
    before = datetime.now(UTC)
    mine, theirs = blob_key(b"one"), blob_key(b"two", tenant=OTHER_TENANT)
    storage.commit_staged(stage(storage, [b"one"]), mine)
    storage.commit_staged(stage(storage, [b"two"]), theirs)
    pending = stage(storage, [b"pending"])
    direct = direct_ref(b"direct")
    harness.upload(storage.upload_target(direct, size=6, mime="text/plain", expires_in=600), b"direct")
    after = datetime.now(UTC)

    blobs = list(storage.list_blobs())
    staged = list(storage.list_staged())

    assert sorted(b.key for b in blobs) == sorted([mine, theirs])
    assert sorted(s.key for s in staged) == sorted([pending, direct])
    for item in blobs + staged:
        assert_recent(item.modified_at, before, after)


@pytest.mark.parametrize("inline", [False, True], ids=["attachment", "inline"])
def test_download_url_serves_the_blob_as_named(harness: Harness, inline: bool) -> None:
    storage = harness.storage
    data = payload(2 * MiB + 3, seed=7)
    key = blob_key(data)
    storage.commit_staged(stage(storage, pieces(data, MiB)), key)

    url = storage.download_url(
        key, filename="Factura año 2024 – №7.pdf", mime="application/pdf", expires_in=300, inline=inline
    )

    assert isinstance(url, str)
    assert harness.follow_download(url) == Download(
        data, "Factura año 2024 – №7.pdf", "application/pdf", inline
    )


def test_upload_target_accepts_exactly_the_declared_upload(harness: Harness) -> None:
    storage = harness.storage
    data = b"%PDF-1.7 direct upload " + payload(1000, seed=3)
    ref = direct_ref(data)

    before = datetime.now(UTC)
    target = storage.upload_target(ref, size=len(data), mime="application/pdf", expires_in=600)
    after = datetime.now(UTC)

    assert target.method == "PUT"
    assert dict(target.headers) == {"Content-Type": "application/pdf", "Content-Length": str(len(data))}
    assert target.expires_at.utcoffset() == timedelta(0)
    assert before + timedelta(seconds=599) <= target.expires_at <= after + timedelta(seconds=601)
    with pytest.raises(KeyError):
        storage.read_staged(ref)  # a target is a permission, not an object

    harness.upload(target, data)

    assert read_all(storage.read_staged(ref)) == data
    storage.commit_staged(ref, blob_key(data))
    assert read_all(storage.read(blob_key(data))) == data


def test_check_passes_on_a_working_storage(harness: Harness) -> None:
    harness.storage.check()


# --- S3 only ------------------------------------------------------------------------------


@pytest.fixture
def s3(s3_endpoint: str, s3_bucket: str) -> S3FileStorage:
    return make_s3(s3_endpoint, s3_bucket)


def _record_calls(storage: S3FileStorage) -> list[tuple[str, int | None]]:
    """(operation, body size) of every request the adapter's client makes from now on."""
    calls: list[tuple[str, int | None]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        body = params.get("Body")
        calls.append((model.name, None if body is None else len(body)))

    storage._client.meta.events.register("provide-client-params.s3", record)
    return calls


def test_s3_small_staging_is_one_put(s3: S3FileStorage) -> None:
    calls = _record_calls(s3)
    stage(s3, pieces(payload(PART_SIZE), MiB))
    assert calls == [("PutObject", PART_SIZE)]


def test_s3_large_staging_streams_bounded_parts(
    s3: S3FileStorage, s3_endpoint: str, s3_bucket: str
) -> None:
    calls = _record_calls(s3)
    data = payload(3 * PART_SIZE + 123, seed=5)
    ref = stage(s3, pieces(data, MiB + 1))

    # Never more than one part in memory: what a 500 MB stream would do, 8 MiB at a time.
    assert calls == [
        ("CreateMultipartUpload", None),
        ("UploadPart", PART_SIZE),
        ("UploadPart", PART_SIZE),
        ("UploadPart", PART_SIZE),
        ("UploadPart", 123),
        ("CompleteMultipartUpload", None),
    ]
    head = admin_client(s3_endpoint).head_object(Bucket=s3_bucket, Key=f"staging/{ref}")
    assert head["ContentLength"] == len(data)
    assert head["ETag"].strip('"').endswith("-4")


def test_s3_one_huge_write_is_split_into_parts(s3: S3FileStorage) -> None:
    calls = _record_calls(s3)
    data = payload(2 * PART_SIZE + 1, seed=9)
    ref = stage(s3, [data])
    assert [size for op, size in calls if op == "UploadPart"] == [PART_SIZE, PART_SIZE, 1]
    assert hashlib.sha256(read_all(s3.read_staged(ref))).digest() == hashlib.sha256(data).digest()


def test_s3_failed_part_aborts_the_multipart_upload(
    s3: S3FileStorage, s3_endpoint: str, s3_bucket: str
) -> None:
    sent = 0

    def fail_second_part(**_: Any) -> None:
        nonlocal sent
        sent += 1
        if sent == 2:
            raise ConnectionError("network went away")

    s3._client.meta.events.register("before-call.s3.UploadPart", fail_second_part)
    writer = s3.open_staging()
    with pytest.raises(ConnectionError):
        for chunk in pieces(payload(3 * PART_SIZE), MiB):
            writer.write(chunk)
    writer.close()  # what BlobSink.abort does next: must not publish anything

    admin = admin_client(s3_endpoint)
    assert admin.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []
    assert list(s3.list_staged()) == []
    with pytest.raises(KeyError):
        s3.read_staged(writer.ref)
    with pytest.raises(ValueError):
        writer.write(b"more")


def test_s3_failed_complete_aborts_the_multipart_upload(
    s3: S3FileStorage, s3_endpoint: str, s3_bucket: str
) -> None:
    def fail(**_: Any) -> None:
        raise ConnectionError("network went away")

    s3._client.meta.events.register("before-call.s3.CompleteMultipartUpload", fail)
    writer = s3.open_staging()
    writer.write(payload(PART_SIZE + 1))
    with pytest.raises(ConnectionError):
        writer.close()

    assert admin_client(s3_endpoint).list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []
    assert list(s3.list_staged()) == []


def test_s3_upload_url_signs_length_and_type(s3: S3FileStorage) -> None:
    target = s3.upload_target(direct_ref(b"x"), size=1, mime="image/png", expires_in=600)
    query = parse_qs(urlsplit(target.url).query)
    signed = query["X-Amz-SignedHeaders"][0].split(";")
    # S3 and Spaces refuse a PUT whose Content-Length or Content-Type differ from these.
    # moto does not check presigned signatures at all, so that refusal is not asserted here.
    assert {"content-length", "content-type", "host"} <= set(signed)
    assert query["X-Amz-Expires"] == ["600"]


def test_s3_links_live_at_most_seven_days(s3: S3FileStorage) -> None:
    key = blob_key(b"long")
    s3.commit_staged(stage(s3, [b"long"]), key)
    month = 30 * 24 * 3600

    url = s3.download_url(key, filename="a.txt", mime="text/plain", expires_in=month, inline=False)
    before = datetime.now(UTC)
    target = s3.upload_target(direct_ref(b"long"), size=4, mime="text/plain", expires_in=month)
    after = datetime.now(UTC)

    assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == [str(MAX_PRESIGN_SECONDS)]
    assert parse_qs(urlsplit(target.url).query)["X-Amz-Expires"] == [str(MAX_PRESIGN_SECONDS)]
    week = timedelta(seconds=MAX_PRESIGN_SECONDS)
    assert before + week - timedelta(seconds=1) <= target.expires_at <= after + week + timedelta(seconds=1)


def test_s3_layout_and_prefix_isolation(s3_endpoint: str, s3_bucket: str) -> None:
    plain = make_s3(s3_endpoint, s3_bucket)
    scoped = make_s3(s3_endpoint, s3_bucket, prefix="/istmo/")
    data = b"scoped bytes"
    key = blob_key(data)
    scoped.commit_staged(stage(scoped, [data]), key)
    pending = stage(scoped, [b"pending"])

    admin = admin_client(s3_endpoint)
    names = sorted(o["Key"] for o in admin.list_objects_v2(Bucket=s3_bucket)["Contents"])
    sha = hashlib.sha256(data).hexdigest()
    assert names == [f"istmo/blobs/{TENANT}/{sha[:2]}/{sha}", f"istmo/staging/{pending}"]
    assert [b.key for b in scoped.list_blobs()] == [key]
    assert [s.key for s in scoped.list_staged()] == [pending]
    assert list(plain.list_blobs()) == [] and list(plain.list_staged()) == []
    assert not plain.exists(key)


def test_s3_listings_skip_objects_that_are_not_ours(
    s3: S3FileStorage, s3_endpoint: str, s3_bucket: str
) -> None:
    admin = admin_client(s3_endpoint)
    sha = hashlib.sha256(b"x").hexdigest()
    for name in [
        "blobs/readme.txt",
        f"blobs/{TENANT}/zz/{sha}",  # shard does not match the hash
        f"blobs/{TENANT}/{sha}",  # missing shard
        "staging/uploads/not-hex",
        "staging/elsewhere/file",
    ]:
        admin.put_object(Bucket=s3_bucket, Key=name, Body=b"?")
    key = blob_key(b"x")
    s3.commit_staged(stage(s3, [b"x"]), key)

    assert [b.key for b in s3.list_blobs()] == [key]
    assert list(s3.list_staged()) == []


def test_s3_listings_paginate(s3: S3FileStorage, s3_endpoint: str, s3_bucket: str) -> None:
    admin = admin_client(s3_endpoint)
    keys = set()
    for i in range(1005):  # one more page than list_objects_v2's 1000
        sha = hashlib.sha256(str(i).encode()).hexdigest()
        admin.put_object(Bucket=s3_bucket, Key=f"blobs/{TENANT}/{sha[:2]}/{sha}", Body=b"")
        keys.add(f"{TENANT}/{sha}")
    assert {b.key for b in s3.list_blobs()} == keys


def test_s3_check_fails_for_a_missing_bucket(s3_endpoint: str) -> None:
    with pytest.raises(StorageUnavailable, match="no-such-bucket"):
        make_s3(s3_endpoint, "no-such-bucket").check()


def test_s3_repr_does_not_show_credentials(s3: S3FileStorage) -> None:
    assert SECRET_KEY not in repr(s3) and ACCESS_KEY not in repr(s3)


@given(st.text(max_size=80), st.booleans())
def test_content_disposition_is_safe_and_exact(filename: str, inline: bool) -> None:
    header = content_disposition(filename, inline=inline)
    assert header.isascii() and "\r" not in header and "\n" not in header
    match = _DISPOSITION.match(header)
    assert match, header
    assert match["kind"] == ("inline" if inline else "attachment")
    assert match["fallback"]
    visible = re.sub(r"[\x00-\x1f\x7f]", "", filename)
    assert unquote(match["encoded"], encoding="utf-8", errors="strict") == (visible or "download")
