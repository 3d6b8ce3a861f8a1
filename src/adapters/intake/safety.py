"""What every parser of uploaded files shares: XML without entities or DTDs, text decoding, zip caps.

XML is parsed by lxml (libxml2, in C: a 10,000-entry statement in a fraction of what defusedxml's
Python-level parser takes) hardened the way defusedxml hardens: entities are never expanded, no DTD
is loaded, nothing is fetched from the network, no huge-tree mode; and a document that carries a
DTD at all (where entities are declared) is refused after the parse.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

from lxml import etree

from application.intake.ports import UnreadableDocument

Element = Any  # lxml's _Element: find, findall, iter, text and tag as ElementTree has them


_DTD_MARKS = tuple(
    mark.encode(codec) for mark in ("<!DOCTYPE", "<!ENTITY") for codec in ("utf-8", "utf-16-le", "utf-16-be")
)
DTD_REFUSED = "the XML declares a DTD or entities, which are refused"


def parse_xml(content: bytes) -> Element:
    """The document's root; a DTD (so any entity declaration) or an external reference is refused."""
    head = content[:65536]
    if any(mark in head for mark in _DTD_MARKS):
        raise UnreadableDocument(DTD_REFUSED)
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False,
        remove_comments=True, remove_pis=True,
    )
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as error:
        if "entity" in str(error).lower():
            raise UnreadableDocument(DTD_REFUSED) from None
        raise UnreadableDocument(f"the XML is malformed or truncated: {error}") from None
    if root is None:
        raise UnreadableDocument("the XML is empty")
    info = root.getroottree().docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise UnreadableDocument(DTD_REFUSED)
    return root


def local(tag: str) -> str:
    """A tag without its namespace."""
    return tag.rpartition("}")[2]


def namespace(tag: str) -> str:
    return tag[1:].partition("}")[0] if tag.startswith("{") else ""


def xml_head(content: bytes, size: int = 4096) -> str:
    head = content[:size]
    for bom in (b"\xef\xbb\xbf",):
        head = head.removeprefix(bom)
    return head.decode("utf-8", errors="replace").lstrip()


def decode_text(content: bytes, declared: str | None = None) -> str:
    """UTF-8 (with or without a BOM), else the declared charset, else latin-1 (which always decodes)."""
    if content.startswith(b"\xef\xbb\xbf"):
        content = content[3:]
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if declared:
        try:
            return content.decode(declared)
        except (LookupError, UnicodeDecodeError):
            pass
    return content.decode("latin-1")


def checked_zip(content: bytes, *, max_unzipped: int, max_members: int = 10_000) -> zipfile.ZipFile:
    """A zip archive (XLSX) whose declared uncompressed size is within ``max_unzipped``.

    The declared sizes are what the reader then enforces (``zipfile`` stops a member that inflates
    past its declared size), so a bomb is refused before anything is inflated."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, OSError) as error:
        raise UnreadableDocument(f"the spreadsheet is not a readable zip archive (truncated?): {error}") from None
    members = archive.infolist()
    if len(members) > max_members:
        raise UnreadableDocument(f"the spreadsheet holds {len(members)} parts, more than {max_members}")
    total = sum(member.file_size for member in members)
    if total > max_unzipped:
        raise UnreadableDocument(
            f"the spreadsheet unpacks to {total} bytes, more than the limit of {max_unzipped}"
        )
    return archive
