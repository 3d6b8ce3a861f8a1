"""``EmailTemplateRenderer`` in the documents' Jinja sandbox (``adapters.pdf.sandbox``).

The HTML body is autoescaped; subject and text are rendered by a twin environment without
autoescaping (they are not HTML). On top of the sandbox's limits, ``range`` is budgeted per
render (at most ``MAX_RANGE_ITEMS`` items in all), so nested loops cannot spin a worker: email
templates render in the worker or request process, not in the PDF render processes.
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping
from typing import Any

from jinja2 import Template, TemplateSyntaxError
from jinja2.exceptions import SecurityError

from adapters.pdf.sandbox import DocumentSandbox, render_bounded
from domain.pdf.errors import RenderFailed, RenderTooLarge, TemplateInvalid

MAX_TEMPLATE_CHARS = 100_000
MAX_OUTPUT_CHARS = 1_000_000
MAX_RANGE_ITEMS = 10_000

_budget: contextvars.ContextVar[list[int]] = contextvars.ContextVar("email_template_range_budget")


def _budgeted_range(*args: int) -> range:
    items = range(*args)
    budget = _budget.get(None)
    if budget is not None:
        budget[0] -= len(items)
        if budget[0] < 0:
            raise SecurityError(f"loops over more than {MAX_RANGE_ITEMS} items in all are refused")
    return items


class SandboxEmailTemplateRenderer:
    def __init__(self) -> None:
        self._html = DocumentSandbox()
        self._text = DocumentSandbox()
        self._text.autoescape = False
        for env in (self._html, self._text):
            env.globals["range"] = _budgeted_range

    def _compile(self, source: str, *, field: str, html: bool) -> Template:
        if len(source) > MAX_TEMPLATE_CHARS:
            raise TemplateInvalid(f"{field} is longer than {MAX_TEMPLATE_CHARS} characters", field=field)
        try:
            return (self._html if html else self._text).from_string(source)
        except TemplateSyntaxError as error:
            line = error.lineno
            raise TemplateInvalid(f"{field} line {line}: {error.message}", field=field, line=line) from None
        except RecursionError:
            raise TemplateInvalid(f"{field} is nested too deeply", field=field) from None

    def check(self, source: str, *, field: str) -> None:
        self._compile(source, field=field, html=True)

    def render(self, source: str, context: Mapping[str, Any], *, field: str, html: bool) -> str:
        template = self._compile(source, field=field, html=html)
        token = _budget.set([MAX_RANGE_ITEMS])
        try:
            return render_bounded(template, context, MAX_OUTPUT_CHARS)
        except RenderTooLarge as error:
            raise RenderTooLarge(f"{field}: {error.message}", field=field) from None
        except SecurityError as error:
            raise RenderFailed(f"{field}: {error}", field=field) from None
        except RecursionError:
            raise RenderFailed(f"{field}: recursion too deep", field=field) from None
        except Exception as error:  # a template error at run time (undefined call, type error, ...)
            raise RenderFailed(f"{field}: {type(error).__name__}: {error}", field=field) from None
        finally:
            _budget.reset(token)
