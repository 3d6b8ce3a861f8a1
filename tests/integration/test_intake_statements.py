"""Bank statements through document intake, end to end: the file stored, ``ingestFile``'s job run by
the worker, the records in the database (SQLite and PostgreSQL), and the intake's outcome."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from application.banking.commands import (
    FindBankAccounts,
    FindBankStatements,
    FindBankTransactions,
    SaveBankImportProfile,
)
from application.intake.commands import (
    FindDocumentIntakes,
    GetDocumentIntake,
    IngestFile,
    RetryDocumentIntake,
)
from domain.intake.model import IntakeStatus
from domain.shared.errors import DomainError
from tests.intake_documents import (
    BILLION_LAUGHS,
    CSV_PROFILE,
    banco_general_xlsx,
    camt053,
    camt_lines,
    csv_european,
    lines,
    mt940,
    ofx_sgml,
    ofx_xml,
    spoil_mt940_line,
    total,
    xlsx_bomb,
)
from tests.integration.intake_support import IntakeWorld

OPENING = Decimal("1500.00")


@pytest.fixture
def world(make_service: Callable[..., Any]) -> IntakeWorld:
    return IntakeWorld(make_service())


def transactions(world: IntakeWorld, actor: Any, account_id: str, **kw: Any) -> list[Any]:
    return list(world.handle(FindBankTransactions(actor=actor, account_id=account_id, first=500, **kw)).items)


def records(view: Any, kind: str) -> list[str]:
    return [r.id for r in view.records if r.type == kind]


@pytest.mark.parametrize("version", ["02", "08"])
def test_a_camt053_statement_with_batched_entries_becomes_its_transactions(world: IntakeWorld, version: str) -> None:
    acme = world.tenant("acme")
    items = lines(12)
    written = camt_lines(items, 3)
    data = camt053(items, opening=OPENING, closing=OPENING + total(written), version=version, batch=3)
    view = world.ingest(acme, data, name="extracto.xml")
    assert (view.status, view.strategy, view.reasons, view.problems) == (IntakeStatus.PARSED, "camt.053", (), ())
    [account_id] = records(view, "BANK_ACCOUNT")
    rows = transactions(world, acme, account_id)
    assert sorted(r.amount for r in rows) == sorted(l.amount for l in written)
    assert {r.bank_id for r in rows} == {f"S{l.ref}" for l in written}
    [account] = world.handle(FindBankAccounts(actor=acme))
    assert (account.bank, account.number_masked, account.currency) == ("BGENPAPA", "****1234", "USD")
    [statement] = world.handle(FindBankStatements(actor=acme)).items
    assert (statement.opening_balance, statement.closing_balance) == (OPENING, OPENING + total(written))
    assert statement.transactions_added == len(written)


def test_the_same_statement_again_is_a_duplicate_and_writes_nothing(world: IntakeWorld) -> None:
    acme = world.tenant("acme")
    data = camt053(lines(6), opening=OPENING, closing=OPENING + total(lines(6)))
    first = world.ingest(acme, data)
    again = world.ingest(acme, data + b"\n")  # other bytes (another file), the same statement
    assert first.status is IntakeStatus.PARSED
    assert again.status is IntakeStatus.DUPLICATE
    assert again.reasons == ("all 6 transactions of the statement were imported before",)
    assert records(again, "BANK_STATEMENT") == []
    assert len(world.handle(FindBankStatements(actor=acme)).items) == 1


def test_the_very_same_file_again_is_a_duplicate_of_the_first_intake_without_parsing(world: IntakeWorld) -> None:
    acme = world.tenant("acme")
    data = mt940(lines(3), opening=OPENING, closing=OPENING + total(lines(3)))
    first = world.ingest(acme, data)
    again = world.ingest(acme, data)
    assert again.status is IntakeStatus.DUPLICATE and again.records == first.records
    assert again.reasons == (f"this file was imported before (intake {first.id}); nothing new was recorded",)


def test_an_overlapping_statement_adds_only_the_new_transactions(world: IntakeWorld) -> None:
    acme = world.tenant("acme")
    items = lines(10)
    first, second = items[:6], items[3:]
    balance_after_first = OPENING + total(first)
    world.ingest(acme, ofx_xml(first, closing=balance_after_first))
    view = world.ingest(acme, ofx_xml(second, closing=balance_after_first + total(items[6:])))
    assert view.status is IntakeStatus.PARSED
    assert "3 transaction(s) were imported before and were skipped" in view.reasons
    [account_id] = records(view, "BANK_ACCOUNT")
    assert len(transactions(world, acme, account_id)) == 10


def test_an_unbalanced_statement_is_imported_for_review_with_the_difference(world: IntakeWorld) -> None:
    acme = world.tenant("acme")
    items = lines(4)
    data = mt940(items, opening=OPENING, closing=OPENING + total(items) + Decimal("0.50"))
    view = world.ingest(acme, data)
    assert view.status is IntakeStatus.NEEDS_REVIEW
    assert view.strategy == "mt940"
    assert any("a difference of 0.50" in reason for reason in view.reasons)
    assert records(view, "BANK_STATEMENT")


def test_a_bad_mt940_line_is_listed_on_the_intake_and_the_other_transactions_imported(world: IntakeWorld) -> None:
    acme = world.tenant("acme")
    items = lines(4)
    view = world.ingest(acme, spoil_mt940_line(mt940(items, opening=OPENING, closing=OPENING + total(items)), 1))
    assert view.status is IntakeStatus.NEEDS_REVIEW and view.strategy == "mt940"
    assert [p.row for p in view.problems] == [2] and "could not be read" in view.problems[0].message
    assert "1 row(s) could not be read and were left out (listed)" in view.reasons
    assert any(f"a difference of {items[1].amount}" in reason for reason in view.reasons)  # the row left out
    [account_id] = records(view, "BANK_ACCOUNT")
    assert sorted(r.amount for r in transactions(world, acme, account_id)) == sorted(
        item.amount for n, item in enumerate(items) if n != 1
    )


def test_ofx_sgml_with_a_one_line_header_charset_none_and_latin1_text(world: IntakeWorld) -> None:
    acme = world.tenant("acme")
    items = lines(3)
    view = world.ingest(acme, ofx_sgml(items, closing=OPENING + total(items)))
    assert view.status is IntakeStatus.PARSED, view.reasons
    [account_id] = records(view, "BANK_ACCOUNT")
    rows = transactions(world, acme, account_id, search="ñandú")
    assert len(rows) == 3 and all("Panadería Ñandú" in (r.description or "") for r in rows)


def test_a_csv_needs_a_profile_then_imports_with_european_amounts(world: IntakeWorld) -> None:
    acme = world.tenant("acme")
    items = lines(5)
    data = csv_european(items, opening=OPENING)
    first = world.ingest(acme, data)
    assert first.status is IntakeStatus.NEEDS_REVIEW
    assert "saveBankImportProfile" in first.reasons[0] and "Fecha, Descripción, Referencia, Monto, Saldo" in first.reasons[0]
    world.handle(SaveBankImportProfile(actor=acme, **CSV_PROFILE))
    again = world.handle(RetryDocumentIntake(actor=acme, intake_id=first.id))
    assert again.status is IntakeStatus.PENDING
    world.run_jobs()
    done = world.intake(acme, first.id)
    assert (done.status, done.strategy) == (IntakeStatus.PARSED, "csv"), done.reasons
    [account_id] = records(done, "BANK_ACCOUNT")
    assert sorted(r.amount for r in transactions(world, acme, account_id)) == sorted(l.amount for l in items)


def test_a_malformed_row_is_listed_and_the_others_are_kept(world: IntakeWorld) -> None:
    acme = world.tenant("acme")
    world.handle(SaveBankImportProfile(actor=acme, **{**CSV_PROFILE, "balance_column": None}))
    data = csv_european(lines(4), opening=OPENING).replace(b"02/11/2026", b"31/02/2026", 1)
    data = data.replace(b";R0-2;", b";R0-2;\xd9\xa1\xd9\xa2,00x", 1)  # Arabic-Indic digits in the amount
    view = world.ingest(acme, data)
    assert view.status is IntakeStatus.NEEDS_REVIEW
    assert [p.row for p in view.problems] == [4, 5]
    assert "is not a date in DD/MM/YYYY" in view.problems[0].message
    assert "is not an amount" in view.problems[1].message
    [account_id] = records(view, "BANK_ACCOUNT")
    assert len(transactions(world, acme, account_id)) == 2


def test_banco_general_xlsx_is_found_by_its_header_below_the_title_rows(world: IntakeWorld) -> None:
    acme = world.tenant("acme")
    items = lines(7)
    view = world.ingest(acme, banco_general_xlsx(items, opening=OPENING), name="movimientos.xlsx")
    assert (view.status, view.strategy) == (IntakeStatus.PARSED, "xlsx"), view.reasons
    [account] = world.handle(FindBankAccounts(actor=acme))
    assert (account.bank, account.number_masked) == ("Banco General", "****4567")
    [statement] = world.handle(FindBankStatements(actor=acme)).items
    assert (statement.format, statement.opening_balance) == ("banco-general-xlsx", OPENING)


@pytest.mark.parametrize(
    ("data", "status", "reason"),
    [
        (b"%!PS-Adobe-3.0\nnot a statement", IntakeStatus.UNSUPPORTED, "is not a bank statement or supplier invoice format"),
        (b"", IntakeStatus.UNSUPPORTED, "the file is empty"),
        (BILLION_LAUGHS, IntakeStatus.FAILED, "the XML declares a DTD or entities, which are refused"),
        (xlsx_bomb(200 * 1024 * 1024), IntakeStatus.FAILED, "more than the limit of"),
        (camt053(lines(3), opening=OPENING, closing=OPENING)[:-200], IntakeStatus.FAILED, "malformed or truncated"),
    ],
    ids=["unknown", "empty", "billion-laughs", "zip-bomb", "truncated"],
)
def test_bad_files_end_with_a_clear_reason_and_no_records(world: IntakeWorld, data: bytes, status: IntakeStatus, reason: str) -> None:
    acme = world.tenant("acme")
    view = world.ingest(acme, data)
    assert view.status is status
    assert reason in view.reasons[0]
    assert view.records == ()
    assert world.handle(FindBankAccounts(actor=acme)) == []


def test_a_statement_ingested_as_a_supplier_invoice_is_refused_naming_what_it_is(world: IntakeWorld) -> None:
    acme = world.tenant("acme")
    view = world.ingest(acme, mt940(lines(2), opening=OPENING, closing=OPENING), kind="SUPPLIER_INVOICE")
    assert view.status is IntakeStatus.UNSUPPORTED
    assert view.reasons == ("the file is a bank statement (mt940), not a supplier invoice as asked",)
    assert world.handle(FindBankAccounts(actor=acme)) == []


def test_another_tenants_file_and_intake_are_not_found(world: IntakeWorld) -> None:
    acme, globex = world.tenant("acme"), world.tenant("globex")
    file_id = world.upload(acme, ofx_xml(lines(2), closing=OPENING))
    with pytest.raises(DomainError) as refused:
        world.handle(IngestFile(actor=globex, file_id=file_id))
    assert (refused.value.code, refused.value.field) == ("FILE_NOT_FOUND", "fileId")
    view = world.ingest(acme, ofx_xml(lines(2), closing=OPENING))
    with pytest.raises(DomainError) as hidden:
        world.handle(GetDocumentIntake(actor=globex, intake_id=view.id))
    assert hidden.value.code == "DOCUMENT_INTAKE_NOT_FOUND"
    assert world.handle(FindDocumentIntakes(actor=globex)).items == ()
    [account_id] = records(view, "BANK_ACCOUNT")
    with pytest.raises(DomainError) as other:
        transactions(world, globex, account_id)
    assert other.value.code == "BANK_ACCOUNT_NOT_FOUND"


def test_intakes_page_newest_first_and_filter_by_status(world: IntakeWorld) -> None:
    acme = world.tenant("acme")
    views = [world.ingest(acme, b"nothing %d" % i) for i in range(3)]
    views.append(world.ingest(acme, ofx_xml(lines(1), closing=OPENING)))
    first = world.handle(FindDocumentIntakes(actor=acme, first=2))
    rest = world.handle(FindDocumentIntakes(actor=acme, first=2, after=first.end_cursor))
    assert [v.id for v in first.items + rest.items] == [v.id for v in reversed(views)]
    assert not rest.has_next_page
    unsupported = world.handle(FindDocumentIntakes(actor=acme, status="UNSUPPORTED")).items
    assert {v.id for v in unsupported} == {v.id for v in views[:3]}
