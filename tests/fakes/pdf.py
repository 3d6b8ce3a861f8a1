"""A ``PdfRenderer`` for unit tests: deterministic bytes from its inputs, and a minimal template check.

The bytes start like a PDF (so the files domain sniffs ``application/pdf``) and carry a digest
of the document, the layout and the assets: the same inputs give the same bytes, different
inputs different bytes. ``check_template`` refuses what it can see without Jinja or a CSS
parser: unclosed ``{{ }}``, ``{% %}`` and ``{# #}``, block tags left open or closed without
being opened, a ``}`` closing nothing in CSS and a CSS rule without a block at the end.
``tests/integration/test_pdf_renderer_contract.py`` runs the same assertions on this fake and
on ``WeasyPrintPdfRenderer``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

from application.pdf.documents import PdfAsset, PdfDocument, PdfLayout
from domain.pdf.errors import TemplateInvalid
from domain.shared.errors import DomainError

_BLOCK_TAGS = frozenset({"if", "for", "block", "macro", "call", "filter", "with", "raw", "autoescape"})
_TAG = re.compile(r"\{%-?\s*(\w+)")
_DELIMITERS = {"{{": "}}", "{%": "%}", "{#": "#}"}


class FakePdfRenderer:
    def __init__(self) -> None:
        self.renders: list[tuple[PdfDocument, PdfLayout, dict[str, PdfAsset]]] = []
        self.tenants: list[str | None] = []  # whose each render was (the fair share's key)
        self.fail_with: DomainError | None = None

    def render(
        self, document: PdfDocument, layout: PdfLayout, assets: Mapping[str, PdfAsset], *, tenant_id: str | None = None
    ) -> bytes:
        if self.fail_with is not None:
            raise self.fail_with
        self.tenants.append(tenant_id)
        self.check_template(layout.custom_body_template, layout.custom_css)
        self.renders.append((document, layout, dict(assets)))
        described = repr(
            (
                document,
                layout,
                sorted((name, a.name, a.mime, hashlib.sha256(a.data).hexdigest()) for name, a in assets.items()),
            )
        )
        digest = hashlib.sha256(described.encode()).hexdigest()
        return f"%PDF-1.7\n% fake render {type(document).__name__} {digest}\n%%EOF\n".encode()

    def check_template(self, body_template: str | None, custom_css: str | None) -> None:
        if body_template:
            _check_body(body_template)
        if custom_css:
            _check_css(custom_css)


def _invalid(field: str, line: int, what: str) -> TemplateInvalid:
    return TemplateInvalid(f"{field} line {line}: {what}", field=field, line=line)


def _check_body(source: str) -> None:
    field = "customBodyTemplate"
    open_blocks: list[str] = []
    position = 0
    while (start := _next_opening(source, position)) >= 0:
        opening = source[start : start + 2]
        end = source.find(_DELIMITERS[opening], start + 2)
        line = source.count("\n", 0, start) + 1
        if end < 0:
            raise _invalid(field, line, f"{opening} is never closed with {_DELIMITERS[opening]}")
        tag = _TAG.match(source, start)
        if opening == "{%" and tag:
            name = tag.group(1)
            if name in _BLOCK_TAGS or (name == "set" and "=" not in source[start:end]):
                open_blocks.append(name)
            elif name.startswith("end"):
                if not open_blocks or open_blocks[-1] != name[3:]:
                    raise _invalid(field, line, f"unexpected {name}")
                open_blocks.pop()
        position = end + 2
    if open_blocks:
        raise _invalid(field, source.count("\n") + 1, f"{open_blocks[-1]} is never closed")


def _next_opening(source: str, position: int) -> int:
    found = [index for opening in _DELIMITERS if (index := source.find(opening, position)) >= 0]
    return min(found, default=-1)


def _check_css(css: str) -> None:
    field = "customCss"
    depth, line = 0, 1
    prelude_line: int | None = None  # where the rule being read at the top level started
    at_rule = False
    index = 0
    while index < len(css):
        ch = css[index]
        if css.startswith("/*", index):
            end = css.find("*/", index + 2)
            end = len(css) if end < 0 else end + 2
            line += css.count("\n", index, end)
            index = end
            continue
        if ch == "\n":
            line += 1
        elif ch in "\"'":
            end = css.find(ch, index + 1)
            end = len(css) if end < 0 else end
            line += css.count("\n", index, end)
            index = end
        elif ch == "{":
            depth += 1
            prelude_line = None
        elif ch == "}":
            if depth == 0:
                raise _invalid(field, line, "invalid rule (a } that closes nothing)")
            depth -= 1
        elif ch == ";" and depth == 0 and at_rule:
            prelude_line = None  # the end of an at-rule such as @import
        elif depth == 0 and not ch.isspace() and prelude_line is None:
            prelude_line, at_rule = line, ch == "@"
        index += 1
    if prelude_line is not None:
        raise _invalid(field, prelude_line, "invalid rule (a selector without a { } block)")
