"""A tenant's WhatsApp Cloud API connection, its clients' numbers and its registered templates."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from domain.shared.errors import InvalidInput
from domain.shared.model import Aggregate, new_id
from domain.whatsapp.errors import TemplateParameterCount

MAX_PARAMETERS = 50
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_TEMPLATE_NAME = re.compile(r"^[a-z0-9_]{1,512}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:_[A-Z]{2})?$")
_GRAPH_ID = re.compile(r"^[0-9]{1,32}$")


def parse_graph_id(value: object, *, field: str) -> str:
    """A Graph API object id (phone number id, WABA id): digits only."""
    text = value.strip() if isinstance(value, str) else ""
    if not _GRAPH_ID.match(text):
        raise InvalidInput(f"{field} must be the numeric id Meta shows (digits only)", field=field)
    return text


def check_e164(value: str, *, field: str = "phone") -> str:
    if not _E164.match(value):
        raise InvalidInput(f"{field} is not an E.164 number (like +50761234567): {value[:40]!r}", field=field)
    return value


def secret_digest(secret: str) -> str:
    """How a verify token is looked up without keeping it in clear: its SHA-256, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


class ConnectionStatus(StrEnum):
    CONNECTED = "CONNECTED"
    NEEDS_REAUTH = "NEEDS_REAUTH"


class WhatsappConnection(Aggregate):
    """One per tenant. The token and secrets are kept sealed (the SecretBox of the application)."""

    def __init__(
        self,
        *,
        id: str,
        tenant_id: str,
        phone_number_id: str,
        waba_id: str,
        access_token_sealed: str,
        app_secret_sealed: str,
        verify_token_sealed: str,
        verify_token_digest: str,
        status: ConnectionStatus,
        last_error: str | None,
        connected_at: datetime,
        updated_at: datetime,
    ) -> None:
        self.id = id
        self.tenant_id = tenant_id
        self.phone_number_id = phone_number_id
        self.waba_id = waba_id
        self.access_token_sealed = access_token_sealed
        self.app_secret_sealed = app_secret_sealed
        self.verify_token_sealed = verify_token_sealed
        self.verify_token_digest = verify_token_digest
        self.status = status
        self.last_error = last_error
        self.connected_at = connected_at
        self.updated_at = updated_at

    def needs_reauth(self, reason: str, *, now: datetime) -> None:
        self.status = ConnectionStatus.NEEDS_REAUTH
        self.last_error = reason[:500]
        self.updated_at = now


def secret_context(tenant_id: str, connection_id: str, name: str) -> str:
    """What a sealed secret is bound to: a ciphertext copied to another row or column fails to open."""
    return f"whatsapp:{tenant_id}:{connection_id}:{name}"


class ClientWhatsapp:
    def __init__(self, *, id: str, tenant_id: str, client_id: str, phone: str, created_at: datetime) -> None:
        self.id = id
        self.tenant_id = tenant_id
        self.client_id = client_id
        self.phone = phone
        self.created_at = created_at

    @classmethod
    def create(cls, *, tenant_id: str, client_id: str, phone: str, now: datetime) -> ClientWhatsapp:
        return cls(id=new_id(), tenant_id=tenant_id, client_id=client_id, phone=check_e164(phone), created_at=now)


def parse_template_name(value: object, *, field: str = "template.name") -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not _TEMPLATE_NAME.match(text):
        raise InvalidInput(f"{field} must be a template name (lowercase letters, digits, _)", field=field)
    return text


def parse_language(value: object, *, field: str = "template.language") -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not _LANGUAGE.match(text):
        raise InvalidInput(f"{field} must be a language code like es, en_US or es_PA", field=field)
    return text


class WhatsappTemplate:
    """A template approved in the tenant's WhatsApp Manager, registered here with its shape, so a
    send with the wrong number of parameters is refused before the provider is called."""

    def __init__(
        self,
        *,
        id: str,
        tenant_id: str,
        name: str,
        language: str,
        body_parameters: int,
        document_header: bool,
        created_at: datetime,
    ) -> None:
        self.id = id
        self.tenant_id = tenant_id
        self.name = name
        self.language = language
        self.body_parameters = body_parameters
        self.document_header = document_header
        self.created_at = created_at

    @classmethod
    def create(
        cls,
        *,
        tenant_id: str,
        name: object,
        language: object,
        body_parameters: object,
        document_header: bool,
        now: datetime,
    ) -> WhatsappTemplate:
        if not isinstance(body_parameters, int) or not 0 <= body_parameters <= MAX_PARAMETERS:
            raise InvalidInput(f"bodyParameters must be between 0 and {MAX_PARAMETERS}", field="bodyParameters")
        return cls(
            id=new_id(),
            tenant_id=tenant_id,
            name=parse_template_name(name, field="name"),
            language=parse_language(language, field="language"),
            body_parameters=body_parameters,
            document_header=bool(document_header),
            created_at=now,
        )

    def check(self, parameters: Sequence[str], *, with_document: bool) -> None:
        if len(parameters) != self.body_parameters:
            raise TemplateParameterCount(
                f"template {self.name} ({self.language}) takes {self.body_parameters} body parameter(s), "
                f"not {len(parameters)}",
                field="template.parameters",
            )
        if with_document and not self.document_header:
            raise InvalidInput(
                f"template {self.name} ({self.language}) has no document header: it cannot carry a PDF",
                field="templateName",
            )
        if self.document_header and not with_document:
            raise InvalidInput(
                f"template {self.name} ({self.language}) has a document header: send it with sendPdfWhatsapp",
                field="template.name",
            )
