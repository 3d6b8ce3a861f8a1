"""``SmtpEmailSender`` against a real SMTP server on loopback (aiosmtpd): plain, STARTTLS, implicit
TLS, AUTH; SMTP 4xx is transient (``DeliveryDeferred``), 5xx permanent (``DeliveryRejected``); the
password is never in an error. Also the local outbox and the per-tenant chooser."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest

from adapters.email.chooser import TenantEmailSenders
from adapters.email.outbox import LocalOutboxEmailSender
from adapters.email.smtp import SmtpEmailSender, SmtpSettings, SmtpUrlInvalid
from application.deliveries.ports import DeliveryDeferred, DeliveryOutcomeUnknown, DeliveryRejected
from application.emails.ports import EmailAttachment, OutgoingEmail
from tests.smtpserver import SmtpServer, free_port

FROM = "facturas@acme.com.pa"
SECRET = "s3cr3t-p4ss"


def outgoing(**fields: object) -> OutgoingEmail:
    values: dict[str, object] = {
        "tenant_id": "3f1d7e8a-0000-4000-8000-00000000000a",
        "message_id": "<m-1@istmo.test>",
        "idempotency_key": "email:m-1",
        "from_address": None,
        "reply_to": ("ventas@acme.com.pa",),
        "to": ("ana@cliente.com.pa",),
        "cc": ("jefe@cliente.com.pa",),
        "bcc": ("archivo@acme.com.pa",),
        "subject": "Factura F-000001 — ñandú",
        "html": "<p>Adjunta</p>",
        "text": "Adjunta",
        "attachments": (EmailAttachment(name="Factura F-000001.pdf", mime="application/pdf", data=b"%PDF-1.7 x"),),
    }
    values.update(fields)
    return OutgoingEmail(**values)  # type: ignore[arg-type]


def sender(url: str) -> SmtpEmailSender:
    return SmtpEmailSender(SmtpSettings.parse(url), default_from=FROM)


def test_a_message_goes_through_plain_smtp_with_its_message_id_and_bcc_only_in_the_envelope() -> None:
    with SmtpServer() as server:
        result = sender(server.url(starttls="false")).deliver(outgoing())
    [got] = server.received
    assert result.provider == "smtp" and result.provider_message_id == "Q000001"
    assert result.response.startswith("250")
    assert got.mail_from == FROM
    assert got.rcpt_tos == ["ana@cliente.com.pa", "jefe@cliente.com.pa", "archivo@acme.com.pa"]
    message = got.message
    assert message["Message-ID"] == "<m-1@istmo.test>"
    assert message["Bcc"] is None and "archivo@acme.com.pa" not in got.data.decode()
    assert (message["To"], message["Cc"], message["Reply-To"]) == ("ana@cliente.com.pa", "jefe@cliente.com.pa", "ventas@acme.com.pa")
    assert message["Subject"] == "Factura F-000001 — ñandú"
    assert message.get_body(("plain",)).get_content().strip() == "Adjunta"
    assert message.get_body(("html",)).get_content().strip() == "<p>Adjunta</p>"
    [part] = list(message.iter_attachments())
    assert (part.get_filename(), part.get_content()) == ("Factura F-000001.pdf", b"%PDF-1.7 x")


def test_starttls_with_auth(tmp_path: Path) -> None:
    with SmtpServer(folder=tmp_path, tls="starttls", credentials=("acme", SECRET)) as server:
        result = sender(server.url(user="acme", password=SECRET)).deliver(outgoing(from_address="otra@acme.com.pa"))
        with pytest.raises(DeliveryRejected) as wrong:
            sender(server.url(user="acme", password="wrong-" + SECRET)).deliver(outgoing())
    assert result.response.startswith("250")
    [got] = server.received
    assert got.mail_from == "otra@acme.com.pa"
    assert wrong.value.reason.startswith("535") and SECRET not in wrong.value.reason


def test_implicit_tls(tmp_path: Path) -> None:
    with SmtpServer(folder=tmp_path, tls="implicit") as server:
        sender(server.url("smtps")).deliver(outgoing())
    assert len(server.received) == 1


def test_starttls_is_required_unless_turned_off() -> None:
    with SmtpServer() as server:  # this server offers no STARTTLS
        with pytest.raises(DeliveryRejected) as error:
            sender(server.url()).deliver(outgoing())
    assert "STARTTLS" in error.value.reason and server.received == []


def test_a_certificate_that_is_not_trusted_is_refused(tmp_path: Path) -> None:
    with SmtpServer(folder=tmp_path, tls="starttls") as server:
        url = f"smtp://127.0.0.1:{server.port}"  # no cafile: the self-signed certificate is not trusted
        with pytest.raises(DeliveryRejected) as error:
            sender(url).deliver(outgoing())
    assert "TLS" in error.value.reason and server.received == []


@pytest.mark.parametrize(
    ("rcpt", "data", "raised", "code"),
    [
        ("450 4.2.1 mailbox busy", None, DeliveryDeferred, "450"),
        ("550 5.1.1 no such user", None, DeliveryRejected, "550"),
        (None, "451 4.3.0 try again later", DeliveryDeferred, "451"),
        (None, "554 5.7.1 message refused", DeliveryRejected, "554"),
    ],
)
def test_smtp_4xx_is_transient_and_5xx_permanent(rcpt: str | None, data: str | None, raised: type, code: str) -> None:
    with SmtpServer() as server:
        server.handler.rcpt_reply = (lambda address: rcpt) if rcpt else None
        server.handler.data_reply = (lambda content: data) if data else None
        with pytest.raises(raised) as error:
            sender(server.url(starttls="false")).deliver(outgoing())
    assert code in error.value.reason
    assert server.received == []


def test_some_recipients_refused_the_others_still_get_it_once() -> None:
    with SmtpServer() as server:
        server.handler.rcpt_reply = lambda address: "550 5.1.1 unknown" if address.startswith("jefe") else None
        result = sender(server.url(starttls="false")).deliver(outgoing())
    [got] = server.received
    assert got.rcpt_tos == ["ana@cliente.com.pa", "archivo@acme.com.pa"]
    assert "refused: jefe@cliente.com.pa 550" in result.response


def test_one_connection_carries_many_messages_and_a_stale_one_is_replaced() -> None:
    with SmtpServer() as server:
        smtp = sender(server.url(starttls="false"))
        for n in range(3):
            smtp.deliver(outgoing(message_id=f"<m-{n}@istmo.test>"))
        port = server.port
    assert len({r.session for r in server.received}) == 1
    with SmtpServer(port=port) as restarted:  # the kept connection died with the old server
        smtp.deliver(outgoing(message_id="<m-9@istmo.test>"))
    assert [r.message_id for r in restarted.received] == ["<m-9@istmo.test>"]


def test_an_answer_lost_after_the_message_was_handed_over_is_an_unknown_outcome() -> None:
    with SmtpServer() as server:
        server.handler.drop_after_data = True
        with pytest.raises(DeliveryOutcomeUnknown) as error:
            sender(server.url(starttls="false")).deliver(outgoing())
    assert len(server.received) == 1  # the server had it: sending it again would duplicate it
    assert "may have been accepted" in error.value.reason


def test_a_server_that_is_not_there_is_transient() -> None:
    with pytest.raises(DeliveryDeferred) as error:
        sender(f"smtp://127.0.0.1:{free_port()}?starttls=false&timeout=5").deliver(outgoing())
    assert "cannot connect" in error.value.reason


def test_internationalised_domains_are_sent_in_idna() -> None:
    with SmtpServer() as server:
        sender(server.url(starttls="false")).deliver(outgoing(to=("ventas@peña.com.pa",), cc=(), bcc=()))
    [got] = server.received
    assert got.rcpt_tos == ["ventas@xn--pea-8ma.com.pa"]


@pytest.mark.parametrize(
    "url",
    ["http://mail.example.com", "smtp://", "smtps://h?starttls=false", "smtp://h?verify=no", "smtp://h:99999", "smtp://h?timeout=x"],
)
def test_bad_smtp_urls_are_refused_without_the_password(url: str) -> None:
    with pytest.raises(SmtpUrlInvalid) as error:
        SmtpSettings.parse(url.replace("://", f"://user:{SECRET}@", 1) if "://h" in url else url)
    assert SECRET not in str(error.value)


def test_settings_never_show_the_password() -> None:
    settings = SmtpSettings.parse(f"smtps://user%40acme:{SECRET}@mail.acme.pa?from=f@acme.pa")
    assert (settings.username, settings.password, settings.port, settings.security) == ("user@acme", SECRET, 465, "tls")
    assert SECRET not in repr(settings) and SECRET not in repr(SmtpEmailSender(settings, default_from=FROM))


def test_the_local_outbox_keeps_one_eml_per_message_per_tenant(tmp_path: Path) -> None:
    outbox = LocalOutboxEmailSender(tmp_path, default_from=FROM)
    first = outbox.deliver(outgoing())
    again = outbox.deliver(outgoing())
    other = outbox.deliver(outgoing(message_id="<m-2@istmo.test>", tenant_id="3f1d7e8a-0000-4000-8000-00000000000b"))
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert files == [
        "3f1d7e8a-0000-4000-8000-00000000000a/m-1@istmo.test.eml",
        "3f1d7e8a-0000-4000-8000-00000000000b/m-2@istmo.test.eml",
    ]
    assert first.provider_message_id == again.provider_message_id == "m-1@istmo.test.eml"
    assert again.response == "already in the local outbox" and other.provider == "outbox"
    parsed = email.message_from_bytes((tmp_path / files[0]).read_bytes(), policy=email.policy.default)
    assert parsed["Message-ID"] == "<m-1@istmo.test>" and parsed["Bcc"] == "archivo@acme.com.pa"
    with pytest.raises(DeliveryRejected):
        outbox.deliver(outgoing(tenant_id="../etc"))


def test_the_chooser_prefers_the_tenants_smtp_then_the_instances_then_the_outbox(tmp_path: Path) -> None:
    outbox = LocalOutboxEmailSender(tmp_path, default_from=FROM)
    urls = {"t-own": "smtp://own.example.com:2525?starttls=false"}
    with_instance = TenantEmailSenders(
        outbox=outbox, default_from=FROM, instance_smtp_url="smtps://mail.example.com", tenant_smtp_url=urls.get
    )
    own = with_instance.for_tenant("t-own")
    assert isinstance(own, SmtpEmailSender) and "own.example.com" in repr(own)
    assert with_instance.for_tenant("t-own") is own  # cached per URL
    assert "mail.example.com" in repr(with_instance.for_tenant("t-other"))
    plain = TenantEmailSenders(outbox=outbox, default_from=FROM)
    assert plain.for_tenant("t-other") is outbox
    first = object()
    chosen = TenantEmailSenders(outbox=outbox, default_from=FROM, first=[lambda t: first if t == "t-own" else None])  # type: ignore[list-item,return-value]
    assert chosen.for_tenant("t-own") is first and chosen.for_tenant("t-x") is outbox


def test_a_tenant_smtp_host_that_resolves_to_an_internal_address_is_never_connected_to() -> None:
    from adapters.egress.policy import EgressPolicy

    policy = EgressPolicy(resolver=lambda host, port: ["127.0.0.1"])  # a public name rebound to loopback
    with SmtpServer() as server:
        url = f"smtp://smtp.acme-mail.pa:{server.port}?starttls=false"
        guarded = SmtpEmailSender(SmtpSettings.parse(url), default_from=FROM, egress=policy)
        with pytest.raises(DeliveryRejected, match="'smtp.acme-mail.pa' resolves to a loopback address"):
            guarded.deliver(outgoing())
        assert server.received == []
        allowed = EgressPolicy(["127.0.0.1/32"], resolver=lambda host, port: ["127.0.0.1"])
        SmtpEmailSender(SmtpSettings.parse(url), default_from=FROM, egress=allowed).deliver(outgoing())
    assert len(server.received) == 1  # the checked address was the one connected to
