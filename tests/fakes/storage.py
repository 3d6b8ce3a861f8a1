"""An in-memory ``FileStorage`` with the semantics of the real adapters.

Checked against ``LocalFileStorage`` and ``S3FileStorage`` by
``tests/integration/test_storage_contract.py``. Times come from the clock it is given, so a
test can age blobs and staging objects by moving the clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

from adapters.storage.keys import check_staging_ref, split_blob_key
from application.files.ports import StoredBlob, UploadTarget
from application.shared.ports import Clock

CHUNK = 1 << 20


@dataclass(slots=True)
class _Object:
    data: bytes
    modified_at: datetime


class _FakeStagingWriter:
    """Collects bytes; the staging object appears, whole, on ``close()`` (as on S3)."""

    def __init__(self, storage: FakeFileStorage, ref: str) -> None:
        self.ref = ref
        self._storage = storage
        self._buffer: bytearray | None = bytearray()

    def write(self, data: bytes, /) -> int:
        if self._buffer is None:
            raise ValueError("write to a closed staging writer")
        self._buffer += data
        return len(data)

    def close(self) -> None:
        if self._buffer is not None:
            self._storage.put_staged(self.ref, bytes(self._buffer))
            self._buffer = None


class FakeFileStorage:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.blobs: dict[str, _Object] = {}
        self.staged: dict[str, _Object] = {}
        self.healthy = True
        self._next_ref = 0

    # --- test helpers ------------------------------------------------------------------

    def put_staged(self, ref: str, data: bytes) -> None:
        """What a client's direct upload through ``upload_target`` leaves behind."""
        self.staged[check_staging_ref(ref)] = _Object(bytes(data), self._now())

    def content(self, key: str) -> bytes:
        return self.blobs[_key(key)].data

    # --- staging -----------------------------------------------------------------------

    def open_staging(self) -> _FakeStagingWriter:
        self._next_ref += 1
        return _FakeStagingWriter(self, f"uploads/{self._next_ref:032x}")

    def read_staged(self, ref: str) -> Iterator[bytes]:
        return _chunks(self.staged[check_staging_ref(ref)].data)

    def commit_staged(self, ref: str, key: str) -> None:
        key = _key(key)
        obj = self.staged[check_staging_ref(ref)]
        self.blobs[key] = _Object(obj.data, self._now())
        del self.staged[ref]

    def discard_staged(self, ref: str) -> None:
        self.staged.pop(check_staging_ref(ref), None)

    # --- blobs -------------------------------------------------------------------------

    def read(self, key: str) -> Iterator[bytes]:
        return _chunks(self.blobs[_key(key)].data)

    def exists(self, key: str) -> bool:
        return _key(key) in self.blobs

    def delete(self, key: str) -> None:
        self.blobs.pop(_key(key), None)

    def list_blobs(self) -> Iterator[StoredBlob]:
        return iter([StoredBlob(key, obj.modified_at) for key, obj in self.blobs.items()])

    def list_staged(self) -> Iterator[StoredBlob]:
        return iter([StoredBlob(ref, obj.modified_at) for ref, obj in self.staged.items()])

    # --- signed links ------------------------------------------------------------------

    def download_url(
        self, key: str, *, filename: str, mime: str, expires_in: int, inline: bool
    ) -> str:
        query = urlencode(
            {"exp": self._expiry(expires_in), "name": filename, "mime": mime, "inline": int(inline)}
        )
        return f"fake://download/{_key(key)}?{query}"

    def upload_target(self, ref: str, *, size: int, mime: str, expires_in: int) -> UploadTarget:
        expires_at = self._expiry(expires_in)
        query = urlencode({"exp": expires_at, "size": size, "mime": mime})
        return UploadTarget(
            url=f"fake://upload/{quote(check_staging_ref(ref))}?{query}",
            method="PUT",
            headers={"Content-Type": mime, "Content-Length": str(size)},
            expires_at=datetime.fromtimestamp(expires_at, UTC),
        )

    def check(self) -> None:
        if not self.healthy:
            raise RuntimeError("fake storage is marked unhealthy")

    # --- internals ---------------------------------------------------------------------

    def _now(self) -> datetime:
        return self._clock.now().astimezone(UTC)

    def _expiry(self, expires_in: int) -> int:
        if expires_in <= 0:
            raise ValueError(f"a link must live a positive number of seconds, not {expires_in}")
        return int((self._now() + timedelta(seconds=expires_in)).timestamp())


def _key(key: str) -> str:
    split_blob_key(key)
    return key


def _chunks(data: bytes) -> Iterator[bytes]:
    return iter([data[i : i + CHUNK] for i in range(0, len(data), CHUNK)])
