"""Streaming multipart/form-data for GraphQL uploads: file parts go straight into blob sinks.

Each file part is hashed and staged while it arrives (one pass, bounded memory); small
fields (``operations``, ``map``) are kept in memory up to a limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from application.files.staging import BlobSink

CHUNK = 1 << 20


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
    decoder = MultipartDecoder(boundary, max_form_memory_size=max_field_bytes, max_parts=max_parts)
    part: Field | File | None = None
    buffer = bytearray()
    sink: BlobSink | None = None
    complete = False
    while True:
        data = stream.read(CHUNK)
        decoder.receive_data(data or None)
        try:
            event = decoder.next_event()
            while not isinstance(event, NeedData | Epilogue):
                if isinstance(event, Field):
                    part, buffer, sink = event, bytearray(), None
                elif isinstance(event, File):
                    part, sink = event, open_sink()
                    form.files[event.name] = (sink, event.filename or "")
                elif isinstance(event, Data):
                    if sink is not None:
                        sink.write(event.data)
                    else:
                        buffer += event.data
                        if len(buffer) > max_field_bytes:
                            raise MalformedMultipart(f"a form field exceeds {max_field_bytes} bytes")
                    if not event.more_data and isinstance(part, Field):
                        form.fields[part.name] = buffer.decode("utf-8", "replace")
                event = decoder.next_event()
            if isinstance(event, Epilogue):
                complete = True
        except ValueError as error:
            if isinstance(error, MalformedMultipart):
                raise
            raise MalformedMultipart(str(error)) from None
        if not data:
            break
    if not complete:
        raise MalformedMultipart("the body ended before the closing boundary")
    return form
