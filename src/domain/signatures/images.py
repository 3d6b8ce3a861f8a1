"""Signature images: PNG or JPEG, judged by their bytes (never by a name or a declared type),
within a size and a pixel limit. SVG is refused: it is a program (scripts, external references),
not a picture of a signature."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from domain.signatures.errors import BadSignatureImage, SignatureImageTooLarge

MAX_IMAGE_BYTES = 1024 * 1024
"""Largest signature image accepted (1 MiB): a drawn signature is a few kilobytes."""
MAX_IMAGE_SIDE = 4000
"""Largest width or height in pixels."""

PNG = "image/png"
JPEG = "image/jpeg"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# JPEG start-of-frame markers carry the dimensions (C4, C8 and CC are other segments).
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


@dataclass(frozen=True, slots=True)
class SignatureImage:
    mime: str
    width: int
    height: int


def check_signature_image(
    data: bytes, *, max_bytes: int = MAX_IMAGE_BYTES, max_side: int = MAX_IMAGE_SIDE, field: str = "image"
) -> SignatureImage:
    """What ``data`` is, or the refusal naming the problem."""
    if len(data) > max_bytes:
        raise SignatureImageTooLarge(
            f"the signature image has {len(data)} bytes; at most {max_bytes} are accepted", field=field
        )
    if not data:
        raise BadSignatureImage("the signature image is empty", field=field)
    if _looks_like_svg(data):
        raise BadSignatureImage("SVG signature images are refused; send a PNG or JPEG", field=field)
    if data.startswith(_PNG_MAGIC):
        image = _png(data, field)
    elif data.startswith(b"\xff\xd8\xff"):
        image = _jpeg(data, field)
    else:
        raise BadSignatureImage("the signature image is neither PNG nor JPEG (judged by its bytes)", field=field)
    if image.width < 1 or image.height < 1:
        raise BadSignatureImage("the signature image has no pixels", field=field)
    if image.width > max_side or image.height > max_side:
        raise SignatureImageTooLarge(
            f"the signature image is {image.width}x{image.height} pixels; each side may be at most {max_side}",
            field=field,
        )
    return image


def _looks_like_svg(data: bytes) -> bool:
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<?xml", b"<svg", b"<!doctype svg")) or b"<svg" in head


def _png(data: bytes, field: str) -> SignatureImage:
    if len(data) < 33 or data[12:16] != b"IHDR":
        raise BadSignatureImage("the PNG signature image is truncated or malformed", field=field)
    width, height = struct.unpack(">II", data[16:24])
    return SignatureImage(PNG, width, height)


def _jpeg(data: bytes, field: str) -> SignatureImage:
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            break
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length
            at += 2
            continue
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        if length < 2:
            break
        if marker in _SOF:
            if at + 9 > len(data):
                break
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return SignatureImage(JPEG, width, height)
        if marker in (0xD9, 0xDA):  # end of image, start of scan: no frame header came first
            break
        at += 2 + length
    raise BadSignatureImage("the JPEG signature image is truncated or malformed", field=field)
