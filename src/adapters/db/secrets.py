"""Every column that holds a SecretBox-sealed value, and how ``istmo secrets rotate`` reseals them.

Each domain that seals something appends a ``SealedColumn`` to ``SEALED_COLUMNS`` (the table,
its key column, the sealed column, and the function of a row giving the context the value was
sealed with). Rotation: put a new key first in ``ISTMO_SECRET_KEYS`` (keep the old ones after it),
run ``istmo secrets rotate``, then drop the old keys.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, Table, select, update

from application.shared.secrets import SecretBox, SecretUnreadable


@dataclass(frozen=True, slots=True, kw_only=True)
class SealedColumn:
    table: Table
    key_column: str
    sealed_column: str
    context: Callable[[Mapping[str, Any]], str]
    """The context of a row (its mapping: column name -> value), as it was sealed."""


@dataclass(slots=True, kw_only=True)
class RotationReport:
    resealed: dict[str, int] = field(default_factory=dict)
    """``table.column`` -> rows resealed under the primary key."""
    unreadable: dict[str, list[str]] = field(default_factory=dict)
    """``table.column`` -> keys of the rows that opened with none of the keys (left as they are)."""
    changed_meanwhile: int = 0
    """Rows rewritten by someone else between our read and our write (theirs kept: already current)."""


def _registry() -> list[SealedColumn]:
    entries: list[SealedColumn] = []
    # the Aurinko connection's access token
    from adapters.db.integrations.aurinko.tables import aurinko_connections

    entries.append(
        SealedColumn(
            table=aurinko_connections,
            key_column="id",
            sealed_column="token_sealed",
            context=lambda row: f"aurinko:{row['tenant_id']}:{row['id']}",  # domain.integrations.aurinko.connection.token_context
        )
    )
    # a tenant's own SMTP URL
    from adapters.db.emails.tables import email_settings
    from domain.emails.model import smtp_secret_context

    entries.append(
        SealedColumn(
            table=email_settings,
            key_column="tenant_id",
            sealed_column="smtp_url_sealed",
            context=lambda row: smtp_secret_context(row["tenant_id"]),
        )
    )
    # the WhatsApp connection's token and secrets
    from adapters.db.whatsapp.tables import whatsapp_connections
    from domain.whatsapp.connection import secret_context

    for name in ("access_token", "app_secret", "verify_token"):
        entries.append(
            SealedColumn(
                table=whatsapp_connections,
                key_column="id",
                sealed_column=f"{name}_sealed",
                context=lambda row, name=name: secret_context(row["tenant_id"], row["id"], name),
            )
        )
    # the PAC settings' webhook secret and API key
    from adapters.db.invoicing.tables import pac_settings
    from domain.invoicing.pac import api_key_context, webhook_secret_context

    entries += [
        SealedColumn(
            table=pac_settings, key_column="tenant_id", sealed_column="webhook_secret_sealed",
            context=lambda row: webhook_secret_context(row["tenant_id"]),
        ),
        SealedColumn(
            table=pac_settings, key_column="tenant_id", sealed_column="api_key_sealed",
            context=lambda row: api_key_context(row["tenant_id"]),
        ),
    ]
    return entries


SEALED_COLUMNS: list[SealedColumn] = _registry()


def rotate_sealed_columns(
    engine: Engine,
    box: SecretBox,
    columns: Sequence[SealedColumn] | None = None,
    *,
    batch_size: int = 500,
) -> RotationReport:
    """Reseal every value under the primary key, one batch per transaction.

    A row is rewritten only if its sealed value is still the one read (``UPDATE ... WHERE sealed =
    old``), so a token refreshed meanwhile is never overwritten with the old one. Plaintexts stay
    in memory only for the length of one ``reseal``; nothing is logged.
    """
    report = RotationReport()
    for column in SEALED_COLUMNS if columns is None else columns:
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
                    old = row[column.sealed_column]
                    try:
                        new = box.reseal(old, context=column.context(row))
                    except SecretUnreadable:
                        report.unreadable.setdefault(name, []).append(str(row[column.key_column]))
                        continue
                    result = connection.execute(
                        update(column.table)
                        .where(key == row[column.key_column], sealed == old)
                        .values({column.sealed_column: new})
                    )
                    if result.rowcount:
                        report.resealed[name] += 1
                    else:
                        report.changed_meanwhile += 1
            if len(rows) < batch_size:
                break
            last = rows[-1][column.key_column]
    return report
