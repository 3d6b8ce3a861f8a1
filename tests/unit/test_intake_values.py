"""The rules document intake's records rest on, without a database: the CUFE's check digit, amounts
as banks print them, column profiles, the dedupe keys, and every parser's limits at and past the edge."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.intake.camt053 import Camt053Strategy
from adapters.intake.dgi_qr import DgiQrStrategy, dgi_qr
from adapters.intake.mt940 import Mt940Strategy
from adapters.intake.safety import checked_zip, parse_xml
from adapters.intake.strategies import default_strategies
from adapters.intake.tabular import CsvStrategy
from application.intake.ports import IntakeContext, IntakeLimits, NeedsExtraction, UnreadableDocument
from application.intake.router import route
from domain.banking.profiles import parse_amount, parse_profile
from domain.banking.statements import ParsedStatement, ParsedTransaction, clean_text, dedupe_keys, mask_number
from domain.intake.model import DocumentKind
from domain.purchases.invoices import cufe_parts, cufe_problems, make_cufe
from domain.shared.errors import InvalidInput
from tests.intake_documents import (
    BILLION_LAUGHS,
    CSV_PROFILE,
    camt053,
    csv_european,
    cufe,
    lines,
    mt940,
    spoil_mt940_line,
    total,
)

# CUFEs printed on real DGI invoices (public examples): their check digits must verify.
PUBLISHED = (
    "FE0120000047028-19-305805-1800002025091902233506140010110199616775",
    "FE0120000025046169-3-2021-4000002026071400000000021000112431062839",
)


@pytest.mark.parametrize("value", PUBLISHED)
def test_published_cufes_verify_and_give_their_parts(value: str) -> None:
    assert cufe_problems(value) == []
    parts = cufe_parts(value)
    assert parts is not None and parts.document_type == "01" and parts.environment == "1"


def test_the_cufe_parts_are_what_built_it() -> None:
    value = cufe(number="4521", day=date(2026, 2, 28), doc="04")
    parts = cufe_parts(value)
    assert parts is not None
    assert (parts.ruc, parts.dv, parts.issue_date, parts.number, parts.document_type) == (
        "155596713-2-2015", "59", date(2026, 2, 28), "0000004521", "04"
    )


@given(position=st.integers(min_value=2, max_value=65), digit=st.integers(min_value=0, max_value=9))
def test_changing_any_one_digit_breaks_the_check(position: int, digit: int) -> None:
    value = cufe()
    if not value[position].isdigit() or int(value[position]) == digit:
        return
    changed = value[:position] + str(digit) + value[position + 1 :]
    assert cufe_problems(changed) != []


@given(ruc=st.from_regex(r"[1-9][0-9]{0,8}-[0-9]{1,3}-[0-9]{1,6}", fullmatch=True), number=st.integers(1, 10**9))
def test_every_built_cufe_is_66_characters_and_verifies(ruc: str, number: int) -> None:
    value = make_cufe(document_type="01", taxpayer_type="2", ruc=ruc, dv="7", branch="1", issue_date=date(2026, 1, 31),
                      number=str(number), point_of_sale="1")
    assert len(value) == 66 and cufe_problems(value) == []


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (cufe()[:-1], "the CUFE has 65 characters, not 66"),
        (cufe() + "1", "the CUFE has 67 characters, not 66"),
        ("FX" + cufe()[2:], "the CUFE does not have the DGI's structure"),
        (cufe()[:32] + "20261340" + cufe()[40:], "is not a date"),
        (cufe().replace("1", "١", 1), "the CUFE holds characters other than ASCII"),
        (cufe()[:10] + "\x00" + cufe()[11:], "the CUFE does not have the DGI's structure"),
    ],
    ids=["65", "67", "prefix", "date", "arabic-digit", "control-character"],
)
def test_a_wrong_cufe_is_named(value: str, problem: str) -> None:
    assert problem in cufe_problems(value)[0]


@pytest.mark.parametrize(
    ("text", "separator", "expected"),
    [
        ("1.234,56", ",", Decimal("1234.56")),
        ("-1.234,56", ",", Decimal("-1234.56")),
        ("1,234.56", ".", Decimal("1234.56")),
        ("(12.00)", ".", Decimal("-12.00")),
        ("12.00-", ".", Decimal("-12.00")),
        ("B/. 5", ".", Decimal(5)),
        ("", ".", None),
        (12.3, ".", Decimal("12.30")),
        (0.1 + 0.2, ".", Decimal("0.30")),
    ],
)
def test_amounts_as_banks_print_them(text: object, separator: str, expected: Decimal | None) -> None:
    assert parse_amount(text, separator) == expected


@pytest.mark.parametrize(
    "text", ["١٢٣,٤٥", "12\x0034", "1.2.3", "12,345", "abc", "12.345", "--5", True],
    ids=["arabic-indic", "nul", "two-dots", "three-decimals", "letters", "three-decimals-dot", "double-minus", "bool"],
)
def test_what_is_not_an_amount_is_refused(text: object) -> None:
    separator = "," if text in ("١٢٣,٤٥", "12,345") else "."
    with pytest.raises(ValueError, match="amount|decimal"):
        parse_amount(text, separator)


def test_a_profile_names_the_field_it_refuses() -> None:
    base = dict(CSV_PROFILE)
    for changes, field in (
        ({"amount_column": None}, "amountColumn"),
        ({"debit_column": "Débito"}, "amountColumn"),
        ({"date_format": "DD.MM.YY"}, "dateFormat"),
        ({"decimal_separator": ";"}, "decimalSeparator"),
        ({"currency": "US$"}, "currency"),
        ({"name": "x" * 81}, "name"),
        ({"description_column": "Fecha"}, "columns"),
        ({"account_number": "\x00\x01"}, "accountNumber"),
    ):
        with pytest.raises(InvalidInput) as refused:
            parse_profile(**{**base, **changes})
        assert refused.value.field == field, changes
    assert parse_profile(**{**base, "name": "x" * 80}).name == "x" * 80


def test_text_loses_control_characters_and_masks_keep_four() -> None:
    assert clean_text("Pago\x00 a\tproveedor\r\n  ACME\u200b") == "Pago a proveedor ACME"
    assert mask_number("03-01-01-123456-7") == "****4567"


def test_two_equal_lines_on_one_day_keep_two_keys_and_the_same_file_the_same_keys() -> None:
    line = ParsedTransaction(booked_on=date(2026, 11, 3), amount=Decimal("-5.00"), reference="CAFE")
    keys = dedupe_keys("acct", (line, line))
    assert len(set(keys)) == 2 and keys == dedupe_keys("acct", (line, line))
    assert dedupe_keys("other", (line,))[0] != keys[0]


# --- limits: at the limit, and one past it -------------------------------------------------


def test_rows_at_the_limit_pass_and_one_more_is_refused() -> None:
    profile = parse_profile(**CSV_PROFILE)
    data = csv_european(lines(20), opening=Decimal(0))
    assert len(CsvStrategy(IntakeLimits(max_rows=20)).parse(data, IntakeContext((profile,))).transactions) == 20
    with pytest.raises(UnreadableDocument, match="more than 19 rows"):
        CsvStrategy(IntakeLimits(max_rows=19)).parse(data, IntakeContext((profile,)))
    camt = camt053(lines(20), opening=Decimal(0), closing=total(lines(20)))
    assert len(Camt053Strategy(IntakeLimits(max_rows=20)).parse(camt, IntakeContext()).transactions) == 20
    with pytest.raises(UnreadableDocument, match="more than 19 transactions"):
        Camt053Strategy(IntakeLimits(max_rows=19)).parse(camt, IntakeContext())


def test_mt940_transactions_at_the_limit_pass_and_one_more_is_refused() -> None:
    data = mt940(lines(20), opening=Decimal(0), closing=total(lines(20)))
    assert len(Mt940Strategy(IntakeLimits(max_rows=20)).parse(data, IntakeContext()).transactions) == 20
    with pytest.raises(UnreadableDocument, match="more than 19 transactions"):
        Mt940Strategy(IntakeLimits(max_rows=19)).parse(data, IntakeContext())


def test_a_bad_mt940_line_is_listed_and_the_others_kept() -> None:
    items = lines(5)
    data = spoil_mt940_line(mt940(items, opening=Decimal(0), closing=total(items)), 2)
    parsed = Mt940Strategy(IntakeLimits()).parse(data, IntakeContext())
    assert isinstance(parsed, ParsedStatement)
    kept = [items[0], items[1], items[3], items[4]]
    assert [(t.amount, t.description, t.bank_id) for t in parsed.transactions] == [
        (item.amount, item.text, f"B{item.ref}") for item in kept
    ]  # the bad line's :86: went with it, not onto a neighbour
    assert parsed.closing_balance == total(items) and parsed.currency == "USD"
    [problem] = parsed.problems
    assert problem.row == 3
    assert problem.message == (
        "transaction 3 (line 9, ':61:26XX01D12,00NTRFBROKEN') could not be read: "
        "it does not follow the MT940 :61: layout (date, D/C mark, amount, type, reference)"
    )


def test_mt940_lines_that_are_all_bad_are_all_listed_and_a_bad_balance_fails_the_file() -> None:
    items = lines(2)
    data = mt940(items, opening=Decimal(0), closing=total(items))
    both = spoil_mt940_line(spoil_mt940_line(data, 0), 1, ":61:")
    parsed = Mt940Strategy(IntakeLimits()).parse(both, IntakeContext())
    assert isinstance(parsed, ParsedStatement)
    assert parsed.transactions == () and [p.row for p in parsed.problems] == [1, 2]
    with pytest.raises(UnreadableDocument, match="account or balances are malformed"):
        Mt940Strategy(IntakeLimits()).parse(data.replace(b":60F:C261031USD", b":60F:C26XX31USD"), IntakeContext())


def test_the_unpacked_size_at_the_limit_passes_and_one_byte_more_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", b"a" * 600)
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * 400)
    assert checked_zip(out.getvalue(), max_unzipped=1000)
    with pytest.raises(UnreadableDocument, match="unpacks to 1000 bytes, more than the limit of 999"):
        checked_zip(out.getvalue(), max_unzipped=999)


def _pdf(pages: int) -> bytes:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument.new()
    for _ in range(pages):
        document.new_page(200, 200)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_pages_at_the_limit_are_searched_and_one_more_is_refused() -> None:
    three = _pdf(3)
    assert isinstance(DgiQrStrategy(IntakeLimits(max_pages=3)).parse(three, IntakeContext()), NeedsExtraction)
    with pytest.raises(UnreadableDocument, match="the PDF has 3 pages, more than 2"):
        DgiQrStrategy(IntakeLimits(max_pages=2)).parse(three, IntakeContext())


def test_a_qr_of_another_site_or_without_a_cufe_is_not_a_dgi_qr() -> None:
    assert dgi_qr("https://dgi-fep.mef.gob.pa/Consultas/FacturasPorQR?chFE=" + cufe()) is not None
    assert dgi_qr("https://dgi-fep.mef.gob.pa.evil.example/Consultas?chFE=" + cufe()) is None
    assert dgi_qr("https://example.com/?chFE=" + cufe()) is None
    assert dgi_qr("https://dgi-fep.mef.gob.pa/Consultas/FacturasPorQR?iAmb=1") is None


def test_the_router_reads_the_content_never_the_name() -> None:
    strategies = default_strategies(IntakeLimits())
    xml_named_pdf = camt053(lines(1), opening=Decimal(0), closing=Decimal(0))
    assert route(xml_named_pdf, strategies, None).strategy.name == "camt.053"  # type: ignore[union-attr]
    assert route(b"\x89PNG\r\n\x1a\nrest", strategies, DocumentKind.SUPPLIER_INVOICE).strategy.name == "dgi-qr"  # type: ignore[union-attr]
    refused = route(b"\x89PNG\r\n\x1a\nrest", strategies, DocumentKind.BANK_STATEMENT)
    assert refused.strategy is None and refused.reason == (
        "the file is a supplier invoice (dgi-qr), not a bank statement as asked"
    )


@pytest.mark.parametrize(
    "document",
    [
        BILLION_LAUGHS,
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><rFE xmlns="http://dgi-fep.mef.gob.pa">&x;</rFE>',
        b'<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:1/evil.dtd"><r/>',
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY a "b">]><r>&a;</r>'.encode("utf-16"),
    ],
    ids=["billion-laughs", "external-entity", "external-dtd", "utf-16"],
)
def test_every_dtd_and_entity_is_refused_before_anything_is_expanded_or_fetched(document: bytes) -> None:
    with pytest.raises(UnreadableDocument, match="the XML declares a DTD or entities, which are refused"):
        parse_xml(document)


def test_an_mt940_file_of_several_statements_keeps_every_transaction_and_the_outer_balances() -> None:
    items = lines(5)
    first, second = items[:2], items[2:]
    data = mt940(first, opening=Decimal(100), closing=Decimal(100) + total(first)) + b"\r\n" + mt940(
        second, opening=Decimal(100) + total(first), closing=Decimal(100) + total(items)
    )
    parsed = Mt940Strategy(IntakeLimits()).parse(data, IntakeContext())
    assert isinstance(parsed, ParsedStatement) and parsed.problems == ()
    assert [t.amount for t in parsed.transactions] == [item.amount for item in items]
    assert (parsed.opening_balance, parsed.closing_balance) == (Decimal(100), Decimal(100) + total(items))
    assert parsed.opening_balance + sum(t.amount for t in parsed.transactions) == parsed.closing_balance

    other_account = mt940(first, opening=Decimal(0), closing=total(first)) + b"\r\n" + mt940(
        second, opening=Decimal(0), closing=total(second), account="BGENPAPA/0309999999999"
    )
    with pytest.raises(UnreadableDocument, match="statements of several accounts"):
        Mt940Strategy(IntakeLimits()).parse(other_account, IntakeContext())
