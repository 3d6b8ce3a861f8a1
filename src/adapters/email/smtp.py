"""``SmtpEmailSender``: one SMTP transaction per message, STARTTLS or implicit TLS.

The server is named by a URL (``ISTMO_SMTP_URL``, or a tenant's own):

    smtp://user:password@mail.example.com:587      STARTTLS, required (the default; port 587)
    smtps://user:password@mail.example.com:465     implicit TLS (port 465)
    smtp://relay.internal:25?starttls=false        plain SMTP (a local relay only)

Query options: ``from`` (the envelope and From address when the message names none),
``timeout`` (seconds, default 30), ``cafile`` (a CA bundle to trust instead of the system's).
User and password are percent-decoded; they never appear in an error, a log line or a response.

Outcomes: the server's reply decides. 2xx: sent (``queued as <id>`` becomes the provider
message id). 4xx, a dropped connection or a timeout: ``DeliveryDeferred`` (tried again later).
5xx: ``DeliveryRejected``. A connection lost after the whole message went out (before the server's
answer to the final ".") is ``DeliveryOutcomeUnknown``: the message may have been accepted, so it
becomes UNCERTAIN instead of being sent again. If some recipients are refused and others accepted, the message is
sent to those accepted and the refused ones are named in the response (never sent twice to the
others). The Message-ID header is the one of the message: the same on every attempt.
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from adapters.egress.policy import EgressPolicy, EgressRefused
from adapters.email.mime import ascii_address, build_mime, needs_smtputf8
from application.deliveries.ports import DeliveryDeferred, DeliveryOutcomeUnknown, DeliveryRejected, Receipt
from application.emails.ports import OutgoingEmail
from domain.shared.errors import InvalidInput

_DOT_LINE = re.compile(rb"(?m)^\.")
_QUEUED_AS = re.compile(r"queued as\s+<?([A-Za-z0-9._@-]+)>?", re.IGNORECASE)


class SmtpUrlInvalid(ValueError):
    """The SMTP URL cannot be used; the message never contains the password."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # "starttls" | "tls" | "none"
    username: str | None = None
    password: str | None = None
    from_address: str | None = None
    timeout: float = 30.0
    cafile: str | None = None

    def __repr__(self) -> str:  # never the password
        return f"SmtpSettings({self.security}://{self.host}:{self.port}, user={self.username!r})"

    @classmethod
    def parse(cls, url: str) -> SmtpSettings:
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:
            raise SmtpUrlInvalid("the SMTP URL is not a URL like smtp://user:pass@host:587") from None
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise SmtpUrlInvalid("the SMTP URL must be smtp://[user:pass@]host[:port] or smtps://...")
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        unknown = set(query) - {"from", "timeout", "cafile", "starttls"}
        if unknown:
            raise SmtpUrlInvalid(f"the SMTP URL has unknown options: {', '.join(sorted(unknown))}")
        if parts.scheme == "smtps":
            security, default_port = "tls", 465
            if "starttls" in query:
                raise SmtpUrlInvalid("starttls does not apply to smtps:// (implicit TLS)")
        else:
            plain = query.get("starttls", "true").lower() in ("false", "0", "no", "off")
            security, default_port = ("none", 25) if plain else ("starttls", 587)
        try:
            timeout = float(query.get("timeout", "30"))
        except ValueError:
            raise SmtpUrlInvalid("timeout in the SMTP URL must be a number of seconds") from None
        return cls(
            host=parts.hostname,
            port=port or default_port,
            security=security,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            from_address=query.get("from"),
            timeout=timeout,
            cafile=query.get("cafile"),
        )


class SmtpUrlSummaries:
    """``SmtpUrlChecker``: a tenant's SMTP URL checked (its host by the egress policy too: no
    internal address), and described without its password."""

    def __init__(self, egress: EgressPolicy | None = None) -> None:
        self._egress = egress

    def summary(self, url: str, *, field: str) -> str:
        try:
            settings = SmtpSettings.parse(url)
            if self._egress is not None:
                self._egress.check_host(settings.host)
        except SmtpUrlInvalid as error:
            raise InvalidInput(f"{field}: {error}", field=field) from None
        except EgressRefused as error:
            raise InvalidInput(f"{field}: the SMTP host may not be reached: {error}", field=field) from None
        scheme = "smtps" if settings.security == "tls" else "smtp"
        user = f"{settings.username}@" if settings.username else ""
        plain = "?starttls=false" if settings.security == "none" else ""
        return f"{scheme}://{user}{settings.host}:{settings.port}{plain}"


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())[:300]


def _refused(code: int, reply: bytes | str, what: str) -> Exception:
    message = f"{code} {_text(reply)} ({what})"
    return DeliveryDeferred(message) if 400 <= code < 500 else DeliveryRejected(message)


@dataclass
class _Progress:
    started: bool = False  # a command of this message got an answer on this connection
    handed_over: bool = False  # the whole message and its final "." went out


