"""MIME types judged from the bytes (the ``filetype`` signatures), never from the client."""

from __future__ import annotations

import filetype


class SniffingMimeDetector:
    def detect(self, head: bytes, name: str) -> str:
        kind = filetype.guess(head)
        if kind is not None:
            return str(kind.mime)
        if not head:
            return "application/octet-stream"
        if b"\x00" not in head and _is_text(head):
            lowered = name.lower()
            if lowered.endswith(".csv"):
                return "text/csv"
            if lowered.endswith((".xml",)) or head.lstrip().startswith(b"<?xml"):
                return "application/xml"
            if lowered.endswith(".json"):
                return "application/json"
            return "text/plain"
        return "application/octet-stream"


def _is_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
        return True
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the end of the sniffed head is still text.
        return error.start >= len(head) - 3
