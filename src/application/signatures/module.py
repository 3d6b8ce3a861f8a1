"""The signatures module: signatures inside the tenant, requests to sign by link (sent through the
emails and WhatsApp domains), the public link's steps, sealing (the ``signatures.seal`` job) and
the evidence checks."""

from __future__ import annotations

from datetime import timedelta

from application.files.keeping import FileKeeper
from application.jobs.errors import PermanentJobError
from application.jobs.schedules import Schedule
from application.shared.modules import Dependencies, DomainModule, Registrations
from application.signatures import commands as c
from application.signatures import evidence as e
from application.signatures import links as k
from application.signatures import requests as r
from application.signatures import sealing as s
from application.signatures import signing as g
from domain.jobs.model import Job
from domain.shared.errors import DomainError

STAMP_JOB = "signatures.stamp_chain_heads"
"""Daily: each tenant's audit chain head, timestamped by the TSA (ISTMO_TSA_URL)."""


def register(deps: Dependencies) -> Registrations:
    storage, clock, policy = deps.storage, deps.clock, deps.signature_policy
    keeper = FileKeeper(storage, deps.mime, clock, deps.file_policy)
    sealer, factory = deps.document_sealer, deps.uow_factory

    def seal(job: Job) -> None:
        payload = job.payload
        if job.tenant_id is None or not payload.get("entity_type") or not payload.get("entity_id"):
            raise PermanentJobError("a signatures.seal job names a tenant and an entity")
        try:
            deps.messages.handle(
                c.SealSignedDocument(actor=None, tenant_id=job.tenant_id, entity_type=str(payload["entity_type"]),
                                     entity_id=str(payload["entity_id"])),
                tenant_id=job.tenant_id,
            )
        except DomainError as error:
            raise PermanentJobError(f"{error.code}: {error.message}") from None

    return Registrations(
        handlers={
            c.AddSignature: g.AddSignatureHandler(deps.messages, storage, keeper, clock, policy, deps.signature_images),
            c.RemoveSignature: g.RemoveSignatureHandler(clock),
            c.GetSignaturesForEntity: g.GetSignaturesForEntityHandler(),
            c.GetSignatureById: g.GetSignatureByIdHandler(),
            c.SendSignatureApproval: r.SendSignatureApprovalHandler(deps.messages, clock, policy),
            c.CancelSignatureRequest: r.CancelSignatureRequestHandler(clock),
            c.FindSignatureRequests: r.FindSignatureRequestsHandler(clock, policy),
            c.OpenSigningLink: k.OpenSigningLinkHandler(factory, clock),
            c.ReadSigningDocument: k.ReadSigningDocumentHandler(factory, clock, storage),
            c.SignByLink: k.SignByLinkHandler(factory, clock, storage, keeper, policy, deps.signature_images),
            c.DeclineByLink: k.DeclineByLinkHandler(factory, clock),
            c.SealSignedDocument: s.SealSignedDocumentHandler(sealer, storage, keeper, clock),
            c.VerifySignatureAuditChain: e.VerifySignatureAuditChainHandler(),
            c.VerifyTenantChain: e.VerifyTenantChainHandler(factory),
            c.VerifySignedDocument: e.VerifySignedDocumentHandler(sealer, storage),
            c.VerifyPdfSeal: e.VerifyPdfSealHandler(sealer),
            c.TimestampChainHeads: e.TimestampChainHeadsHandler(sealer, factory, clock),
        },
        jobs={g.SEAL_JOB: seal, STAMP_JOB: lambda job: deps.messages.handle(c.TimestampChainHeads(actor=None))},
        schedules=[Schedule(kind=STAMP_JOB, interval=timedelta(days=1))],
    )


MODULE = DomainModule(
    name="signatures",
    needs=(
        "uow_factory", "storage", "mime", "clock", "file_policy", "signature_policy", "document_sealer",
        "signature_images",
    ),
    requires=("files", "pdf", "emails", "whatsapp"),
    register=register,
)
