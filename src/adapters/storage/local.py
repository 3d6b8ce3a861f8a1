"""Blobs on the local file system: the embedded default.

Layout under ``root``: ``blobs/{tenant}/{sha[:2]}/{sha}`` for kept blobs and ``staging/{ref}``
for bytes being written or uploaded. Signed URLs point at the service's own routes
(``/files/download/<token>``, ``/files/upload/<token>``) and are verified by ``verify_*``.
"""

from __future__ import annotations

import errno
import fcntl
import mmap
import os
import queue
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from adapters.storage.keys import BLOB_KEY as _KEY
from adapters.storage.keys import STAGING_REF as _REF
from adapters.storage.keys import check_staging_ref, split_blob_key
from adapters.storage.signing import GrantSigner
from application.files.ports import StoredBlob, UploadTarget
from application.shared.ports import Clock

CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class DownloadGrant:
    key: str
    filename: str
    mime: str
    inline: bool


@dataclass(frozen=True, slots=True)
class UploadGrant:
    ref: str
    size: int
    mime: str


class _LocalStagingWriter:
    """Writes a staging file. Small files go through the page cache as they come; once a file
    grows past ``DIRECT_MIN`` bytes, the rest is written with ``O_DIRECT`` where the OS and the
    file system allow it (as object stores such as MinIO do for large objects): a big upload
    streams to the disk without first filling the page cache (where a large buffered write
    spends most of its time) and without evicting what the cache holds. Direct writes need
    aligned memory, lengths and offsets, so the bytes are gathered in page-aligned buffers of
    ``DIRECT_BUFFER`` bytes, which a writer thread writes while the caller fills the next one
    (at most ``DIRECT_BUFFERS`` exist); the unaligned end is written buffered on close. A file
    system that refuses ``O_DIRECT`` gets buffered writes, as before.
    """

    DIRECT_MIN = 4 << 20
    DIRECT_BUFFER = 2 << 20  # a multiple of ALIGN
    DIRECT_BUFFERS = 4
    ALIGN = 4096

    def __init__(self, ref: str, path: Path) -> None:
        self.ref = ref
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd: int | None = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
        self._offset = 0  # bytes written to the file so far
        self._may_go_direct = hasattr(os, "O_DIRECT")
        self._direct = False  # whether the descriptor has O_DIRECT set
        self._maps: list[mmap.mmap] = []  # the aligned buffers, once past DIRECT_MIN
        self._buffer = memoryview(b"")  # the one being filled
        self._filled = 0
        self._todo: queue.SimpleQueue[memoryview | None] = queue.SimpleQueue()
        self._free: queue.SimpleQueue[memoryview] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def write(self, data: bytes, /) -> int:
        assert self._fd is not None, "write after close"
        view = memoryview(data)
        if view.itemsize != 1 or view.ndim != 1:
            view = view.cast("B")
        size = view.nbytes
        if self._thread is None:
            if not self._may_go_direct or self._offset + size <= self.DIRECT_MIN:
                self._write(view)
                return size
            lead = -self._offset % self.ALIGN  # buffered up to an aligned offset
            self._write(view[:lead])
            view = view[lead:]
            self._start_direct()
        room = self.DIRECT_BUFFER
        while view:
            take = min(room - self._filled, view.nbytes)
            self._buffer[self._filled : self._filled + take] = view[:take]
            self._filled += take
            view = view[take:]
            if self._filled == room:
                self._todo.put(self._buffer)
                self._buffer, self._filled = self._free.get(), 0
                if self._error is not None:
                    raise self._error
        return size

    def close(self) -> None:
        if self._fd is None:
            return
        try:
            if self._thread is not None:
                self._todo.put(None)
                self._thread.join()
                self._thread = None
                if self._error is not None:
                    raise self._error
            if self._filled:
                aligned = self._filled - self._filled % self.ALIGN
                self._write(self._buffer[:aligned])
                self._set_direct(False)
                self._write(self._buffer[aligned : self._filled])
                self._filled = 0
        finally:
            os.close(self._fd)
            self._fd = None
            self._release_buffers()

    def _release_buffers(self) -> None:
        if self._thread is None:  # (a writer thread still running keeps its buffers)
            views = [self._buffer]
            while not self._free.empty():
                views.append(self._free.get())
            for view in views:
                view.release()
            for buffer in self._maps:
                buffer.close()
        self._buffer = memoryview(b"")
        self._maps = []

    def _start_direct(self) -> None:
        try:
            self._set_direct(True)
        except OSError:
            self._may_go_direct = False
        for _ in range(self.DIRECT_BUFFERS):
            self._maps.append(mmap.mmap(-1, self.DIRECT_BUFFER))  # anonymous, so page-aligned
            self._free.put(memoryview(self._maps[-1]))
        self._buffer, self._filled = self._free.get(), 0
        self._thread = threading.Thread(target=self._writes, name="istmo-staging-writer", daemon=True)
        self._thread.start()

    def _writes(self) -> None:
        """The writer thread: writes full buffers in order and hands them back."""
        while (buffer := self._todo.get()) is not None:
            if self._error is None:
                try:
                    self._write(buffer)
                except BaseException as error:  # raised to the caller by write() or close()
                    self._error = error
            self._free.put(buffer)

    def _write(self, view: memoryview) -> None:
        assert self._fd is not None
        while view:
            try:
                written = os.write(self._fd, view)
            except OSError as error:
                if not self._direct or error.errno != errno.EINVAL:
                    raise
                self._set_direct(False)  # the file system refuses O_DIRECT: go on buffered
                continue
            self._offset += written
            view = view[written:]
            if self._direct and self._offset % self.ALIGN:
                self._set_direct(False)  # a short direct write: the rest buffered

    def _set_direct(self, on: bool) -> None:
        assert self._fd is not None
        if on != self._direct:
            flags = fcntl.fcntl(self._fd, fcntl.F_GETFL)
            fcntl.fcntl(self._fd, fcntl.F_SETFL, flags | os.O_DIRECT if on else flags & ~os.O_DIRECT)
            self._direct = on


