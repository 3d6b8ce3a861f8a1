"""Domain errors of PDF rendering, each with a stable ``code`` the entrypoints map."""

from __future__ import annotations

from domain.shared.errors import DomainError, InvalidInput


class TemplateInvalid(InvalidInput):
    """A custom body template or CSS does not compile; ``line`` is 1-based where known."""

    code = "TEMPLATE_INVALID"

    def __init__(self, message: str, *, field: str | None = None, line: int | None = None) -> None:
        super().__init__(message, field=field)
        self.line = line


class RenderFailed(DomainError):
    """The document could not be rendered (a template error at run time, an unsafe operation)."""

    code = "RENDER_FAILED"


class RenderTimeout(RenderFailed):
    """The render ran past its wall-clock budget and was stopped."""

    code = "RENDER_TIMEOUT"


class RenderTooLarge(RenderFailed):
    """The render hit a size limit: memory, HTML or PDF bytes, pages or nesting depth."""

    code = "RENDER_LIMIT"


class RendererBusy(DomainError):
    """The tenant already has its share of the renderer busy (or no worker freed up in time): retry soon."""

    code = "RENDER_BUSY"
