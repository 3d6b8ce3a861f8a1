"""The Jinja sandbox documents are rendered in: immutable, autoescaped, and bounded.

``ImmutableSandboxedEnvironment`` already refuses ``_``-prefixed attributes (``__class__``,
``__mro__``, ``__globals__``), mutation of lists and dicts, and ranges over 100 000 items.
On top of it this sandbox

- refuses ``format``/``format_map`` (unbounded padding, attribute look-ups in format fields),
  raising instead of rendering an empty "unsafe undefined";
- intercepts ``*``, ``**``, ``+`` and ``%`` so no single operation builds a string or list of
  more than ``MAX_SEQUENCE`` items, an integer of more than ``MAX_INT_BITS`` bits, or a
  ``%`` format with huge widths (intercepted operators are also not folded at compile time);
- wraps the filters whose arguments set an output size (``center``, ``indent``, ``join``,
  ``replace``, ``wordwrap``, ``batch``, ``slice``, ``format``) with the same limits; these
  checks also protect compile time, when Jinja folds filters over constants;
- drops ``random`` (non-deterministic output) and ``lipsum``;
- stops the rendered text at ``max_chars`` (``render_bounded``).

Whatever slips past (say a loop of string doublings) is caught by the worker process limits:
wall-clock timeout and address-space cap.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from jinja2 import BaseLoader, Template, Undefined, pass_environment, pass_eval_context
from jinja2 import filters as jinja_filters
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from domain.pdf.errors import RenderTooLarge

MAX_SEQUENCE = 100_000  # characters of a string, or items of a list, built by one operation
MAX_INT_BITS = 4_096
MAX_FORMAT_WIDTH = 1_000
MAX_INDENT = 100
MAX_SLICES = 1_000

_UNSAFE_ATTRIBUTES = frozenset(
    {"format", "format_map", "mro", "gi_frame", "gi_code", "cr_frame", "f_globals"}
)
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?.")


def _check_length(size: int, what: str) -> None:
    if size > MAX_SEQUENCE:
        raise SecurityError(f"{what} would build {size} items; the limit is {MAX_SEQUENCE}")


def _check_percent_format(spec: str) -> None:
    for match in _PERCENT_SPEC.finditer(spec):
        for group in match.groups():
            if group == "*" or (group is not None and int(group) > MAX_FORMAT_WIDTH):
                raise SecurityError(f"format width or precision over {MAX_FORMAT_WIDTH} refused")


def _sized(value: Any) -> int | None:
    return len(value) if isinstance(value, (str, list, tuple, bytes)) else None


# --- bounded filters --------------------------------------------------------------------------


def _center(value: str, width: int = 80) -> str:
    if int(width) > MAX_FORMAT_WIDTH:
        raise SecurityError(f"center width over {MAX_FORMAT_WIDTH} refused")
    return jinja_filters.do_center(value, width)


def _indent(s: str, width: int | str = 4, first: bool = False, blank: bool = False) -> str:
    step = len(width) if isinstance(width, str) else int(width)
    if step > MAX_INDENT:
        raise SecurityError(f"indent over {MAX_INDENT} refused")
    return jinja_filters.do_indent(s, width, first, blank)


@pass_eval_context
def _join(eval_ctx: Any, value: Iterable[Any], d: str = "", attribute: str | int | None = None) -> str:
    items = list(value)
    if attribute is None:
        _check_length(sum(len(str(item)) for item in items) + len(str(d)) * len(items), "join")
    return jinja_filters.do_join(eval_ctx, items, d, attribute)


@pass_eval_context
def _replace(eval_ctx: Any, s: str, old: str, new: str, count: int | None = None) -> str:
    text, old, new = str(s), str(old), str(new)
    hits = (text.count(old) if old else len(text) + 1) if count is None else min(int(count), len(text) + 1)
    _check_length(len(text) + max(0, hits) * max(0, len(new) - len(old)), "replace")
    return jinja_filters.do_replace(eval_ctx, s, old, new, count)


@pass_environment
def _wordwrap(
    environment: Any,
    s: str,
    width: int = 79,
    break_long_words: bool = True,
    wrapstring: str | None = None,
    break_on_hyphens: bool = True,
) -> str:
    if int(width) < 1 or (wrapstring is not None and len(wrapstring) > 10):
        raise SecurityError("wordwrap width under 1 or a wrap string over 10 characters refused")
    return jinja_filters.do_wordwrap(environment, s, width, break_long_words, wrapstring, break_on_hyphens)


def _batch(value: Iterable[Any], linecount: int, fill_with: Any = None) -> Any:
    if int(linecount) > MAX_SEQUENCE:
        raise SecurityError(f"batch size over {MAX_SEQUENCE} refused")
    return jinja_filters.do_batch(value, linecount, fill_with)


def _slice(value: Any, slices: int, fill_with: Any = None) -> Any:
    if int(slices) > MAX_SLICES:
        raise SecurityError(f"slice count over {MAX_SLICES} refused")
    return jinja_filters.do_slice(value, slices, fill_with)


def _format(value: str, *args: Any, **kwargs: Any) -> str:
    _check_percent_format(str(value))
    return jinja_filters.do_format(value, *args, **kwargs)


class DocumentSandbox(ImmutableSandboxedEnvironment):
    """The one Jinja environment of document templates (built-in and tenant-written alike)."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(
        self,
        loader: BaseLoader | None = None,
        filters: Mapping[str, Callable[..., Any]] | None = None,
        cache_size: int = 64,
    ) -> None:
        super().__init__(
            loader=loader,
            autoescape=True,
            undefined=Undefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
            cache_size=cache_size,
        )
        self.globals.pop("lipsum", None)
        self.filters.pop("random", None)
        self.filters.update(
            center=_center,
            indent=_indent,
            join=_join,
            replace=_replace,
            wordwrap=_wordwrap,
            batch=_batch,
            slice=_slice,
            format=_format,
        )
        if filters:
            self.filters.update(filters)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if attr in _UNSAFE_ATTRIBUTES:
            return False
        return super().is_safe_attribute(obj, attr, value)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        # Jinja hands out a sandboxed ``str.format`` before it asks ``is_safe_attribute``; its
        # padding is unbounded ('{:>999999999}'), so both methods are refused outright.
        if super().wrap_str_format(value) is not None:
            raise SecurityError("str.format and str.format_map are not allowed in templates")
        return None

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        raise SecurityError(f"access to attribute {attribute!r} of a {type(obj).__name__} is not allowed")

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for sequence, times in ((left, right), (right, left)):
                size = _sized(sequence)
                if size is not None and isinstance(times, int):
                    _check_length(size * max(times, 0), "repetition")
        elif operator == "**":
            if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
                if abs(left).bit_length() * right > MAX_INT_BITS:
                    raise SecurityError(f"power over {MAX_INT_BITS} bits refused")
        elif operator == "+":
            left_size, right_size = _sized(left), _sized(right)
            if left_size is not None and right_size is not None:
                _check_length(left_size + right_size, "concatenation")
        elif operator == "%" and isinstance(left, str):
            _check_percent_format(left)
        return super().call_binop(context, operator, left, right)


def render_bounded(template: Template, context: Mapping[str, Any], max_chars: int) -> str:
    """Render ``template`` chunk by chunk, stopping with ``RenderTooLarge`` past ``max_chars``."""
    parts: list[str] = []
    size = 0
    for chunk in template.generate(context):
        size += len(chunk)
        if size > max_chars:
            raise RenderTooLarge(f"the template produced more than {max_chars} characters of HTML")
        parts.append(chunk)
    return "".join(parts)
