"""QR codes of invoice URLs: segno's symbol, module for module, in a fraction of its time.

A fiscal invoice carries a QR code of its DGI URL, and every invoice has its own URL, so the
code is encoded on every render. segno (pure Python) takes ~1.7 ms for a version-9 code even
with the mask fixed, mostly placing bits and masking them one module at a time.

Here the work that depends only on the version is done once per version and kept: segno
draws one symbol of that version (finder, timing and alignment patterns, format and version
information are the same for every symbol of a version at error level M and mask 0), and the
order of the data modules along the standard two-column zig-zag is listed, with the mask
applied. Encoding a URL is then its bytes, the padding, the Reed-Solomon blocks (segno's
tables) and one pass over the module list.

The result is exactly ``segno.make(url, error="m", micro=False, mask=0, boost_error=False)``
(tests compare the two over every length up to version 14); anything segno would not encode
in byte mode as ASCII (purely numeric or alphanumeric text, non-ASCII text) is left to segno.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain, zip_longest

import segno
from segno import consts

_ECL = consts.ERROR_LEVEL_M
_MODE_BYTE = consts.MODE_BYTE
_MAX_VERSION = 40
_ALPHANUMERIC = frozenset(consts.ALPHANUMERIC_CHARS)


@dataclass(frozen=True, slots=True)
class _Version:
    number: int
    size: int
    template: tuple[bytearray, ...]  # rows of 0/1, function patterns as segno draws them
    positions: tuple[tuple[int, int, int], ...]  # (row, column, mask bit) of each data module
    capacity_bits: int
    count_bits: int


_versions: dict[int, _Version] = {}
_generators: dict[int, list[int]] = {}


def _function_modules(number: int, size: int) -> list[bytearray]:
    """1 where a module belongs to a function pattern or the format/version information."""
    reserved = [bytearray(size) for _ in range(size)]

    def mark(top: int, left: int, height: int, width: int) -> None:
        for row in range(max(top, 0), min(top + height, size)):
            for column in range(max(left, 0), min(left + width, size)):
                reserved[row][column] = 1

    mark(0, 0, 9, 9)  # finder + separator + format information, top left
    mark(0, size - 8, 9, 8)  # top right, with the format information under it
    mark(size - 8, 0, 8, 9)  # bottom left, with the format information beside it (and the dark module)
    mark(6, 0, 1, size)  # timing patterns
    mark(0, 6, size, 1)
    centres = consts.ALIGNMENT_POS[number - 2] if number >= 2 else ()
    for row in centres:
        for column in centres:
            overlaps_finder = (row < 9 and column < 9) or (row < 9 and column > size - 9) or (
                row > size - 9 and column < 9
            )
            if not overlaps_finder:
                mark(row - 2, column - 2, 5, 5)
    if number >= 7:
        mark(0, size - 11, 6, 3)  # version information
        mark(size - 11, 0, 3, 6)
    return reserved


def _version(number: int) -> _Version:
    cached = _versions.get(number)
    if cached is not None:
        return cached
    capacity = consts.SYMBOL_CAPACITY[number][_ECL]
    count_bits = consts.CHAR_COUNT_INDICATOR_LENGTH[_MODE_BYTE][1 if number < 10 else 2 if number < 27 else 3]
    sample = segno.make(
        "a" * ((capacity - 4 - count_bits) // 8), error="m", version=number, mode="byte", mask=0, boost_error=False
    )
    template = tuple(bytearray(row) for row in sample.matrix)
    size = len(template)
    reserved = _function_modules(number, size)
    positions: list[tuple[int, int, int]] = []
    column = size - 1
    upward = True
    while column > 0:
        if column == 6:  # the vertical timing pattern is skipped as a whole column
            column -= 1
        rows = range(size - 1, -1, -1) if upward else range(size)
        for row in rows:
            for col in (column, column - 1):
                if not reserved[row][col]:
                    positions.append((row, col, 1 if (row + col) % 2 == 0 else 0))
        upward = not upward
        column -= 2
    version = _Version(number, size, template, tuple(positions), capacity, count_bits)
    _versions[number] = version
    return version


def _generator(degree: int) -> list[int]:
    """Coefficients (as logarithms) of the Reed-Solomon generator of ``degree``, segno's table."""
    generator = _generators.get(degree)
    if generator is None:
        generator = _generators[degree] = list(consts.GEN_POLY[degree])
    return generator


def _blocks(number: int, data: bytes) -> bytes:
    """The final message: data codewords interleaved by block, then the error codewords."""
    log, exp = consts.GALIOS_LOG, consts.GALIOS_EXP
    data_blocks: list[bytes] = []
    error_blocks: list[bytes] = []
    offset = 0
    for info in consts.ECC[number][_ECL]:
        errors = info.num_total - info.num_data
        generator = _generator(errors)
        for _ in range(info.num_blocks):
            block = data[offset : offset + info.num_data]
            offset += info.num_data
            data_blocks.append(block)
            remainder = bytearray(block) + bytearray(errors)
            for k in range(len(block)):
                coefficient = remainder[k]
                if coefficient:
                    base = log[coefficient]
                    for n in range(errors):
                        remainder[k + n + 1] ^= exp[base + generator[n]]
            error_blocks.append(bytes(remainder[len(block) :]))
    interleave = chain.from_iterable
    return bytes(
        [x for x in interleave(zip_longest(*data_blocks)) if x is not None]
        + [x for x in interleave(zip_longest(*error_blocks)) if x is not None]
    )


def _fast_path(text: str) -> bool:
    """segno encodes ``text`` as one byte-mode segment of its ASCII bytes."""
    if not text or not text.isascii():
        return False
    return not set(text.encode("ascii")) <= _ALPHANUMERIC


def qr_matrix(text: str) -> tuple[bytearray, ...]:
    """Rows of modules (1 dark, 0 light) of the QR code of ``text``: error level M, mask 0,
    no micro code, the smallest version that holds it, as segno makes it."""
    if not _fast_path(text):
        code = segno.make(text, error="m", micro=False, mask=0, boost_error=False)
        return tuple(bytearray(row) for row in code.matrix)
    payload = text.encode("ascii")
    for number in range(1, _MAX_VERSION + 1):
        capacity = consts.SYMBOL_CAPACITY[number][_ECL]
        count_bits = 8 if number < 10 else 16
        if 4 + count_bits + 8 * len(payload) <= capacity:
            break
    else:
        raise ValueError("the text is too long for a QR code")
    version = _version(number)
    # Mode, count, data, terminator (up to 4 zero bits), then padding to the byte and the pad
    # codewords, the way segno writes them (a whole zero byte when already on a boundary).
    bits = (_MODE_BYTE << version.count_bits | len(payload)) << 8 * len(payload) | int.from_bytes(payload, "big")
    length = 4 + version.count_bits + 8 * len(payload)
    terminator = min(version.capacity_bits - length, 4)
    length += terminator
    padding = 8 - length % 8
    length += padding
    bits <<= terminator + padding
    stream = bits.to_bytes(length // 8, "big")
    pads = version.capacity_bits // 8 - len(stream)
    stream += bytes((0xEC, 0x11)[i % 2] for i in range(max(pads, 0)))
    message = _blocks(number, stream[: version.capacity_bits // 8])
    rows = tuple(bytearray(row) for row in version.template)
    message_bits = len(message) * 8
    value = int.from_bytes(message, "big")
    for index, (row, column, mask) in enumerate(version.positions):
        bit = (value >> (message_bits - 1 - index)) & 1 if index < message_bits else 0
        rows[row][column] = bit ^ mask
    return rows
