"""A real SMTP server on loopback (aiosmtpd) for the SMTP sender's tests, the crash test and the bench.

``SmtpServer`` keeps every message it accepted (envelope and bytes), can answer a recipient or
the DATA command with a scripted reply (``421 ...``, ``550 ...``), and optionally speaks STARTTLS
or implicit TLS with a self-signed certificate for 127.0.0.1 (``cafile`` is its certificate) and
requires AUTH LOGIN/PLAIN with one user. It runs in a thread of the process that starts it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import socket
import ssl
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session, SMTP


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key (PEM files in ``folder``)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    session: int = 0  # which connection brought it (id of the server's session)

    @property
    def message(self) -> Any:
        return message_from_bytes(self.data, policy=default_policy)

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


Reply = Callable[[str], str | None]  # an address (RCPT) or "" (DATA) -> a reply, or None for the usual


@dataclass
class _Handler:
    received: list[Received] = field(default_factory=list)
    rcpt_reply: Reply | None = None
    data_reply: Callable[[bytes], str | None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    on_data: Callable[[Received], None] | None = None
    delay: float = 0.0  # seconds between keeping a message and answering 250 (a kill may land here)
    drop_after_data: bool = False  # keep the message, then hang up instead of answering

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any) -> str:  # noqa: N802
        reply = self.rcpt_reply(address) if self.rcpt_reply else None
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        data = bytes(envelope.content or b"")
        reply = self.data_reply(data) if self.data_reply else None
        if reply:
            return reply
        with self.lock:
            received = Received(
                mail_from=str(envelope.mail_from), rcpt_tos=list(envelope.rcpt_tos), data=data, session=id(session)
            )
            self.received.append(received)
            number = len(self.received)
        if self.on_data:
            self.on_data(received)
        if self.drop_after_data and server.transport is not None:
            server.transport.abort()
            return "250 OK (never heard)"
        if self.delay:
            await asyncio.sleep(self.delay)
        return f"250 2.0.0 Ok: queued as Q{number:06d}"


class SmtpServer:
    def __init__(
        self,
        *,
        folder: Path | None = None,
        tls: str = "none",  # "none" | "starttls" | "implicit"
        credentials: tuple[str, str] | None = None,
        port: int | None = None,
    ) -> None:
        self.handler = _Handler()
        self.port = port or free_port()
        self.cafile: Path | None = None
        kwargs: dict[str, Any] = {"enable_SMTPUTF8": True, "ident": "istmo-test-smtp"}
        context = None
        if tls != "none":
            assert folder is not None, "TLS needs a folder for the certificate"
            cert, key = self_signed(folder)
            self.cafile = cert
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(cert, key)
        if tls == "starttls":
            kwargs.update(tls_context=context, require_starttls=True)
        if credentials is not None:
            user, password = credentials

            def authenticator(server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
                ok = isinstance(data, LoginPassword) and (data.login.decode(), data.password.decode()) == (user, password)
                return AuthResult(success=ok, handled=False)

            kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=tls != "none")
        self._controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, ssl_context=context if tls == "implicit" else None,
            server_hostname="localhost", **kwargs,
        )

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._controller.stop()

    def url(self, scheme: str = "smtp", *, user: str | None = None, password: str | None = None, **query: str) -> str:
        auth = f"{user}:{password}@" if user else ""
        options = dict(query)
        if self.cafile:
            options.setdefault("cafile", str(self.cafile))
        text = "&".join(f"{k}={v}" for k, v in options.items())
        return f"{scheme}://{auth}127.0.0.1:{self.port}" + (f"?{text}" if text else "")

    @property
    def received(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    def counts_by_message_id(self) -> Counter[str]:
        return Counter(r.message_id for r in self.received)