@dataclass
class _Pooled:
    connection: smtplib.SMTP
    used_at: float
    messages: int = 0


class SmtpEmailSender:
    """Thread-safe: each thread keeps its own connection open between messages (``reuse_for``
    seconds idle, ``max_per_connection`` messages), so a worker does not reconnect and greet the
    server for every message. A kept connection the server closed meanwhile is replaced before
    anything of the message was sent."""

    provider = "smtp"

    def __init__(
        self,
        settings: SmtpSettings,
        *,
        default_from: str,
        local_hostname: str | None = None,
        reuse_for: float = 20.0,
        max_per_connection: int = 100,
        egress: EgressPolicy | None = None,
    ) -> None:
        self._egress = egress
        self._settings = settings
        self._from = settings.from_address or default_from
        self._local_hostname = local_hostname
        self._reuse_for = reuse_for
        self._max_per_connection = max_per_connection
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"SmtpEmailSender({self._settings!r})"

    def _tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self._settings.cafile)

    def _open(self) -> smtplib.SMTP:
        s = self._settings
        try:
            if s.security == "tls":
                connection: smtplib.SMTP = _CheckedSmtpSsl(
                    s.host, s.port, timeout=s.timeout, context=self._tls(), local_hostname=self._local_hostname,
                    egress=self._egress,
                )
            else:
                connection = _CheckedSmtp(
                    s.host, s.port, timeout=s.timeout, local_hostname=self._local_hostname, egress=self._egress
                )
        except EgressRefused as error:
            raise DeliveryRejected(f"the SMTP host may not be reached: {error}") from None
        except ssl.SSLError as error:
            raise DeliveryRejected(f"TLS with {s.host} failed: {error.reason or type(error).__name__}") from None
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryDeferred(f"cannot connect to {s.host}:{s.port}: {type(error).__name__}") from None
        try:
            self._greet(connection)
        except BaseException:
            connection.close()
            raise
        return connection

    def _greet(self, connection: smtplib.SMTP) -> None:
        s = self._settings
        connection.ehlo()
        if s.security == "starttls":
            if not connection.has_extn("starttls"):
                raise DeliveryRejected(f"{s.host} does not offer STARTTLS (use ?starttls=false for a plain relay)")
            connection.starttls(context=self._tls())
            connection.ehlo()
        if s.username:
            connection.login(s.username, s.password or "")

    def _take(self) -> tuple[smtplib.SMTP, bool]:
        """This thread's kept connection (and True), or a new one (and False)."""
        pooled: _Pooled | None = getattr(self._local, "pooled", None)
        self._local.pooled = None
        if pooled is not None:
            fresh_enough = time.monotonic() - pooled.used_at < self._reuse_for
            if fresh_enough and pooled.messages < self._max_per_connection:
                self._local.count = pooled.messages
                return pooled.connection, True
            _close(pooled.connection)
        self._local.count = 0
        return self._open(), False

    def _keep(self, connection: smtplib.SMTP) -> None:
        self._local.pooled = _Pooled(connection, time.monotonic(), getattr(self._local, "count", 0) + 1)

    def close(self) -> None:
        """Close this thread's kept connection (others close with their threads or the process)."""
        pooled = getattr(self._local, "pooled", None)
        self._local.pooled = None
        if pooled is not None:
            _close(pooled.connection)

    def deliver(self, email: OutgoingEmail) -> Receipt:
        from_address = email.from_address or self._from
        recipients = list(dict.fromkeys([*email.to, *email.cc, *email.bcc]))
        if not recipients:
            raise DeliveryRejected("no recipients")
        utf8 = needs_smtputf8([from_address, *recipients])
        data = build_mime(email, from_address=from_address).as_bytes()
        for _ in range(2):
            connection: smtplib.SMTP | None = None
            reused = False
            progress = _Progress()
            try:
                connection, reused = self._take()
                result = self._transaction(connection, from_address, recipients, data, utf8, progress)
            except smtplib.SMTPServerDisconnected as error:
                if connection is not None:
                    _close(connection)
                if progress.handed_over:
                    raise DeliveryOutcomeUnknown(
                        f"the connection to {self._settings.host} was lost after the message was handed over "
                        f"({type(error).__name__}): it may have been accepted"
                    ) from None
                if reused and not progress.started:
                    continue  # the kept connection had gone stale: once more on a new one
                raise DeliveryDeferred(f"connection to {self._settings.host} lost: {type(error).__name__}") from None
            except smtplib.SMTPException as error:  # (an OSError too: mapped before the socket errors)
                if connection is not None:
                    _close(connection)
                raise self._mapped(error) from None
            except OSError as error:
                if connection is not None:
                    _close(connection)
                if isinstance(error, ssl.SSLError) and not progress.handed_over:
                    raise DeliveryRejected(f"TLS with {self._settings.host} failed: {error.reason or type(error).__name__}") from None
                if progress.handed_over:
                    raise DeliveryOutcomeUnknown(
                        f"the connection to {self._settings.host} was lost after the message was handed over "
                        f"({type(error).__name__}): it may have been accepted"
                    ) from None
                if reused and not progress.started:
                    continue  # the kept connection had gone stale: once more on a new one
                raise DeliveryDeferred(f"connection to {self._settings.host} lost: {type(error).__name__}") from None
            except BaseException as error:
                if connection is not None:
                    _close(connection)
                raise self._mapped(error) from None
            self._keep(connection)
            return result
        raise DeliveryDeferred(f"connection to {self._settings.host} lost twice")  # pragma: no cover

    def _mapped(self, error: BaseException) -> BaseException:
        if isinstance(error, (DeliveryDeferred, DeliveryRejected, DeliveryOutcomeUnknown)):
            return error
        if isinstance(error, smtplib.SMTPAuthenticationError):
            # 535: wrong credentials (permanent); 454 and other 4xx: try later. Never the credentials.
            return _refused(error.smtp_code, error.smtp_error, "authentication")
        if isinstance(error, smtplib.SMTPNotSupportedError):
            return DeliveryRejected(
                f"{self._settings.host} does not support what this URL requires (STARTTLS, AUTH or SMTPUTF8)"
            )
        if isinstance(error, smtplib.SMTPResponseException):
            return _refused(error.smtp_code, error.smtp_error, "server reply")
        if isinstance(error, smtplib.SMTPException):  # e.g. no AUTH method in common: the text has no secret
            return DeliveryRejected(f"{self._settings.host}: {type(error).__name__}: {_text(str(error))}")
        return error

    def _transaction(
        self,
        connection: smtplib.SMTP,
        from_address: str,
        recipients: list[str],
        data: bytes,
        utf8: bool,
        progress: _Progress,
    ) -> Receipt:
        s = self._settings
        options = []
        if utf8:
            if not connection.has_extn("smtputf8"):
                raise DeliveryRejected(f"{s.host} does not accept internationalised addresses (SMTPUTF8)")
            options.append("SMTPUTF8")
        code, reply = connection.mail(from_address if utf8 else ascii_address(from_address), options)
        progress.started = True
        if code != 250:
            raise _refused(code, reply, "MAIL FROM")
        refused: dict[str, tuple[int, str]] = {}
        for recipient in recipients:
            code, reply = connection.rcpt(recipient if utf8 else ascii_address(recipient))
            if code not in (250, 251):
                refused[recipient] = (code, _text(reply))
        if len(refused) == len(recipients):
            transient = any(400 <= code < 500 for code, _ in refused.values())
            summary = "; ".join(f"{r}: {code} {text}" for r, (code, text) in refused.items())
            raise (DeliveryDeferred if transient else DeliveryRejected)(f"every recipient was refused: {summary}"[:500])
        code, reply = connection.docmd("DATA")
        if code != 354:
            raise _refused(code, reply, "DATA")
        payload = _DOT_LINE.sub(b"..", data)
        if not payload.endswith(b"\r\n"):
            payload += b"\r\n"
        connection.send(payload + b".\r\n")
        progress.handed_over = True  # from here on, a lost answer means: maybe accepted
        code, reply = connection.getreply()
        if not 200 <= code < 300:
            raise _refused(code, reply, "end of DATA")
        response = f"{code} {_text(reply)}"
        if refused:
            response += " (refused: " + "; ".join(f"{r} {c} {t}" for r, (c, t) in refused.items()) + ")"
        queued = _QUEUED_AS.search(_text(reply))
        return Receipt(provider=self.provider, provider_message_id=queued.group(1) if queued else None, response=response[:500])


