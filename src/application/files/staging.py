"""Staging: bytes are hashed, measured and written to storage in one streaming pass."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from application.files.ports import FileStorage
from domain.files.model import FileTooLarge

CHUNK = 1 << 20
HEAD = 8192


@dataclass(frozen=True, slots=True)
class StagedBlob:
    """Bytes written to a staging object, with what was learnt while writing them."""

    ref: str
    sha256: str
    size: int
    head: bytes


def too_large(limit: int) -> FileTooLarge:
    return FileTooLarge(f"file exceeds the maximum size of {limit} bytes", field="file")


class BlobSink:
    """A writable stream that hashes, counts and stages what it is given.

    Exceeding ``max_size`` raises ``FileTooLarge`` and removes what was staged.
    """

    def __init__(self, storage: FileStorage, max_size: int) -> None:
        self._storage = storage
        self._max_size = max_size
        self._writer = storage.open_staging()
        self._hash = hashlib.sha256()
        self._size = 0
        self._head = bytearray()
        self._done = False

    @property
    def ref(self) -> str:
        return self._writer.ref

    def write(self, data: bytes) -> int:
        self._size += len(data)
        if self._size > self._max_size:
            self.abort()
            raise too_large(self._max_size)
        if len(self._head) < HEAD:
            self._head += data[: HEAD - len(self._head)]
        self._hash.update(data)
        return self._writer.write(data)

    def finish(self) -> StagedBlob:
        self._writer.close()
        self._done = True
        return StagedBlob(
            ref=self._writer.ref, sha256=self._hash.hexdigest(), size=self._size, head=bytes(self._head)
        )

    def abort(self) -> None:
        if not self._done:
            self._done = True
            try:
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
