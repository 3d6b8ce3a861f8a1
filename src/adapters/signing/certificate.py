"""The instance's sealing key and certificate: operator configuration (PEM), or in dev a
self-signed pair generated once under the data dir. The private key is read into memory only;
it is never logged or returned."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True, slots=True)
class SealingIdentity:
    cert_pem: bytes
    key_pem: bytes = field(repr=False)
    key_password: bytes | None = field(default=None, repr=False)


def _pem(value: str) -> bytes:
    """A PEM given inline (``-----BEGIN ...``) or the path of a PEM file."""
    text = value.strip()
    if text.startswith("-----BEGIN"):
        return text.encode() + b"\n"
    return Path(text).expanduser().read_bytes()


def configured_identity(cert: str, key: str, password: str | None = None) -> SealingIdentity:
    identity = SealingIdentity(_pem(cert), _pem(key), password.encode() if password else None)
    check_identity(identity)
    return identity


def check_identity(identity: SealingIdentity) -> None:
    """The key must match the certificate, and the certificate allow non-repudiation."""
    certificate = x509.load_pem_x509_certificate(identity.cert_pem)
    key = serialization.load_pem_private_key(identity.key_pem, password=identity.key_password)
    if key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != certificate.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo):
        raise ValueError("the sealing key does not match the sealing certificate")
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        raise ValueError("the sealing certificate has no key usage; it needs non-repudiation") from None
    if not usage.content_commitment:
        raise ValueError("the sealing certificate lacks the non-repudiation (content commitment) key usage")


def self_signed_identity(common_name: str, *, days: int = 3650, now: dt.datetime | None = None) -> SealingIdentity:
    """A new P-256 key and its self-signed certificate with digital signature and non-repudiation."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Istmo"),
    ])
    start = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(minutes=5)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=True, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=True, crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return SealingIdentity(
        cert_pem=certificate.public_bytes(serialization.Encoding.PEM),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )


def dev_identity(directory: Path) -> SealingIdentity:
    """The dev instance's self-signed pair under ``directory`` (generated on first use, key mode 0600)."""
    cert_path, key_path = directory / "sealing-cert.pem", directory / "sealing-key.pem"
    if cert_path.is_file() and key_path.is_file():
        return SealingIdentity(cert_path.read_bytes(), key_path.read_bytes())
    directory.mkdir(parents=True, exist_ok=True)
    identity = self_signed_identity("Istmo development sealing (self-signed)")
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(identity.key_pem)
    cert_path.write_bytes(identity.cert_pem)
    return identity
