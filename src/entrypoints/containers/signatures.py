"""Signatures: the sealing identity (``ISTMO_SIGNING_CERT`` / ``ISTMO_SIGNING_KEY``, or in dev a
self-signed pair generated once under the data dir), the TSA (``ISTMO_TSA_URL``) and the limits."""

from __future__ import annotations

from typing import Any

import structlog
from dependency_injector import providers

from adapters.signing.certificate import SealingIdentity, configured_identity, dev_identity
from adapters.signing.images import PillowSignatureImages
from adapters.signing.pyhanko_sealer import PyHankoDocumentSealer, UnconfiguredSealer
from application.signatures.commands import SignaturePolicy
from entrypoints.config import ConfigurationError, Settings
from entrypoints.containers.base import DomainServices

log = structlog.get_logger(__name__)


def sealing_identity(settings: Settings) -> SealingIdentity | None:
    """The configured pair; in dev without one, the generated pair; in production without one, None
    (signing works, sealing is refused with SEALING_NOT_CONFIGURED; the start-up log says so)."""
    cert, key = settings.variables.text("SIGNING_CERT"), settings.variables.text("SIGNING_KEY")
    if bool(cert) != bool(key):
        raise ConfigurationError("ISTMO_SIGNING_CERT and ISTMO_SIGNING_KEY go together: set both")
    if cert and key:
        try:
            return configured_identity(cert, key, settings.variables.text("SIGNING_KEY_PASSWORD"))
        except (OSError, ValueError, TypeError) as error:
            raise ConfigurationError(f"the sealing certificate or key cannot be used: {error}") from None
    if settings.production:
        return None
    directory = settings.data_dir / "signing"
    log.info("signatures.dev_sealing_certificate", directory=str(directory))
    return dev_identity(directory)


def _sealer(settings: Settings) -> Any:
    identity = sealing_identity(settings)
    if identity is None:
        log.warning("signatures.sealing_not_configured", missing="ISTMO_SIGNING_CERT, ISTMO_SIGNING_KEY")
        return UnconfiguredSealer()
    timeout = settings.variables.duration("TSA_TIMEOUT", settings.pac_timeout).total_seconds()
    return PyHankoDocumentSealer(identity, tsa_url=settings.variables.text("TSA_URL"), timeout=timeout)


def _policy(settings: Settings) -> SignaturePolicy:
    return SignaturePolicy(
        public_url=settings.public_url,
        max_image_bytes=settings.variables.integer("SIGNATURES_MAX_IMAGE_BYTES", 1024 * 1024),
        max_image_side=settings.variables.integer("SIGNATURES_MAX_IMAGE_SIDE", 4000),
    )


class Services(DomainServices):
    settings = providers.Dependency(instance_of=Settings)

    document_sealer = providers.Singleton(_sealer, settings=settings)
    signature_policy = providers.Singleton(_policy, settings=settings)
    signature_images = providers.Singleton(PillowSignatureImages)

    exports = providers.Dict(
        document_sealer=document_sealer, signature_policy=signature_policy, signature_images=signature_images
    )
