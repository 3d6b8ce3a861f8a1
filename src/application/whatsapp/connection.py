"""The tenant's WhatsApp Cloud API connection: its settings (the token and secrets sealed), and the
check every send makes first."""

from __future__ import annotations

from application.shared.actors import tenant_actor
from application.shared.ports import Clock, DuplicateEntry
from application.shared.secrets import SecretBox
from application.whatsapp.commands import ConnectWhatsapp, DisconnectWhatsapp, GetWhatsappConnection
from application.whatsapp.ports import WhatsappUnitOfWork
from application.whatsapp.views import WhatsappConnectionView, connection_view
from domain.shared.errors import Conflict, InvalidInput, PermissionDenied
from domain.shared.model import new_id
from domain.tenancy.model import Actor
from domain.whatsapp.connection import (
    ConnectionStatus,
    WhatsappConnection,
    parse_graph_id,
    secret_context,
    secret_digest,
)
from domain.whatsapp.errors import NeedsReauth, NotConnected, PhoneNumberIdTaken

MAX_SECRET = 2048


def connected(uow: WhatsappUnitOfWork) -> WhatsappConnection:
    connection = uow.whatsapp.connection()
    if connection is None:
        raise NotConnected("WhatsApp is not connected: an owner or admin runs connectWhatsapp first")
    if connection.status == ConnectionStatus.NEEDS_REAUTH:
        raise NeedsReauth(
            "the WhatsApp access token was refused (error 190): connect again with a new token (connectWhatsapp)"
        )
    return connection


def admin(actor: Actor | None) -> Actor:
    actor = tenant_actor(actor)
    if not actor.is_admin:
        raise PermissionDenied("only an owner or an admin may change the WhatsApp connection or templates")
    return actor


def _secret(value: object, *, field: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise InvalidInput(f"{field} is required", field=field)
    if len(text) > MAX_SECRET or any(ch.isspace() for ch in text):
        raise InvalidInput(f"{field} must be one word of at most {MAX_SECRET} characters", field=field)
    return text


class ConnectWhatsappHandler:
    def __init__(self, secrets: SecretBox, clock: Clock) -> None:
        self._secrets = secrets
        self._clock = clock

    def __call__(self, cmd: ConnectWhatsapp, uow: WhatsappUnitOfWork) -> WhatsappConnectionView:
        actor = admin(cmd.actor)
        phone_number_id = parse_graph_id(cmd.phone_number_id, field="phoneNumberId")
        waba_id = parse_graph_id(cmd.waba_id, field="wabaId")
        token = _secret(cmd.access_token, field="accessToken")
        app_secret = _secret(cmd.app_secret, field="appSecret")
        verify_token = _secret(cmd.verify_token, field="verifyToken")
        now = self._clock.now()
        with uow:
            taken = uow.whatsapp_directory.by_phone_number_id(phone_number_id)
            if taken is not None and taken.tenant_id != actor.tenant_id:
                raise PhoneNumberIdTaken(
                    f"phone number id {phone_number_id} is connected to another account", field="phoneNumberId"
                )
            digest = secret_digest(verify_token)
            clash = uow.whatsapp_directory.by_verify_token_digest(digest)
            if clash is not None and clash.tenant_id != actor.tenant_id:
                raise Conflict("choose another verifyToken (this one is in use)", field="verifyToken")
            connection = uow.whatsapp.connection()
            if connection is None:
                connection = WhatsappConnection(
                    id=new_id(), tenant_id=actor.tenant_id,
                    phone_number_id=phone_number_id, waba_id=waba_id, access_token_sealed="",
                    app_secret_sealed="", verify_token_sealed="", verify_token_digest=digest,
                    status=ConnectionStatus.CONNECTED, last_error=None, connected_at=now, updated_at=now,
                )
                uow.whatsapp.add_connection(connection)
            connection.phone_number_id = phone_number_id
            connection.waba_id = waba_id
            seal = self._secrets.seal
            context = lambda name: secret_context(actor.tenant_id, connection.id, name)  # noqa: E731
            connection.access_token_sealed = seal(token, context=context("access_token"))
            connection.app_secret_sealed = seal(app_secret, context=context("app_secret"))
            connection.verify_token_sealed = seal(verify_token, context=context("verify_token"))
            connection.verify_token_digest = digest
            connection.status = ConnectionStatus.CONNECTED
            connection.last_error = None
            connection.connected_at = now
            connection.updated_at = now
            try:
                uow.commit()
            except DuplicateEntry:
                raise PhoneNumberIdTaken(
                    f"phone number id {phone_number_id} (or this verify token) is in use by another account",
                    field="phoneNumberId",
                ) from None
            return connection_view(connection)


class DisconnectWhatsappHandler:
    def __call__(self, cmd: DisconnectWhatsapp, uow: WhatsappUnitOfWork) -> bool:
        admin(cmd.actor)
        with uow:
            connection = uow.whatsapp.connection()
            if connection is None:
                return False
            uow.whatsapp.delete_connection(connection)
            uow.commit()
            return True


class GetWhatsappConnectionHandler:
    def __call__(self, query: GetWhatsappConnection, uow: WhatsappUnitOfWork) -> WhatsappConnectionView | None:
        tenant_actor(query.actor)
        with uow:
            return uow.whatsapp_views.connection()