def _close(connection: smtplib.SMTP) -> None:
    try:
        connection.quit()
    except Exception:  # already closed, or the server went away: nothing to release
        connection.close()


class _CheckedSmtp(smtplib.SMTP):
    """``smtplib.SMTP`` whose socket goes to an address the egress policy checked (if any)."""

    def __init__(self, *args: Any, egress: EgressPolicy | None, **kwargs: Any) -> None:
        self._egress = egress  # before SMTP.__init__, which connects
        super().__init__(*args, **kwargs)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        if self._egress is None:
            return super()._get_socket(host, port, timeout)  # type: ignore[misc]
        return self._egress.connect(host, port, timeout, self.source_address)


class _CheckedSmtpSsl(smtplib.SMTP_SSL):
    """``smtplib.SMTP_SSL`` likewise; the certificate is still checked against the host's name."""

    def __init__(self, *args: Any, egress: EgressPolicy | None, **kwargs: Any) -> None:
        self._egress = egress
        super().__init__(*args, **kwargs)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        if self._egress is None:
            return super()._get_socket(host, port, timeout)  # type: ignore[misc]
        connection = self._egress.connect(host, port, timeout, self.source_address)
        return self.context.wrap_socket(connection, server_hostname=self._host)  # type: ignore[attr-defined]
