"""Staging: bytes are hashed, measured and written to storage in one streaming pass.

Small files are hashed inline. From the first write of ``ASYNC_MIN`` bytes on, hashing moves
to a worker thread, which hashes a chunk while the caller writes it to storage and goes on to
produce the next one: ``hashlib`` releases the GIL while it hashes a large buffer, so the two
run on two cores. What the worker has still to hash is bounded (``QUEUE_DEPTH`` pieces of at
most ``POOL_BUFFER`` bytes). Chunks backed by ``bytes`` (immutable) are handed over as they
are; a mutable buffer (``bytearray``, a writable ``memoryview``), which the caller may reuse as
soon as ``write`` returns, is first copied into one of the sink's recycled buffers (a memcpy,
much cheaper than hashing, and no new memory per chunk) - unless it is lent with
``write_lent``, whose caller leaves it untouched until the sink gives it back.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, BinaryIO

from application.files.ports import FileStorage
from domain.files.model import FileTooLarge

CHUNK = 1 << 20
HEAD = 8192
ASYNC_MIN = 1 << 20  # a write at least this big moves the hashing to a worker thread
QUEUE_DEPTH = 4  # chunks handed to the hashing worker and not yet hashed
POOL_BUFFER = 2 << 20  # size of the buffers mutable chunks are copied into
SMALL_COPY = 64 << 10  # smaller mutable chunks are copied into new bytes instead


@dataclass(frozen=True, slots=True)
class StagedBlob:
    """Bytes written to a staging object, with what was learnt while writing them."""

    ref: str
    sha256: str
    size: int
    head: bytes


def too_large(limit: int) -> FileTooLarge:
    return FileTooLarge(f"file exceeds the maximum size of {limit} bytes", field="file")


_STOP = object()


class _Both:
    """Calls ``then`` on its second call: a lent buffer is given back once it is both hashed
    and written."""

    __slots__ = ("_calls", "_lock", "_then")

    def __init__(self, then: Callable[[], object]) -> None:
        self._calls = 0
        self._lock = threading.Lock()
        self._then = then

    def __call__(self) -> None:
        with self._lock:
            self._calls += 1
            last = self._calls == 2
        if last:
            self._then()


class _HashWorker:
    """Updates ``digest`` with the chunks it is fed, in order, in its own thread."""

    def __init__(self, digest: Any) -> None:
        self._digest = digest
        self._todo: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._free: queue.SimpleQueue[bytearray] = queue.SimpleQueue()
        self._slots = threading.BoundedSemaphore(QUEUE_DEPTH)
        self._cancelled = False
        self._stopped = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="istmo-sha256", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        get, update = self._todo.get, self._digest.update
        while (item := get()) is not _STOP:
            chunk, buffer, release = item
            if not self._cancelled and self._error is None:
                try:
                    update(chunk)
                except BaseException as error:  # handed to the caller by feed() or close()
                    self._error = error
            del chunk, item
            if buffer is not None:
                self._free.put(buffer)
            if release is not None:
                release()
            self._slots.release()

    def feed(self, chunk: memoryview, release: Callable[[], object] | None = None) -> None:
        """Queue ``chunk`` (a flat byte view); blocks while ``QUEUE_DEPTH`` pieces are queued.
        With ``release``, the chunk is lent: hashed in place, then ``release()`` is called.
        An error of the worker is raised here before anything is queued."""
        self._raise()
        last = max(chunk.nbytes - 1, 0) // POOL_BUFFER * POOL_BUFFER
        for start in range(0, max(chunk.nbytes, 1), POOL_BUFFER):
            piece = chunk[start : start + POOL_BUFFER]
            buffer = None
            self._slots.acquire()
            if release is not None or type(piece.obj) is bytes:  # lent, or immutable: as it is
                pass
            elif piece.nbytes < SMALL_COPY:
                piece = memoryview(bytes(piece))
            else:
                try:
                    buffer = self._free.get_nowait()
                except queue.Empty:  # fewer than QUEUE_DEPTH buffers exist: all are in flight
                    buffer = bytearray(POOL_BUFFER)
                copy = memoryview(buffer)[: piece.nbytes]
                copy[:] = piece
                piece = copy
            self._todo.put((piece, buffer, release if start == last else None))

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def close(self) -> None:
        """Wait until every chunk fed is hashed."""
        self._stop()
        self._raise()

    def cancel(self) -> None:
        """Stop without hashing what is still queued."""
        self._cancelled = True
        self._stop()

    def _stop(self) -> None:
        if not self._stopped:
            self._stopped = True
            self._todo.put(_STOP)
            self._thread.join()


class BlobSink:
    """A writable stream that hashes, counts and stages what it is given.

    Exceeding ``max_size`` raises ``FileTooLarge`` and removes what was staged.
    """

    def __init__(self, storage: FileStorage, max_size: int) -> None:
        self._storage = storage
        self._max_size = max_size
        self._writer = storage.open_staging()
        self._hash = hashlib.sha256()
        self._hasher: _HashWorker | None = None
        self._size = 0
        self._head = bytearray()
        self._done = False

    @property
    def ref(self) -> str:
        return self._writer.ref

    def write(self, data: bytes, /) -> int:
        return self._write(data, None)

    def write_lent(self, data: memoryview, release: Callable[[], object], /) -> int:
        """``write`` for a buffer its owner leaves untouched until ``release()`` is called
        (exactly once, whatever happens, maybe from another thread): no copy is made of it."""
        return self._write(data, release)

    def _write(self, data: Any, release: Callable[[], object] | None) -> int:
        try:
            view = data if type(data) is memoryview else memoryview(data)
            if view.itemsize != 1 or view.ndim != 1:
                view = view.cast("B")
            size = view.nbytes
            self._size += size
            if self._size > self._max_size:
                self.abort()
                raise too_large(self._max_size)
            if len(self._head) < HEAD:
                self._head += view[: HEAD - len(self._head)]
            hasher = self._hasher
            if hasher is None and size >= ASYNC_MIN:
                hasher = self._hasher = _HashWorker(self._hash)
            if hasher is None:
                self._hash.update(view)
            elif release is None:
                hasher.feed(view)
            else:
                both = _Both(release)  # given back once hashed (worker) and written (here)
                hasher.feed(view, both)  # (raises, if it does, before queueing)
                release = both
            self._writer.write(data)
            return size
        finally:
            if release is not None:
                release()

    def finish(self) -> StagedBlob:
        if self._hasher is not None:
            self._hasher.close()
        self._writer.close()
        self._done = True
        return StagedBlob(
            ref=self._writer.ref, sha256=self._hash.hexdigest(), size=self._size, head=bytes(self._head)
        )

    def abort(self) -> None:
        if not self._done:
            self._done = True
            try:
                if self._hasher is not None:
                    self._hasher.cancel()
                self._writer.close()
            finally:
                self._storage.discard_staged(self._writer.ref)


def stage_chunks(storage: FileStorage, chunks: Iterable[bytes], *, max_size: int) -> StagedBlob:
    sink = BlobSink(storage, max_size)
    try:
        for chunk in chunks:
            if chunk:
                sink.write(chunk)
        return sink.finish()
    except BaseException:
        sink.abort()
        raise


def stage_stream(storage: FileStorage, stream: BinaryIO, *, max_size: int) -> StagedBlob:
    return stage_chunks(storage, iter(lambda: stream.read(CHUNK), b""), max_size=max_size)
