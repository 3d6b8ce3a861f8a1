"""The signatures domain on its own: images judged by their bytes, names and reasons at their
limits, expiry bounds, requests that close once, and the audit chain (canonical JSON, and any
edit, removal or reordering named at the first entry it touches)."""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.shared.errors import InvalidInput
from domain.signatures.audit import (
    GENESIS,
    AuditEntry,
    AuditEvent,
    AuditRecord,
    canonical_json,
    check_chain,
    clean_text,
)
from domain.signatures.errors import BadSignatureImage, ConsentRequired, RequestClosed, SignatureImageTooLarge
from domain.signatures.images import JPEG, PNG, check_signature_image
from domain.signatures.model import (
    RequestChannel,
    SignatureRequest,
    SignedEntityType,
    expiry,
    hash_token,
    parse_person_name,
    parse_reason,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")


def jpeg(width: int, height: int, *, app_bytes: int = 16) -> bytes:
    app = b"\xff\xe0" + struct.pack(">H", app_bytes + 2) + b"J" * app_bytes
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app + sof + b"\xff\xda\x00\x02\xff\xd9"


# --- images ---------------------------------------------------------------------------------


def test_png_and_jpeg_are_told_by_their_bytes_with_their_size() -> None:
    found = check_signature_image(png(300, 100))
    assert (found.mime, found.width, found.height) == (PNG, 300, 100)
    found = check_signature_image(jpeg(640, 200, app_bytes=5000))  # the frame header after a large APP segment
    assert (found.mime, found.width, found.height) == (JPEG, 640, 200)


@pytest.mark.parametrize("side", [4000, 1])
def test_each_side_is_accepted_up_to_the_limit(side: int) -> None:
    assert check_signature_image(png(side, 1), max_side=4000).width == side
    assert check_signature_image(jpeg(1, side), max_side=4000).height == side


@pytest.mark.parametrize("width,height", [(4001, 1), (1, 4001), (65535, 65535)])
def test_one_pixel_past_the_limit_is_refused(width: int, height: int) -> None:
    with pytest.raises(SignatureImageTooLarge, match=f"{width}x{height}"):
        check_signature_image(png(width, height), max_side=4000)
    with pytest.raises(SignatureImageTooLarge):
        check_signature_image(jpeg(width, height), max_side=4000)


def test_the_byte_limit_holds_at_the_limit_and_refuses_one_past() -> None:
    image = png(10, 10)
    assert check_signature_image(image, max_bytes=len(image)).mime == PNG
    with pytest.raises(SignatureImageTooLarge, match=f"at most {len(image) - 1}"):
        check_signature_image(image, max_bytes=len(image) - 1)


@pytest.mark.parametrize(
    "data",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg"/>',
        b"\xef\xbb\xbf  \n<?xml version='1.0'?><svg/>",
        b"<!DOCTYPE svg PUBLIC '-//W3C//DTD SVG 1.1//EN'><svg/>",
        b"<!-- a comment --><SVG onload='x'/>",
    ],
)
def test_svg_is_refused_whatever_it_starts_with(data: bytes) -> None:
    with pytest.raises(BadSignatureImage, match="SVG"):
        check_signature_image(data)


@pytest.mark.parametrize(
    "data,why",
    [
        (b"", "empty"),
        (b"GIF89a" + b"\0" * 20, "neither PNG nor JPEG"),
        (png(10, 10)[:20], "truncated"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "truncated"),
        (png(0, 10), "no pixels"),
        (b"%PDF-1.7\n", "neither"),
    ],
)
def test_what_is_not_a_usable_picture_is_refused_with_the_reason(data: bytes, why: str) -> None:
    with pytest.raises(BadSignatureImage, match=why):
        check_signature_image(data)


# --- names, reasons, expiry -----------------------------------------------------------------


def test_names_lose_control_and_format_characters_and_stop_at_200() -> None:
    assert parse_person_name("Ana\x00 Pé\u200brez\x1b", field="signerName") == "Ana  Pé rez"
    assert parse_person_name("٣ " + "a" * 198, field="n") == "٣ " + "a" * 198  # Unicode digits are letters here
    assert parse_person_name("a" * 200, field="n") == "a" * 200
    with pytest.raises(InvalidInput, match="at most 200"):
        parse_person_name("a" * 201, field="n")
    with pytest.raises(InvalidInput, match="required"):
        parse_person_name(" \t\x07 ", field="recipientName", required=True)


def test_reasons_keep_their_lines_and_stop_at_500() -> None:
    assert parse_reason("Monto\r\nincorrecto\x00") == "Monto\nincorrecto"
    assert parse_reason("r" * 500) == "r" * 500
    with pytest.raises(InvalidInput, match="at most 500"):
        parse_reason("r" * 501)


@pytest.mark.parametrize("seconds,accepted", [(599, False), (600, True), (2_592_000, True), (2_592_001, False)])
def test_expiry_is_between_ten_minutes_and_thirty_days(seconds: int, accepted: bool) -> None:
    if accepted:
        assert expiry(seconds, NOW) == NOW + timedelta(seconds=seconds)
    else:
        with pytest.raises(InvalidInput) as refused:
            expiry(seconds, NOW)
        assert refused.value.field == "expiresIn"
    assert expiry(None, NOW) == NOW + timedelta(days=7)


def test_entity_types_are_parsed_and_unknown_ones_named() -> None:
    assert SignedEntityType.parse(" contract ") is SignedEntityType.CONTRACT
    with pytest.raises(InvalidInput) as refused:
        SignedEntityType.parse("CLIENT")
    assert refused.value.field == "entityType"


