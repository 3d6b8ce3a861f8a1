"""Deleting one record a command names: the same few steps for every kind of record."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from domain.shared.errors import NotFound
from domain.shared.model import parse_id

R = TypeVar("R")


def delete_named(
    uow: Any, id_text: str, *, what: str, find: Callable[[Any, str], R | None], delete: Callable[[Any, R], None]
) -> str:
    """In a transaction of ``uow``: the record ``id_text`` names (refused as ``id`` unless a valid
    id), deleted and committed; ``NotFound`` naming ``what`` when the tenant has none. Its id."""
    record_id = parse_id(id_text, field="id")
    with uow:
        record = find(uow, record_id)
        if record is None:
            raise NotFound(f"{what} {record_id} not found", field="id")
        delete(uow, record)
        uow.commit()
    return record_id
