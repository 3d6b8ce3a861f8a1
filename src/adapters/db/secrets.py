"""Every column that holds a SecretBox-sealed value, and how ``istmo secrets rotate`` reseals them.

Each domain that seals something declares its ``SealedColumn``s in its ``DbModule`` (the table,
its key column, the sealed column, and the function of a row giving the context the value was
sealed with); ``SEALED_COLUMNS`` gathers them. Rotation: put a new key first in ``ISTMO_SECRET_KEYS`` (keep the old ones after it),
run ``istmo secrets rotate``, then drop the old keys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, func, select, update

from adapters.db.modules import DB_MODULES
from adapters.db.registry import SealedColumn
from application.shared.progress import Progress, no_progress
from application.shared.secrets import SecretBox, SecretUnreadable

__all__ = ["SEALED_COLUMNS", "RotationReport", "SealedColumn", "rotate_sealed_columns"]


@dataclass(slots=True, kw_only=True)
class RotationReport:
    resealed: dict[str, int] = field(default_factory=dict)
    """``table.column`` -> rows resealed under the primary key."""
    unreadable: dict[str, list[str]] = field(default_factory=dict)
    """``table.column`` -> keys of the rows that opened with none of the keys (left as they are)."""
    changed_meanwhile: int = 0
    """Rows rewritten by someone else between our read and our write (theirs kept: already current)."""


SEALED_COLUMNS: list[SealedColumn] = [column for module in DB_MODULES for column in module.sealed]


def rotate_sealed_columns(
    engine: Engine,
    box: SecretBox,
    columns: Sequence[SealedColumn] | None = None,
    *,
    batch_size: int = 500,
    progress: Progress = no_progress,
) -> RotationReport:
    """Reseal every value under the primary key, one batch per transaction; ``progress`` hears of
    every row checked (the total is counted first when someone listens).

    A row is rewritten only if its sealed value is still the one read (``UPDATE ... WHERE sealed =
    old``), so a token refreshed meanwhile is never overwritten with the old one. Plaintexts stay
    in memory only for the length of one ``reseal``; nothing is logged.
    """
    report = RotationReport()
    chosen = list(SEALED_COLUMNS if columns is None else columns)
    total = None if progress is no_progress else _sealed_rows(engine, chosen)
    checked = 0
    for column in chosen:
        name = f"{column.table.name}.{column.sealed_column}"
        report.resealed[name] = 0
        key = column.table.c[column.key_column]
        sealed = column.table.c[column.sealed_column]
        last: Any = None
        while True:
            query = select(column.table).where(sealed.is_not(None)).order_by(key).limit(batch_size)
            if last is not None:
                query = query.where(key > last)
            with engine.begin() as connection:
                rows = [dict(row._mapping) for row in connection.execute(query)]
                for row in rows:
                    _reseal_row(connection, box, column, row, report)
                    checked += 1
                    progress(checked, total, sum(report.resealed.values()))
            if len(rows) < batch_size:
                break
            last = rows[-1][column.key_column]
    return report


def _reseal_row(
    connection: Connection, box: SecretBox, column: SealedColumn, row: dict[str, Any], report: RotationReport
) -> None:
    name = f"{column.table.name}.{column.sealed_column}"
    key = column.table.c[column.key_column]
    sealed = column.table.c[column.sealed_column]
    old = row[column.sealed_column]
    try:
        new = box.reseal(old, context=column.context(row))
    except SecretUnreadable:
        report.unreadable.setdefault(name, []).append(str(row[column.key_column]))
        return
    result = connection.execute(
        update(column.table).where(key == row[column.key_column], sealed == old).values({column.sealed_column: new})
    )
    if result.rowcount:
        report.resealed[name] += 1
    else:
        report.changed_meanwhile += 1


def _sealed_rows(engine: Engine, columns: Sequence[SealedColumn]) -> int:
    """How many rows hold a sealed value (what a rotation will check; rows added meanwhile aside)."""
    with engine.connect() as connection:
        return sum(
            connection.execute(
                select(func.count())
                .select_from(column.table)
                .where(column.table.c[column.sealed_column].is_not(None))
            ).scalar_one()
            for column in columns
        )
