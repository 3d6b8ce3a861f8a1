"""Signatures' persistence in the unit of work: tenant-bound repositories, and the link lookup
(``signing_links``) that finds a link's tenant from its token hash across tenants."""

from __future__ import annotations

from adapters.db.registry import Binding, DbModule, Repository
from adapters.db.signatures.repositories import (
    SqlAlchemyAuditLog,
    SqlAlchemyChainHeads,
    SqlAlchemySealRepository,
    SqlAlchemySignatureRepository,
    SqlAlchemySignatureRequestRepository,
    SqlAlchemySigningLinks,
)
from adapters.db.signatures.tables import map_classes

DB_MODULE = DbModule(
    name="signatures",
    map_classes=map_classes,
    repositories={
        "signatures": Repository(lambda s: SqlAlchemySignatureRepository(s.session, s.tenant, s.seen)),
        "signature_requests": Repository(lambda s: SqlAlchemySignatureRequestRepository(s.session, s.tenant, s.seen)),
        "signature_seals": Repository(lambda s: SqlAlchemySealRepository(s.session, s.tenant, s.seen)),
        "signature_audit": Repository(lambda s: SqlAlchemyAuditLog(s.session, s.tenant, s.clock)),
        "signing_links": Repository(lambda s: SqlAlchemySigningLinks(s.session), Binding.ANY),
        "signature_chain_heads": Repository(lambda s: SqlAlchemyChainHeads(s.session), Binding.SYSTEM),
    },
)
