"""Two small rules that much rests on, pinned exactly: the QuickBooks ``requestid`` of a write (a
retried create must carry the same one, a changed record or a refused try a new one, never past 50
characters), and the assistant's attachment limits (at each limit, and one byte past it)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.chats.attachments import (
    MAX_IMAGE_BYTES,
    MAX_PDF_BYTES,
    MAX_TEXT_BYTES,
    check_file_for_chat,
    is_valid_file_for_chat,
)
from domain.chats.errors import AttachmentRefused
from domain.chats.model import Provider
from domain.integrations.quickbooks.links import MAX_REQUEST_ID, SyncKind, SyncLink

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
LOCAL = "0b9c6a52-4a4e-4f7e-9d55-1c2d3e4f5a6b"


def link(**changes: object) -> SyncLink:
    found = SyncLink.new(tenant_id="t", kind=SyncKind.INVOICE, local_id=LOCAL, now=NOW)
    for name, value in changes.items():
        setattr(found, name, value)
    return found


def test_a_request_id_is_the_operation_version_attempts_and_record_without_dashes() -> None:
    assert link().request_id("create") == "create1.0-0b9c6a524a4e4f7e9d551c2d3e4f5a6b"
    assert link(version=3, attempts=2).request_id("update") == "update3.2-0b9c6a524a4e4f7e9d551c2d3e4f5a6b"
    assert link(version=3, attempts=2).request_id("create", versioned=False) == "create2-0b9c6a524a4e4f7e9d551c2d3e4f5a6b"


def test_the_same_write_tried_again_has_the_same_id_and_a_change_or_a_refusal_a_new_one() -> None:
    first = link()
    assert first.request_id("create") == link(id=first.id).request_id("create")
    assert link(version=2).request_id("create") != first.request_id("create")
    assert link(attempts=1).request_id("create") != first.request_id("create")
    assert link(version=2).request_id("create", versioned=False) == first.request_id("create", versioned=False)


def test_a_request_id_is_cut_at_fifty_characters_and_a_link_without_a_record_uses_its_own_id() -> None:
    long = link(local_id="x" * 60)
    assert len(long.request_id("create")) == MAX_REQUEST_ID == 50
    assert long.request_id("create") == ("create1.0-" + "x" * 60)[:50]
    own = link(local_id=None)
    assert own.request_id("create").endswith(own.id.replace("-", "")[: 50 - len("create1.0-")])


@pytest.mark.parametrize(("mime", "limit"), [
    ("application/pdf", MAX_PDF_BYTES), ("text/plain", MAX_TEXT_BYTES), ("text/csv; charset=utf-8", MAX_TEXT_BYTES),
    ("image/png", MAX_IMAGE_BYTES), ("image/jpeg", MAX_IMAGE_BYTES), ("image/webp", MAX_IMAGE_BYTES),
])
def test_each_kind_is_taken_at_its_limit_and_refused_one_byte_past(mime: str, limit: int) -> None:
    assert is_valid_file_for_chat(name="f", mime=mime, size=limit, provider=Provider.OPENAI)
    with pytest.raises(AttachmentRefused) as refused:
        check_file_for_chat(name="informe", mime=mime, size=limit + 1, provider=Provider.OPENAI)
    base = mime.split(";")[0]
    assert str(refused.value.message) == f"informe is {limit + 1} bytes; the limit for {base} is {limit} bytes"
    assert refused.value.field == "attachmentIds"


def test_the_limits_are_ten_two_and_five_mebibytes() -> None:
    assert (MAX_PDF_BYTES, MAX_TEXT_BYTES, MAX_IMAGE_BYTES) == (10 * 2**20, 2 * 2**20, 5 * 2**20)


def test_images_go_to_openai_and_anthropic_and_are_refused_for_deepseek_naming_why() -> None:
    for provider in (Provider.OPENAI, Provider.ANTHROPIC):
        assert is_valid_file_for_chat(name="foto.png", mime="image/png", size=1, provider=provider)
    with pytest.raises(AttachmentRefused, match="DeepSeek takes text only") as refused:
        check_file_for_chat(name="foto.png", mime="image/png", size=1, provider=Provider.DEEPSEEK)
    assert refused.value.field == "attachmentIds"
    assert is_valid_file_for_chat(name="a.pdf", mime="application/pdf", size=1, provider=Provider.DEEPSEEK)


@pytest.mark.parametrize("mime", ["application/zip", "image/svg+xml", "application/octet-stream", ""])
def test_other_kinds_are_refused_naming_the_kind(mime: str) -> None:
    with pytest.raises(AttachmentRefused) as refused:
        check_file_for_chat(name="x", mime=mime, size=1, provider=Provider.OPENAI)
    assert f"x: {mime or 'unknown'} files cannot be read by the assistant" in refused.value.message
    assert refused.value.field == "attachmentIds"
