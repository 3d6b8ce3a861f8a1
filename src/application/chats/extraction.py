"""What other domains may ask of the AI assistant: read one stored file into a strict JSON schema.

Document intake (supplier invoices without a DGI QR) sends ``ExtractDocumentFields`` through the
bus (``deps.messages.handle(..., tenant_id=...)``); the chats module handles it with the tenant's
configured chat provider and answers ``ExtractedFields``. Without a chats module, or without a
provider configured for the tenant, the bus has no handler or the handler raises
``ExtractionUnavailable``: the caller records that and leaves the document for review.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from application.shared.messages import Command


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtractDocumentFields(Command):
    """Fill ``json_schema`` (a strict JSON Schema object) from the stored file ``file_id``."""

    file_id: UUID
    json_schema: dict[str, Any]
    instructions: str
    schema_name: str = "document"


@dataclass(frozen=True, slots=True)
class ExtractedFields:
    """The provider's answer, parsed as JSON and already checked against the schema's shape."""

    data: dict[str, Any]
    provider: str
    model: str
    usage: dict[str, int] = field(default_factory=dict)


class ExtractionUnavailable(Exception):
    """No provider is configured for the tenant, or the provider failed; the message says which."""
