"""What every parser of uploaded files shares: XML without entities or DTDs, text decoding, zip caps."""

from __future__ import annotations

import io
import zipfile
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from application.intake.ports import UnreadableDocument


def parse_xml(content: bytes) -> Element:
    """The document's root; a DTD, an entity declaration or an external reference is refused."""
    try:
        return fromstring(content, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise UnreadableDocument(f"the XML declares a DTD or entities, which are refused ({type(error).__name__})") from None
    except SyntaxError as error:  # ElementTree.ParseError
        raise UnreadableDocument(f"the XML is malformed or truncated: {error}") from None


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
