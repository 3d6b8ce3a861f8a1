"""File edges the mutation run found unpinned (issue 20, ``make mutate``): the characters a name
loses (private-use, unassigned, line and paragraph separators), a name exactly at the cap kept as
given, a hidden-file name and a cut multi-byte extension, the events a file records, and the
content lock and the name-based type of a new upload."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.files.model import (
    EntityType,
    File,
    FileAdded,
    FileDeleted,
    FileLinked,
    fit_file_name,
    sanitize_file_name,
)
from domain.shared.errors import InvalidInput
from tests.unit.test_files_handlers import World, sha

NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
DIGEST = "ab" * 32


@pytest.mark.parametrize("char", ["\ue000", "\u0378", "\u2028", "\u2029", "\u200b", "\x07"])
def test_private_unassigned_separator_and_control_characters_become_spaces(char: str) -> None:
    assert sanitize_file_name(f"factura{char}enero.pdf") == "factura enero.pdf"


def test_a_name_that_fits_exactly_is_kept_as_given() -> None:
    name = "informe .pdf"  # a space before the dot: a cut would drop it, a name that fits keeps it
    assert fit_file_name(name, len(name.encode())) == name
    assert fit_file_name(name, len(name.encode()) - 1) == "informe.pdf"


def test_a_hidden_file_name_is_cut_as_a_stem_keeping_its_dot() -> None:
    assert fit_file_name("." + "x" * 300, 10) == "." + "x" * 9
    assert fit_file_name(".gitignore", 5) == ".giti"  # a short "extension" with no stem: still a stem


def test_an_extension_cut_inside_a_character_keeps_the_whole_characters() -> None:
    assert fit_file_name(" " * 10 + ".ññññ", 3) == "ñ"


def test_a_negative_size_is_refused_naming_it() -> None:
    with pytest.raises(InvalidInput) as refused:
        File.add(tenant_id="t", name="a.pdf", sha256=DIGEST, mime="application/pdf", size=-1, created_by=None, now=NOW)
    assert refused.value.field == "size"


def test_a_file_records_its_addition_links_and_deletion() -> None:
    file = File.add(tenant_id="t", name="a.pdf", sha256=DIGEST, mime="application/pdf", size=1, created_by="u", now=NOW)
    assert file.pull_events() == [FileAdded(tenant_id="t", file_id=file.id, sha256=DIGEST)]
    link = file.link(EntityType.INVOICE, "F-0001", now=NOW)
    assert link.created_at == NOW and (link.tenant_id, link.file_id) == ("t", file.id)
    assert file.pull_events() == [FileLinked(tenant_id="t", file_id=file.id, entity_type=EntityType.INVOICE,
                                             entity_id="F-0001")]
    file.delete()
    assert file.pull_events() == [FileDeleted(tenant_id="t", file_id=file.id, sha256=DIGEST)]


def test_a_new_upload_locks_its_content_and_is_typed_by_its_name_too() -> None:
    world = World()
    acme = world.tenant("acme")
    data = b"fecha,total\n2026-12-07,10.00\n"
    view = world.add(acme, data, name="ventas.csv")
    assert view.mime == "text/csv"
    assert (acme.tenant_id, sha(data)) in world.store.locked
