"""``OutgoingEmail`` as an RFC 5322 message (the bytes both SMTP and the local outbox write)."""

from __future__ import annotations

import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

from application.emails.ports import OutgoingEmail


def ascii_address(address: str) -> str:
    """The address with its domain in IDNA (``ventas@xn--pea-8ma.com.pa``); the local part as is."""
    local, _, domain = address.rpartition("@")
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return address


def needs_smtputf8(addresses: list[str]) -> bool:
    return any(not ascii_address(a).isascii() for a in addresses)


def build_mime(
    outgoing: OutgoingEmail,
    *,
    from_address: str,
    include_bcc: bool = False,
    now: datetime | None = None,
) -> EmailMessage:
    """The message: Message-ID (the same on every attempt), Date, From, To, Cc, Reply-To, Subject;
    text and HTML as ``multipart/alternative``; attachments as parts. Bcc only if ``include_bcc``
    (the local outbox keeps it; SMTP never shows it, it is only in the envelope)."""
    utf8 = needs_smtputf8([from_address, *outgoing.to, *outgoing.cc, *outgoing.bcc, *outgoing.reply_to])
    message = EmailMessage(policy=email.policy.SMTPUTF8 if utf8 else email.policy.SMTP)
    message["Message-ID"] = outgoing.message_id
    message["Date"] = format_datetime(now or datetime.now(UTC))
    message["From"] = from_address if utf8 else ascii_address(from_address)
    convert = (lambda a: a) if utf8 else ascii_address
    if outgoing.to:
        message["To"] = ", ".join(convert(a) for a in outgoing.to)
    if outgoing.cc:
        message["Cc"] = ", ".join(convert(a) for a in outgoing.cc)
    if include_bcc and outgoing.bcc:
        message["Bcc"] = ", ".join(convert(a) for a in outgoing.bcc)
    if outgoing.reply_to:
        message["Reply-To"] = ", ".join(convert(a) for a in outgoing.reply_to)
    message["Subject"] = outgoing.subject
    if outgoing.text is not None:
        message.set_content(outgoing.text)
        if outgoing.html is not None:
            message.add_alternative(outgoing.html, subtype="html")
    else:
        message.set_content(outgoing.html or "", subtype="html")
    for attachment in outgoing.attachments:
        maintype, _, subtype = attachment.mime.partition("/")
        if not subtype:
            maintype, subtype = "application", "octet-stream"
        message.add_attachment(attachment.data, maintype=maintype, subtype=subtype, filename=attachment.name)
    return message
