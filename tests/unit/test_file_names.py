"""File names at their limits: exactly at the cap and one past it, several dots, long extensions,
multi-byte characters cut on a boundary, control characters and line breaks."""

from __future__ import annotations

import pytest

from domain.files.model import MAX_NAME_BYTES, fit_file_name, sanitize_file_name
from domain.whatsapp.content import MAX_FILENAME, document_content


def test_a_name_exactly_at_the_cap_is_kept_and_one_byte_more_loses_a_byte_of_its_stem() -> None:
    exact = "a" * (MAX_NAME_BYTES - 4) + ".pdf"
    assert sanitize_file_name(exact) == exact
    longer = "a" * (MAX_NAME_BYTES - 3) + ".pdf"
    assert sanitize_file_name(longer) == exact


@pytest.mark.parametrize(
    "raw, expected_end",
    [
        ("informe.v2." + "x" * 300 + ".pdf", ".pdf"),  # several dots: the last extension is kept
        ("tabla." + "y" * 300 + ".xlsx", ".xlsx"),
        ("z" * 300 + "." + "e" * 16, "." + "e" * 16),  # a 16-byte extension is an extension
        ("z" * 300 + "." + "e" * 17, "z" * 20),  # a 17-byte one is part of the stem, cut at the end
    ],
)
def test_a_long_name_keeps_its_extension(raw: str, expected_end: str) -> None:
    name = sanitize_file_name(raw)
    assert len(name.encode()) <= MAX_NAME_BYTES and name.endswith(expected_end), name


def test_a_multi_byte_name_is_cut_on_a_character_boundary() -> None:
    name = fit_file_name("ñ" * 200 + ".pdf", 101)  # 2 bytes each: 48 fit beside ".pdf"
    assert name == "ñ" * 48 + ".pdf" and len(name.encode()) == 100


def test_a_name_whose_stem_is_nothing_but_what_is_cut_keeps_what_it_can() -> None:
    assert fit_file_name("x" * 10, 4) == "xxxx"
    assert fit_file_name(" " * 10 + ".pdf", 6) == "pdf"  # never "None.pdf" nor " .pdf"


@pytest.mark.parametrize("raw", ["factura\n2026.pdf", "factura\r\n2026.pdf", "fac\x00tura\x1b[31m.pdf", "fac\u2028tura.pdf"])
def test_control_characters_and_line_breaks_never_reach_a_name(raw: str) -> None:
    name = sanitize_file_name(raw)
    assert not any(ord(ch) < 32 or ch in "\u2028\u2029\x7f" for ch in name), repr(name)
    assert name.endswith(".pdf")


def test_a_whatsapp_document_name_keeps_its_extension_within_the_limit() -> None:
    name = document_content(file_id="f", filename="informe.v2." + "x" * 300 + ".pdf").filename
    assert len(name.encode()) == MAX_FILENAME and name.endswith(".pdf")
    exact = "d" * (MAX_FILENAME - 4) + ".pdf"
    assert document_content(file_id="f", filename=exact).filename == exact
    assert document_content(file_id="f", filename="a/b\\c.pdf").filename == "a-b-c.pdf"
    assert document_content(file_id="f", filename="  ").filename == "documento.pdf"


def test_a_temporary_file_expires_at_the_exact_instant_and_a_kept_one_never_picks_up_an_expiry() -> None:
    from datetime import UTC, datetime, timedelta

    from domain.files.model import File

    now = datetime(2026, 12, 7, 12, tzinfo=UTC)
    until = now + timedelta(hours=24)
    temporary = File.add(tenant_id="t", name="borrador.pdf", sha256="a" * 64, mime="application/pdf", size=1,
                            created_by=None, now=now, temporary_until=until)
    assert not temporary.is_expired(until - timedelta(microseconds=1))
    assert temporary.is_expired(until)  # exactly at its expiry it is expired
    temporary.extend_until(until - timedelta(hours=1))  # an earlier expiry never shortens it
    assert temporary.expires_at == until
    temporary.promote()
    temporary.extend_until(until + timedelta(days=1))  # uploaded again after it was kept
    assert (temporary.expires_at, temporary.is_expired(until + timedelta(days=2))) == (None, False)
