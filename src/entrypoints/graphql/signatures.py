"""GraphQL of signatures: apply, revoke and read signatures; requests to sign; seal and verify."""

from __future__ import annotations

from typing import Any

from ariadne import MutationType, ObjectType, QueryType
from graphql import GraphQLResolveInfo

from application.files.commands import GetFile
from application.files.staging import StagedBlob
from application.signatures.commands import (
    AddSignature,
    CancelSignatureRequest,
    FindSignatureRequests,
    GetSignatureById,
    GetSignaturesForEntity,
    RemoveSignature,
    SealSignedDocument,
    SendSignatureApproval,
    VerifySignatureAuditChain,
    VerifySignedDocument,
)
from application.signatures.views import DocumentVerification
from domain.shared.errors import InvalidInput
from entrypoints.graphql.api import RENDER, SEND, ApiDomain
from entrypoints.graphql.common import actor, bus, business_result

query = QueryType()
mutation = MutationType()
verification_type = ObjectType("DocumentVerification")


def _upload(value: Any, field: str) -> StagedBlob | None:
    if value is None:
        return None
    if not isinstance(value, StagedBlob):
        raise InvalidInput(f"{field} must be a file part of a multipart request", field=field)
    return value


def _entity(entity: dict[str, Any]) -> dict[str, str]:
    return {"entity_type": entity.get("entity_type") or "", "entity_id": entity.get("entity_id") or ""}


@query.field("getSignaturesForEntity")
@business_result(signatures=[], current_sha256=None, sealed_file=None)
def resolve_get_signatures_for_entity(_: Any, info: GraphQLResolveInfo, entity_type: str, entity_id: str) -> dict[str, Any]:
    found = bus(info).handle(GetSignaturesForEntity(actor=actor(info), entity_type=entity_type, entity_id=entity_id))
    sealed = (
        bus(info).handle(GetFile(actor=actor(info), file_id=found.sealed_file_id)) if found.sealed_file_id else None
    )
    return {"signatures": list(found.signatures), "current_sha256": found.current_sha256, "sealed_file": sealed}


@query.field("getSignatureById")
@business_result(signature=None)
def resolve_get_signature_by_id(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
    return {"signature": bus(info).handle(GetSignatureById(actor=actor(info), signature_id=id))}


@query.field("signatureRequests")
@business_result(signature_requests=[])
def resolve_signature_requests(
    _: Any, info: GraphQLResolveInfo, status: str | None = None, first: int | None = None
) -> dict[str, Any]:
    found = bus(info).handle(FindSignatureRequests(actor=actor(info), status=status, first=first))
    return {"signature_requests": found}


@query.field("verifySignatureAuditChain")
@business_result(check=None)
def resolve_verify_chain(_: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
    return {"check": bus(info).handle(VerifySignatureAuditChain(actor=actor(info)))}


@query.field("verifySignedDocument")
@business_result(verification=None)
def resolve_verify_signed_document(
    _: Any, info: GraphQLResolveInfo, file: Any = None, file_id: str | None = None
) -> dict[str, Any]:
    content = _upload(file, "file")
    return {"verification": bus(info).handle(VerifySignedDocument(actor=actor(info), file_id=file_id, content=content))}


@verification_type.field("status")
def resolve_verification_status(found: DocumentVerification, _info: GraphQLResolveInfo) -> str:
    return "VALID" if found.check.intact and found.check.trusted else "INVALID"


for name in ("intact", "trusted"):
    verification_type.set_field(name, lambda found, _info, name=name: getattr(found.check, name))
verification_type.set_field("reason", lambda found, _info: found.check.problem)
verification_type.set_field("sealedBy", lambda found, _info: found.check.sealed_by)
verification_type.set_field("sealedAt", lambda found, _info: found.check.sealed_at)
verification_type.set_field("timestampedAt", lambda found, _info: found.check.timestamped_at)


@mutation.field("addSignature")
@business_result(signature=None)
def resolve_add_signature(
    _: Any,
    info: GraphQLResolveInfo,
    entity: dict[str, Any],
    image: Any = None,
    image_file_id: str | None = None,
    signer_name: str | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    command = AddSignature(
        actor=actor(info), **_entity(entity), image=_upload(image, "image"), image_file_id=image_file_id,
        signer_name=signer_name, reason=reason,
    )
    return {"signature": bus(info).handle(command)}


@mutation.field("removeSignature")
@business_result(signature=None)
def resolve_remove_signature(_: Any, info: GraphQLResolveInfo, id: str, reason: str) -> dict[str, Any]:
    return {"signature": bus(info).handle(RemoveSignature(actor=actor(info), signature_id=id, reason=reason))}


def _sent(info: GraphQLResolveInfo, command: SendSignatureApproval) -> dict[str, Any]:
    sent = bus(info).handle(command)
    return {"signature_request": sent.request, "link": sent.link}


@mutation.field("sendSignatureApprovalEmail")
@business_result(signature_request=None, link=None)
def resolve_send_email(
    _: Any, info: GraphQLResolveInfo, entity: dict[str, Any], recipient_email: str, recipient_name: str,
    message: str | None = None, expires_in: int | None = None, locale: str | None = None,
) -> dict[str, Any]:
    return _sent(info, SendSignatureApproval(
        actor=actor(info), channel="EMAIL", **_entity(entity), recipient_email=recipient_email,
        recipient_name=recipient_name, message=message, expires_in=expires_in, locale=locale,
    ))


@mutation.field("sendSignatureApprovalWhatsapp")
@business_result(signature_request=None, link=None)
def resolve_send_whatsapp(
    _: Any, info: GraphQLResolveInfo, entity: dict[str, Any], recipient_phone: str, recipient_name: str,
    message: str | None = None, expires_in: int | None = None, template: str | None = None,
    locale: str | None = None,
) -> dict[str, Any]:
    return _sent(info, SendSignatureApproval(
        actor=actor(info), channel="WHATSAPP", **_entity(entity), recipient_phone=recipient_phone,
        recipient_name=recipient_name, message=message, expires_in=expires_in, whatsapp_template=template,
        locale=locale,
    ))


@mutation.field("cancelSignatureRequest")
@business_result(signature_request=None, link=None)
def resolve_cancel(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
    return {"signature_request": bus(info).handle(CancelSignatureRequest(actor=actor(info), request_id=id)), "link": None}


@mutation.field("sealSignedDocument")
@business_result(file=None)
def resolve_seal(_: Any, info: GraphQLResolveInfo, entity: dict[str, Any]) -> dict[str, Any]:
    return {"file": bus(info).handle(SealSignedDocument(actor=actor(info), **_entity(entity)))}


API = ApiDomain(
    [query, mutation, verification_type],
    sdl=("signatures.graphql",),
    costs={
        "Mutation": {
            "addSignature": RENDER, "sendSignatureApprovalEmail": RENDER + SEND,
            "sendSignatureApprovalWhatsapp": RENDER + SEND, "sealSignedDocument": RENDER,
        },
        "Query": {"verifySignedDocument": RENDER, "verifySignatureAuditChain": RENDER},
    },
)
