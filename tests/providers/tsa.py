"""An RFC 3161 time-stamping authority on a ``ProviderServer``: POST a DER ``TimeStampReq``
(``application/timestamp-query``), get a DER ``TimeStampResp`` (``application/timestamp-reply``),
signed by pyHanko's ``DummyTimeStamper`` under a TSA certificate made for the test (with the
critical timeStamping extended key usage)."""

from __future__ import annotations

import datetime as dt

from asn1crypto import keys, pem, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

from tests.providers.server import ProviderServer, Recorded, Reply


def tsa_identity() -> tuple[asn1_x509.Certificate, keys.PrivateKeyInfo]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # DummyTimeStamper signs with RSA
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA")])
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=30))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    der_cert = cert.public_bytes(serialization.Encoding.DER)
    der_key = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return asn1_x509.Certificate.load(der_cert), keys.PrivateKeyInfo.load(der_key)


def serve_tsa(server: ProviderServer, path: str = "/tsa") -> asn1_x509.Certificate:
    """Answer RFC 3161 requests at ``path``; the TSA's certificate."""
    cert, key = tsa_identity()
    stamper = DummyTimeStamper(tsa_cert=cert, tsa_key=key)

    def answer(request: Recorded) -> Reply:
        if request.header("Content-Type") != "application/timestamp-query":
            return Reply(400, b"expected application/timestamp-query")
        response = stamper.request_tsa_response(tsp.TimeStampReq.load(request.body))
        return Reply(200, response.dump(), {"Content-Type": "application/timestamp-reply"})

    server.route("POST", path, answer)
    return cert


__all__ = ["pem", "serve_tsa"]
