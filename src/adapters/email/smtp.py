"""``SmtpEmailSender``: one SMTP transaction per message, STARTTLS or implicit TLS.

The server is named by a URL (``ISTMO_SMTP_URL``, or a tenant's own):

    smtp://user:password@mail.example.com:587      STARTTLS, required (the default; port 587)
    smtps://user:password@mail.example.com:465     implicit TLS (port 465)
    smtp://relay.internal:25?starttls=false        plain SMTP (a local relay only)

Query options: ``from`` (the envelope and From address when the message names none),
``timeout`` (seconds, default 30), ``cafile`` (a CA bundle to trust instead of the system's).
User and password are percent-decoded; they never appear in an error, a log line or a response.

Outcomes: the server's reply decides. 2xx: sent (``queued as <id>`` becomes the provider
message id). 4xx, a dropped connection or a timeout: ``EmailDeferred`` (tried again later).
5xx: ``EmailRejected``. If some recipients are refused and others accepted, the message is
sent to those accepted and the refused ones are named in the response (never sent twice to the
others). The Message-ID header is the one of the message: the same on every attempt.
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from adapters.email.mime import ascii_address, build_mime, needs_smtputf8
from application.emails.ports import EmailDeferred, EmailRejected, OutgoingEmail, SentEmail

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


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())[:300]


def _refused(code: int, reply: bytes | str, what: str) -> Exception:
    message = f"{code} {_text(reply)} ({what})"
    return EmailDeferred(message) if 400 <= code < 500 else EmailRejected(message)


class SmtpEmailSender:
    provider = "smtp"

    def __init__(self, settings: SmtpSettings, *, default_from: str, local_hostname: str | None = None) -> None:
        self._settings = settings
        self._from = settings.from_address or default_from
        self._local_hostname = local_hostname

    def __repr__(self) -> str:
        return f"SmtpEmailSender({self._settings!r})"

    def _tls(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self._settings.cafile)
        return context

    def _connect(self) -> smtplib.SMTP:
        s = self._settings
        if s.security == "tls":
            return smtplib.SMTP_SSL(
                s.host, s.port, timeout=s.timeout, context=self._tls(), local_hostname=self._local_hostname
            )
        return smtplib.SMTP(s.host, s.port, timeout=s.timeout, local_hostname=self._local_hostname)

    def send(self, email: OutgoingEmail) -> SentEmail:
        from_address = email.from_address or self._from
        recipients = list(dict.fromkeys([*email.to, *email.cc, *email.bcc]))
        if not recipients:
            raise EmailRejected("no recipients")
        utf8 = needs_smtputf8([from_address, *recipients])
        data = build_mime(email, from_address=from_address).as_bytes()
        try:
            connection = self._connect()
        except (OSError, smtplib.SMTPException) as error:
            raise EmailDeferred(f"cannot connect to {self._settings.host}:{self._settings.port}: {type(error).__name__}") from None
        try:
            return self._transaction(connection, from_address, recipients, data, utf8)
        except (EmailDeferred, EmailRejected):
            raise
        except smtplib.SMTPAuthenticationError as error:
            # 535: wrong credentials (permanent); 454 and other 4xx: try later. Never the credentials.
            raise _refused(error.smtp_code, error.smtp_error, "authentication") from None
        except smtplib.SMTPNotSupportedError:
            raise EmailRejected(f"{self._settings.host} does not support what this URL requires (STARTTLS, AUTH or SMTPUTF8)") from None
        except smtplib.SMTPResponseException as error:
            raise _refused(error.smtp_code, error.smtp_error, "server reply") from None
        except ssl.SSLError as error:
            raise EmailRejected(f"TLS with {self._settings.host} failed: {error.reason or type(error).__name__}") from None
        except (smtplib.SMTPServerDisconnected, socket.timeout, OSError) as error:
            raise EmailDeferred(f"connection to {self._settings.host} lost: {type(error).__name__}") from None
        except smtplib.SMTPException as error:  # e.g. no AUTH method in common: the text has no secret
            raise EmailRejected(f"{self._settings.host}: {type(error).__name__}: {_text(str(error))}") from None
        finally:
            try:
                connection.quit()
            except Exception:  # already closed, or the server went away: nothing to release
                connection.close()

    def _transaction(
        self, connection: smtplib.SMTP, from_address: str, recipients: list[str], data: bytes, utf8: bool
    ) -> SentEmail:
        s = self._settings
        connection.ehlo()
        if s.security == "starttls":
            if not connection.has_extn("starttls"):
                raise EmailRejected(f"{s.host} does not offer STARTTLS (use ?starttls=false for a plain relay)")
            connection.starttls(context=self._tls())
            connection.ehlo()
        if s.username:
            connection.login(s.username, s.password or "")
        options = []
        if utf8:
            if not connection.has_extn("smtputf8"):
                raise EmailRejected(f"{s.host} does not accept internationalised addresses (SMTPUTF8)")
            options.append("SMTPUTF8")
        code, reply = connection.mail(from_address if utf8 else ascii_address(from_address), options)
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
            connection.rset()
            raise (EmailDeferred if transient else EmailRejected)(f"every recipient was refused: {summary}"[:500])
        code, reply = connection.data(data)
        if not 200 <= code < 300:
            raise _refused(code, reply, "DATA")
        response = f"{code} {_text(reply)}"
        if refused:
            response += " (refused: " + "; ".join(f"{r} {c} {t}" for r, (c, t) in refused.items()) + ")"
        queued = _QUEUED_AS.search(_text(reply))
        return SentEmail(provider=self.provider, provider_message_id=queued.group(1) if queued else None, response=response[:500])
