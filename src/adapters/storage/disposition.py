"""The Content-Disposition of a download, shared by every storage's signed links."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NOT_FALLBACK_SAFE = re.compile(r"[^A-Za-z0-9 ._()\[\]+,=@!#$&^~-]")
_ATTR_CHAR_EXTRA = "!#$&+-.^_`|~"


def content_disposition(filename: str, *, inline: bool) -> str:
    """``attachment`` or ``inline``, with an ASCII ``filename`` and the exact UTF-8 ``filename*``."""
    name = _CONTROL.sub("", filename)
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    fallback = _NOT_FALLBACK_SAFE.sub("_", ascii_name).strip(" .") or "download"
    encoded = quote(name, safe=_ATTR_CHAR_EXTRA, errors="replace") or "download"
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
