"""The sealing identity from configuration: a configured pair (a path or the PEM itself), the dev
pair generated once under the data dir, production without one (sealing refused, signing works),
and each misconfiguration refused at start naming the variables."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from adapters.signing.certificate import self_signed_identity
from adapters.signing.pyhanko_sealer import PyHankoDocumentSealer, UnconfiguredSealer
from application.signatures.ports import CompletionCertificate
from domain.signatures.errors import SealingNotConfigured
from entrypoints.config import ConfigurationError, Settings
from entrypoints.containers.signatures import _sealer, sealing_identity

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def settings(tmp_path: Path, **variables: str) -> Settings:
    env = {"ISTMO_DATA_DIR": str(tmp_path), "ISTMO_JWT_SECRET": "j" * 40, "ISTMO_SIGNING_SECRET": "s" * 40,
           **{f"ISTMO_{k}": v for k, v in variables.items()}}
    if variables.get("ENV") == "production":
        env["ISTMO_SECRET_KEYS"] = "x6Jm9jIrY8mJ0bH8wzG3cbNyrS7l2z2o0q3R3vBqv9E="
    return Settings.from_env(env)


def test_dev_generates_one_pair_under_the_data_dir_and_keeps_it(tmp_path: Path) -> None:
    first = sealing_identity(settings(tmp_path))
    again = sealing_identity(settings(tmp_path))
    assert first is not None and again is not None and first.cert_pem == again.cert_pem
    key = tmp_path / "signing" / "sealing-key.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert "key_pem" not in repr(first) and "PRIVATE" not in repr(first)


def test_a_configured_pair_is_read_from_paths_or_inline_pem(tmp_path: Path) -> None:
    identity = self_signed_identity("Operator sealing")
    (tmp_path / "c.pem").write_bytes(identity.cert_pem)
    (tmp_path / "k.pem").write_bytes(identity.key_pem)
    by_path = sealing_identity(settings(tmp_path, SIGNING_CERT=str(tmp_path / "c.pem"), SIGNING_KEY=str(tmp_path / "k.pem")))
    inline = sealing_identity(settings(tmp_path, SIGNING_CERT=identity.cert_pem.decode(), SIGNING_KEY=identity.key_pem.decode()))
    assert by_path is not None and inline is not None and by_path.cert_pem == inline.cert_pem == identity.cert_pem
    assert not (tmp_path / "signing").exists()  # nothing generated when configured


def test_production_without_a_pair_signs_but_refuses_to_seal(tmp_path: Path) -> None:
    sealer = _sealer(settings(tmp_path, ENV="production"))
    assert isinstance(sealer, UnconfiguredSealer)
    with pytest.raises(SealingNotConfigured, match="ISTMO_SIGNING_CERT"):
        sealer.seal(b"%PDF", [], CompletionCertificate(document_name="d", source_sha256="0" * 64, signers=(),
                                                       chain_seq=0, chain_head="0" * 64, completed_at=NOW))
    assert not sealer.verify(b"%PDF").intact
    assert isinstance(_sealer(settings(tmp_path)), PyHankoDocumentSealer)


def _without_non_repudiation() -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "No NR")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(NOW).not_valid_after(NOW + dt.timedelta(days=1))
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


def test_misconfigurations_are_refused_at_start_naming_what_is_wrong(tmp_path: Path) -> None:
    one, other = self_signed_identity("one"), self_signed_identity("other")
    with pytest.raises(ConfigurationError, match="go together"):
        sealing_identity(settings(tmp_path, SIGNING_CERT=one.cert_pem.decode()))
    with pytest.raises(ConfigurationError, match="does not match"):
        sealing_identity(settings(tmp_path, SIGNING_CERT=one.cert_pem.decode(), SIGNING_KEY=other.key_pem.decode()))
    cert, key = _without_non_repudiation()
    with pytest.raises(ConfigurationError, match="non-repudiation"):
        sealing_identity(settings(tmp_path, SIGNING_CERT=cert.decode(), SIGNING_KEY=key.decode()))
    with pytest.raises(ConfigurationError, match="cannot be used"):
        sealing_identity(settings(tmp_path, SIGNING_CERT=str(tmp_path / "missing.pem"), SIGNING_KEY="x"))
