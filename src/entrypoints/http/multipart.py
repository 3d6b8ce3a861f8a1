"""Streaming multipart/form-data for GraphQL uploads: file parts go straight into blob sinks.

Each file part is hashed and staged while it arrives (one pass, bounded memory); small
fields (``operations``, ``map``) are kept in memory up to a limit.

The parser is a small one of our own, for speed. The body is read into a reused buffer (64 KiB
at first, ``CHUNK`` once the body proves bigger) and delimiters are found with ``bytes.find``.
A file part's bytes are lent to its sink as views of that buffer (``BlobSink.write_lent``: the
sink's worker thread hashes them in place and gives the buffer back when done); meanwhile the
next reads go to other buffers, at most ``MAX_BUFFERS`` of them. After each read, only the
bytes that could be the start of a delimiter split across two reads (``len(delimiter) - 1``)
are carried to the front of the buffer the next read lands in.

RFC 2046 / RFC 7578 framing: a delimiter is CRLF ``--boundary``, followed by optional blanks
and CRLF before the next part's headers, or by ``--`` when it closes the body; headers end at
an empty line. A delimiter-like sequence followed by anything else is part of the data (as
with werkzeug's parser).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from werkzeug.http import parse_options_header

from application.files.staging import BlobSink

CHUNK = 2 << 20  # reads of a big body
FIRST_READ = 64 << 10  # the first read (most uploads are small)
MAX_BUFFERS = 8  # read buffers of CHUNK bytes, in use or lent to sinks
MAX_HEADER_BYTES = 16 << 10  # the header block of one part
_ENDED = "the body ended before the closing boundary"
_BLANKS = b" \t"
_MAX_BLANKS = 1024  # transport padding allowed after a delimiter


class MalformedMultipart(ValueError):
    pass


@dataclass
class MultipartForm:
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[BlobSink, str]] = field(default_factory=dict)


def read_multipart(
    stream: BinaryIO,
    boundary: bytes,
    open_sink: Callable[[], BlobSink],
    form: MultipartForm,
    *,
    max_field_bytes: int = 1 << 20,
    max_parts: int = 100,
) -> MultipartForm:
    """Fill ``form`` from ``stream``. Sinks are added to ``form`` as soon as they are opened, so
    the caller can abort them whatever goes wrong."""
    if not boundary:
        raise MalformedMultipart("the multipart boundary is empty")
    _Parser(stream, boundary, open_sink, form, max_field_bytes, max_parts).run()
    return form


class _Parser:
    def __init__(
        self,
        stream: BinaryIO,
        boundary: bytes,
        open_sink: Callable[[], BlobSink],
        form: MultipartForm,
        max_field_bytes: int,
        max_parts: int,
    ) -> None:
        self._read = stream.read
        self._readinto = getattr(stream, "readinto", None)
        self._dash_boundary = b"--" + boundary
        self._delimiter = b"\r\n--" + boundary
        self._open_sink = open_sink
        self._form = form
        self._max_field_bytes = max_field_bytes
        self._max_parts = max_parts
        # What was read and not yet consumed is _buffer[_pos:_end].
        self._buffer = bytearray(FIRST_READ)
        self._pos = 0
        self._end = 0
        self._buffers: list[bytearray] = []  # the CHUNK-sized ones
        self._lent: dict[int, int] = {}  # id(buffer) -> views lent out and not given back
        self._given_back = threading.Condition()

    def _fill(self) -> int:
        """Carry what is left to the front of a buffer and read more after it; the number of
        bytes read (0 at the end of the body)."""
        buffer, left = self._buffer, self._end - self._pos
        size = len(buffer)
        if self._end == size:  # the last read filled the buffer: the body is big
            size = max(size, CHUNK)
        while left * 2 >= size:
            size *= 2
        target = buffer
        if size != len(buffer) or self._is_lent(buffer):
            target = self._free_buffer(size)
        if left:
            target[:left] = buffer[self._pos : self._end]
        self._buffer, self._pos, self._end = target, 0, left
        if self._readinto is not None:
            with memoryview(target) as view:
                filled = self._readinto(view[left:]) or 0
        else:
            data = self._read(len(target) - left) or b""
            filled = len(data)
            target[left : left + filled] = data
        self._end = left + filled
        return filled

    def _is_lent(self, buffer: bytearray) -> bool:
        with self._given_back:
            return self._lent.get(id(buffer), 0) > 0

    def _free_buffer(self, size: int) -> bytearray:
        """A buffer of ``size`` bytes that nobody uses; waits for one to be given back when
        ``MAX_BUFFERS`` are out."""
        if size != CHUNK:
            return bytearray(size)
        with self._given_back:
            while True:
                for buffer in self._buffers:
                    if buffer is not self._buffer and not self._lent.get(id(buffer)):
                        return buffer
                if len(self._buffers) < MAX_BUFFERS:
                    self._buffers.append(bytearray(CHUNK))
                    return self._buffers[-1]
                self._given_back.wait()

    def _lend(self, write_lent: Callable[[Any, Callable[[], None]], Any], start: int, stop: int) -> None:
        buffer = self._buffer
        key = id(buffer)
        with self._given_back:
            self._lent[key] = self._lent.get(key, 0) + 1
        given_back = False

        def give_back() -> None:
            nonlocal given_back
            with self._given_back:
                if not given_back:
                    given_back = True
                    self._lent[key] -= 1
                    self._given_back.notify()

        with memoryview(buffer) as view:
            write_lent(view[start:stop], give_back)

    @staticmethod
    def _after_delimiter(buf: bytearray, at: int, end: int) -> tuple[str, int]:
        """What follows a delimiter ending at ``at``: ("part", start of the headers),
        ("close", _), ("need", _) when more bytes are needed to tell, or ("data", _) when this
        was not a delimiter after all."""
        if end - at < 2:
            return "need", at
        if buf[at : at + 2] == b"--":
            return "close", at + 2
        stop = at
        while stop < end and buf[stop] in _BLANKS:
            stop += 1
            if stop - at > _MAX_BLANKS:
                return "data", at
        if end - stop < 2:
            return "need", at
        if buf[stop : stop + 2] == b"\r\n":
            return "part", stop + 2
        return "data", at

    def run(self) -> None:
        last = self._preamble()
        parts = 0
        while not last:
            parts += 1
            if parts > self._max_parts:
                raise MalformedMultipart(f"the request has more than {self._max_parts} parts")
            name, filename = self._headers()
            if filename is None:
                last = self._field(name)
            else:
                sink = self._open_sink()
                replaced = self._form.files.get(name)
                self._form.files[name] = (sink, filename)
                if replaced is not None:  # the last part of a name wins; nothing of the other stays
                    replaced[0].abort()
                write_lent = getattr(sink, "write_lent", None)
                if write_lent is None:
                    last = self._data(sink.write)
                else:
                    last = self._data(lambda start, stop: self._lend(write_lent, start, stop), lend=True)
        self._pos = self._end
        while self._fill():  # the epilogue is ignored, but read
            self._pos = self._end

    def _preamble(self) -> bool:
        """Skip to the first delimiter; True if it is the closing one (an empty form)."""
        dash = self._dash_boundary
        skipped = 0
        search = self._pos
        while True:
            buf, end = self._buffer, self._end
            found = buf.find(dash, search, end)
            if found == -1:
                keep_from = max(self._pos, end - (len(dash) - 1))
                skipped += keep_from - self._pos
                if skipped > self._max_field_bytes:
                    raise MalformedMultipart(
                        f"no boundary delimiter in the first {self._max_field_bytes} bytes"
                    )
                self._pos = keep_from
                if not self._fill():
                    raise MalformedMultipart(
                        "the body does not contain the boundary given in the Content-Type"
                    )
                search = 0
                continue
            kind, after = self._after_delimiter(buf, found + len(dash), end)
            if kind == "need":
                self._pos = found
                if not self._fill():
                    raise MalformedMultipart(_ENDED)
                search = 0
            elif kind == "data":
                search = found + 1
            else:
                self._pos = after
                return kind == "close"

    def _headers(self) -> tuple[Any, str | None]:
        """The part's name and file name (None for a plain field)."""
        while True:
            buf, pos, end = self._buffer, self._pos, self._end
            if buf.startswith(b"\r\n", pos, end):
                block, self._pos = b"", pos + 2
                break
            found = buf.find(b"\r\n\r\n", pos, min(end, pos + MAX_HEADER_BYTES + 4))
            if found != -1:
                block, self._pos = bytes(buf[pos:found]), found + 4
                break
            if end - pos > MAX_HEADER_BYTES:
                raise MalformedMultipart(f"a part's headers exceed {MAX_HEADER_BYTES} bytes")
            if not self._fill():
                raise MalformedMultipart(_ENDED)
        try:
            text = block.decode()
        except UnicodeDecodeError:
            raise MalformedMultipart("a part's headers are not valid UTF-8") from None
        headers: dict[str, str] = {}
        previous: str | None = None
        for line in text.split("\r\n"):
            if line[:1] in (" ", "\t") and previous is not None:  # a folded header line
                headers[previous] += " " + line.strip(" \t")
                continue
            header, _, value = line.partition(":")
            previous = header.strip(" \t").lower()
            headers.setdefault(previous, value.strip(" \t"))
        disposition = headers.get("content-disposition")
        if disposition is None:
            raise MalformedMultipart("Missing Content-Disposition header")
        _value, options = parse_options_header(disposition)
        return options.get("name"), options.get("filename")

    def _field(self, name: Any) -> bool:
        value = bytearray()
        limit = self._max_field_bytes

        def consume(data: Any) -> None:
            if len(value) + len(data) > limit:
                raise MalformedMultipart(f"a form field exceeds {limit} bytes")
            value.extend(data)

        last = self._data(consume)
        self._form.fields[name] = value.decode("utf-8", "replace")
        return last

    def _data(self, consume: Callable[..., Any], *, lend: bool = False) -> bool:
        """Hand the part's bytes to ``consume`` up to its closing delimiter (as views, or as
        (start, stop) offsets in the current buffer with ``lend``); True if that delimiter
        closes the body."""
        delimiter = self._delimiter
        keep = len(delimiter) - 1
        search = self._pos

        def give(start: int, stop: int) -> None:
            if lend:
                consume(start, stop)
            else:
                with memoryview(self._buffer) as view:
                    consume(view[start:stop])

        while True:
            buf, pos, end = self._buffer, self._pos, self._end
            found = buf.find(delimiter, search, end)
            if found != -1:
                kind, after = self._after_delimiter(buf, found + len(delimiter), end)
                if kind == "data":
                    search = found + 1
                    continue
                if found > pos:
                    give(pos, found)
                if kind == "need":
                    self._pos = found
                    if not self._fill():
                        raise MalformedMultipart(_ENDED)
                    search = 0
                    continue
                self._pos = after
                return kind == "close"
            # No delimiter: all but the last ``keep`` bytes are the part's.
            safe = max(pos, end - keep)
            if safe > pos:
                give(pos, safe)
            self._pos = safe
            if not self._fill():
                raise MalformedMultipart(_ENDED)
            search = 0
