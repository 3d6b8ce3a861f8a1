"""A real pseudo-terminal and a real pipe as text streams, for what writes differently to each."""

from __future__ import annotations

import os
import select
import termios
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TextIO


@dataclass
class Terminal:
    stream: TextIO
    """The terminal's side a program writes to (``isatty()`` is true)."""
    master: int

    def read(self) -> str:
        """Everything written since the last read (the writer is this process: never blocks)."""
        chunks: list[bytes] = []
        while select.select([self.master], [], [], 0)[0]:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # the terminal's side is closed
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks).decode()


@contextmanager
def open_terminal() -> Iterator[Terminal]:
    master, slave = os.openpty()
    attributes = termios.tcgetattr(slave)
    attributes[1] &= ~termios.OPOST  # bytes as written: no "\n" -> "\r\n"
    termios.tcsetattr(slave, termios.TCSANOW, attributes)
    stream = os.fdopen(slave, "w", encoding="utf-8")
    try:
        yield Terminal(stream, master)
    finally:
        stream.close()
        os.close(master)


@contextmanager
def open_pipe() -> Iterator[tuple[TextIO, Callable[[], bytes]]]:
    """The writing end as a text stream, and what was written (read after the stream is closed)."""
    read_end, write_end = os.pipe()
    stream = os.fdopen(write_end, "w", encoding="utf-8")

    reader = os.fdopen(read_end, "rb")

    def read() -> bytes:
        return reader.read()

    try:
        yield stream, read
    finally:
        if not stream.closed:
            stream.close()
        reader.close()