def _request(expires: datetime = NOW + timedelta(hours=1)) -> SignatureRequest:
    return SignatureRequest.open(
        token="secret-token", tenant_id="t", entity_type=SignedEntityType.INVOICE, entity_id="i",
        document_file_id="f", document_sha256="a" * 64, document_name="F.pdf", channel=RequestChannel.EMAIL,
        recipient_name="Ana", recipient_email="a@b.pa", recipient_phone=None, message=None, created_by="u",
        created_at=NOW, expires_at=expires,
    )


def test_a_request_keeps_only_the_token_hash_and_closes_once() -> None:
    request = _request()
    assert request.token_hash == hash_token("secret-token") and "secret-token" not in vars(request).values()
    with pytest.raises(ConsentRequired):
        request.sign(signature_id="s", consent=False, now=NOW)
    request.sign(signature_id="s", consent=True, now=NOW)
    with pytest.raises(RequestClosed) as closed:
        request.decline(reason="no", now=NOW)
    assert closed.value.state == "SIGNED"


def test_a_request_past_its_time_is_expired_exactly_at_its_expiry() -> None:
    request = _request(NOW + timedelta(minutes=10))
    assert not request.is_expired(NOW + timedelta(minutes=10) - timedelta(microseconds=1))
    assert request.expire_if_due(NOW + timedelta(minutes=10))
    with pytest.raises(RequestClosed) as closed:
        request.cancel(now=NOW + timedelta(minutes=11))
    assert closed.value.state == "EXPIRED"


# --- the audit chain ------------------------------------------------------------------------


def test_canonical_json_is_rfc8785_for_our_values() -> None:
    assert canonical_json({"b": 1, "a": "é\u2028\n\"\\", "c": None, "d": [1, "x"]}) == (
        '{"a":"é\u2028\\n\\"\\\\","b":1,"c":null,"d":[1,"x"]}'
    )
    assert canonical_json({"z": {"b": "\x1f", "a": True}}) == '{"z":{"a":true,"b":"\\u001f"}}'


def _chain(n: int) -> list[AuditEntry]:
    entries, head = [], GENESIS
    for seq in range(1, n + 1):
        record = AuditRecord(
            event=AuditEvent.LINK_OPENED, occurred_at=NOW + timedelta(seconds=seq), actor="recipient:a@b.pa",
            entity_type="INVOICE", entity_id="inv-1", document_sha256="a" * 64, ip="10.0.0.1",
            user_agent="UA\x00 with control", details={"n": str(seq)},
        )
        entry = AuditEntry.chain(id=f"id-{seq}", tenant_id="t", seq=seq, prev_hash=head, record=record)
        entries.append(entry)
        head = entry.entry_hash
    return entries


def test_entries_keep_clean_utc_text_and_chain_from_genesis() -> None:
    entries = _chain(3)
    assert entries[0].prev_hash == GENESIS and entries[1].prev_hash == entries[0].entry_hash
    assert entries[0].occurred_at == "2026-12-01T12:00:01.000000Z" and entries[0].user_agent == "UA  with control"
    assert check_chain(entries).intact and check_chain(entries).entries == 3
    assert clean_text("\u202eabc") == "abc"


FIELDS = ["event", "occurred_at", "actor", "entity_id", "document_sha256", "ip", "user_agent", "details", "tenant_id"]


@settings(max_examples=60, deadline=None)
@given(size=st.integers(2, 12), data=st.data())
def test_any_edit_is_named_at_the_entry_edited(size: int, data: st.DataObject) -> None:
    entries = _chain(size)
    target = data.draw(st.integers(0, size - 1))
    field = data.draw(st.sampled_from(FIELDS))
    setattr(entries[target], field, (getattr(entries[target], field) or "") + "x")
    report = check_chain(entries)
    assert (report.intact, report.first_bad_seq, report.first_bad_id) == (False, target + 1, f"id-{target + 1}")
    assert "edited" in (report.problem or "")


@settings(max_examples=40, deadline=None)
@given(size=st.integers(3, 12), data=st.data())
def test_a_removal_or_a_swap_is_named_where_the_order_breaks(size: int, data: st.DataObject) -> None:
    entries = _chain(size)
    gone = data.draw(st.integers(0, size - 2))
    removed = entries[:gone] + entries[gone + 1 :]
    report = check_chain(removed)
    assert (report.intact, report.first_bad_seq) == (False, gone + 2)
    assert f"entry {gone + 1} is missing" in (report.problem or "")
    a = data.draw(st.integers(0, size - 2))
    swapped = list(entries)
    swapped[a], swapped[a + 1] = swapped[a + 1], swapped[a]
    swapped[a].seq, swapped[a + 1].seq = a + 1, a + 2  # renumbered to hide the swap
    report = check_chain(swapped)
    assert (report.intact, report.first_bad_seq, report.first_bad_id) == (False, a + 1, f"id-{a + 2}")


@settings(max_examples=80, deadline=None)
@given(text=st.text(max_size=40), seq=st.integers(1, 10**12))
def test_the_fast_hash_is_the_documented_one(text: str, seq: int) -> None:
    """SHA-256(prev_hash || RFC 8785 JSON of every field but entry_hash), whatever the text holds."""
    import hashlib

    from domain.signatures.audit import HASHED_FIELDS, entry_hash

    fields = {name: text for name in HASHED_FIELDS}
    fields.update(seq=seq, ip=None, prev_hash="f" * 64)
    expected = hashlib.sha256(b"f" * 64 + canonical_json(fields).encode("utf-8", "surrogatepass")).hexdigest()
    try:
        assert entry_hash(fields) == expected
    except UnicodeEncodeError:  # lone surrogates never reach an entry: clean_text drops them
        assert any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)