class LocalFileStorage:
    def __init__(self, root: Path, *, public_url: str, secret: str, clock: Clock) -> None:
        self._root = Path(root)
        self._blobs = self._root / "blobs"
        self._staging = self._root / "staging"
        self._public_url = public_url.rstrip("/")
        self._downloads = GrantSigner(secret, "download")
        self._uploads = GrantSigner(secret, "upload")
        self._clock = clock

    # --- paths -------------------------------------------------------------------------

    def _blob_path(self, key: str) -> Path:
        tenant, sha = split_blob_key(key)
        return self._blobs / tenant / sha[:2] / sha

    def _staging_path(self, ref: str) -> Path:
        return self._staging / check_staging_ref(ref)

    # --- staging -----------------------------------------------------------------------

    def open_staging(self) -> _LocalStagingWriter:
        ref = f"uploads/{uuid.uuid4().hex}"
        return _LocalStagingWriter(ref, self._staging_path(ref))

    def open_staging_at(self, ref: str) -> _LocalStagingWriter:
        """A writer for a signed direct upload (``PUT /files/upload/<token>``)."""
        return _LocalStagingWriter(ref, self._staging_path(ref))

    def read_staged(self, ref: str) -> Iterator[bytes]:
        path = self._staging_path(ref)
        if not path.is_file():
            raise KeyError(ref)
        return _read(path)

    def commit_staged(self, ref: str, key: str) -> None:
        target = self._blob_path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._staging_path(ref), target)
        os.utime(target)

    def discard_staged(self, ref: str) -> None:
        try:
            self._staging_path(ref).unlink()
        except FileNotFoundError:
            pass

    # --- blobs -------------------------------------------------------------------------

    def read(self, key: str) -> Iterator[bytes]:
        path = self._blob_path(key)
        if not path.is_file():
            raise KeyError(key)
        return _read(path)

    def exists(self, key: str) -> bool:
        return self._blob_path(key).is_file()

    def delete(self, key: str) -> None:
        try:
            self._blob_path(key).unlink()
        except FileNotFoundError:
            pass

    def list_blobs(self) -> Iterator[StoredBlob]:
        for path in self._blobs.glob("*/*/*"):
            key = f"{path.parent.parent.name}/{path.name}"
            if _KEY.match(key) and (modified := _mtime(path)) is not None:
                yield StoredBlob(key, modified)

    def list_staged(self) -> Iterator[StoredBlob]:
        for path in self._staging.rglob("*"):
            ref = path.relative_to(self._staging).as_posix()
            if _REF.match(ref) and (modified := _mtime(path)) is not None:
                yield StoredBlob(ref, modified)

    def path_of(self, key: str) -> Path:
        return self._blob_path(key)

    # --- signed links ------------------------------------------------------------------

    def download_url(
        self, key: str, *, filename: str, mime: str, expires_in: int, inline: bool
    ) -> str:
        self._blob_path(key)
        token = self._downloads.sign(
            {"k": key, "n": filename, "m": mime, "i": inline}, expires_at=self._expiry(expires_in)
        )
        return f"{self._public_url}/files/download/{token}"

    def verify_download(self, token: str) -> DownloadGrant:
        grant = self._downloads.verify(token, now=self._clock.now().timestamp())
        return DownloadGrant(key=grant["k"], filename=grant["n"], mime=grant["m"], inline=grant["i"])

    def upload_target(self, ref: str, *, size: int, mime: str, expires_in: int) -> UploadTarget:
        self._staging_path(ref)
        expires_at = self._expiry(expires_in)
        token = self._uploads.sign({"r": ref, "s": size, "m": mime}, expires_at=expires_at)
        return UploadTarget(
            url=f"{self._public_url}/files/upload/{token}",
            method="PUT",
            headers={"Content-Type": mime, "Content-Length": str(size)},
            expires_at=datetime.fromtimestamp(expires_at, UTC),
        )

    def verify_upload(self, token: str) -> UploadGrant:
        grant = self._uploads.verify(token, now=self._clock.now().timestamp())
        return UploadGrant(ref=grant["r"], size=grant["s"], mime=grant["m"])

    def _expiry(self, expires_in: int) -> int:
        return int((self._clock.now() + timedelta(seconds=expires_in)).timestamp())

    def check(self) -> None:
        self._root.mkdir(parents=True, exist_ok=True)
        probe = self._root / f".ready-{uuid.uuid4().hex}"
        probe.write_bytes(b"ok")
        probe.unlink()


def _read(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def _mtime(path: Path) -> datetime | None:
    """When the file was last written; ``None`` if it vanished since it was listed."""
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except FileNotFoundError:
        return None
