"""Bank exports as tables: CSV, and XLSX (Banco General's, found by its sheet and header; any other
bank's through the tenant's confirmed column profile).

The header row is found by its content (a profile whose columns it holds), not by its position,
so title rows above it are skipped. Cells are read as values (dates stay dates). A workbook is
opened only after its declared unpacked size passes the cap (``checked_zip``); openpyxl parses
its XML through defusedxml (installed), so entities and DTDs are refused there too.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import replace

from openpyxl import load_workbook

from adapters.intake.safety import checked_zip, decode_text
from application.intake.ports import IntakeContext, IntakeLimits, Parsed, Unmatched, UnreadableDocument
from domain.banking.profiles import BANCO_GENERAL, ImportProfile, read_table
from domain.banking.statements import clean_text
from domain.intake.model import DocumentKind

HEADER_SEARCH_ROWS = 30
BANCO_GENERAL_SHEETS = (b"BGRExcelContReport", b"BGPExcelReport")
_ACCOUNT = re.compile(r"(\d[\d-]{5,30}\d)")

Row = tuple[int, Sequence[object]]


def _split(rows: Iterator[Row], profiles: Sequence[ImportProfile], max_rows: int) -> tuple[ImportProfile | None, Sequence[object], list[Row], list[Row]]:
    """(the matching profile, the header, the title rows above it, the data rows below it)."""
    titles: list[Row] = []
    for number, row in rows:
        if not any(cell not in (None, "") for cell in row):
            continue
        profile = next((p for p in profiles if p.matches(row)), None)
        if profile is not None:
            data = []
            for item in rows:
                if any(cell not in (None, "") for cell in item[1]):
                    data.append(item)
                    if len(data) > max_rows:
                        raise UnreadableDocument(f"the file has more than {max_rows} rows")
            return profile, row, titles, data
        titles.append((number, row))
        if len(titles) >= HEADER_SEARCH_ROWS:
            break
    # No profile matches: the likely header is the fullest of the first rows (title rows have one cell).
    fullest = max(titles, key=lambda item: sum(cell not in (None, "") for cell in item[1]), default=(0, ()))
    return None, fullest[1], titles, []


def _unmatched(header: Sequence[object]) -> Unmatched:
    names = tuple(clean_text(cell, 80) or "" for cell in header)
    shown = ", ".join(name for name in names if name)[:300]
    return Unmatched(
        reason=f"no saved import profile matches the columns ({shown}); save one with saveBankImportProfile and retry",
        header=names,
    )


class CsvStrategy:
    name = "csv"
    kind = DocumentKind.BANK_STATEMENT
    uses_profiles = True

    def __init__(self, limits: IntakeLimits) -> None:
        self._limits = limits

    def recognises(self, content: bytes) -> bool:
        head = content[:4096]
        if b"\x00" in head or head.lstrip().startswith((b"<", b"{", b"%PDF", b"PK")):
            return False
        lines = [line for line in decode_text(head).splitlines()[:5] if line.strip()]
        return bool(lines) and any(sep in lines[0] for sep in (",", ";", "\t", "|"))

    def parse(self, content: bytes, context: IntakeContext) -> Parsed:
        text = decode_text(content)
        first_lines = "\n".join(text.splitlines()[:HEADER_SEARCH_ROWS])
        delimiter = max((";", ",", "\t", "|"), key=first_lines.count)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        rows = ((reader.line_num, row) for row in reader)
        try:
            profile, header, _titles, data = _split(rows, context.profiles, self._limits.max_rows)
        except csv.Error as error:
            raise UnreadableDocument(f"the CSV is malformed: {error}") from None
        if profile is None:
            return _unmatched(header)
        return read_table(header, data, profile, format=self.name)


class XlsxStrategy:
    """Any XLSX export: Banco General's by its sheet name or its header, any other by a profile."""

    name = "xlsx"
    kind = DocumentKind.BANK_STATEMENT
    uses_profiles = True

    def __init__(self, limits: IntakeLimits) -> None:
        self._limits = limits

    def recognises(self, content: bytes) -> bool:
        return content.startswith(b"PK\x03\x04") and b"xl/workbook.xml" in content[:1_000_000] + content[-65536:]

    def parse(self, content: bytes, context: IntakeContext) -> Parsed:
        archive = checked_zip(content, max_unzipped=self._limits.max_unzipped_bytes)
        try:
            workbook_xml = archive.read("xl/workbook.xml")
        except KeyError:
            raise UnreadableDocument("the file is a zip archive but not a workbook (no xl/workbook.xml)") from None
        banco_general = any(sheet in workbook_xml for sheet in BANCO_GENERAL_SHEETS)
        try:
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as error:  # noqa: BLE001 - openpyxl raises many kinds for a broken workbook
            raise UnreadableDocument(f"the workbook cannot be read: {str(error)[:200]}") from None
        try:
            sheet = workbook.worksheets[0]
            rows = ((number, row) for number, row in enumerate(sheet.iter_rows(values_only=True), start=1))
            profiles = (BANCO_GENERAL, *context.profiles)
            profile, header, titles, data = _split(rows, profiles, self._limits.max_rows)
        except UnreadableDocument:
            raise
        except Exception as error:  # noqa: BLE001
            raise UnreadableDocument(f"the workbook cannot be read: {str(error)[:200]}") from None
        finally:
            workbook.close()
        if profile is None:
            if banco_general:
                raise UnreadableDocument(
                    "a Banco General export without its header row (Fecha, Referencia, Transacción, Descripción, "
                    "Débito, Crédito, Saldo)"
                )
            return _unmatched(header)
        if profile is BANCO_GENERAL:
            number = self._account(titles)
            if number is None:
                raise UnreadableDocument("the Banco General export names no account number above its header")
            statement = read_table(header, data, profile, format="banco-general-xlsx")
            return replace(statement, account_number=number)
        return read_table(header, data, profile, format=self.name)

    @staticmethod
    def _account(titles: Sequence[Row]) -> str | None:
        for _, row in titles:
            for cell in row:
                match = _ACCOUNT.search(str(cell or ""))
                if match and sum(ch.isdigit() for ch in match.group(1)) >= 6:
                    return match.group(1)
        return None
