"""GraphQL of the emails domain: client defaults, sends, the message log, templates."""

from __future__ import annotations

from typing import Any

from ariadne import MutationType, ObjectType, QueryType
from graphql import GraphQLResolveInfo

from application.emails.commands import (
    CreateClientEmail,
    DeleteClientEmail,
    DeleteEmailTemplate,
    FindEmailMessages,
    FindEmailTemplates,
    GetEmailMessage,
    GetEmailSettings,
    ResendInvoiceEmail,
    RetryEmail,
    SendEmail,
    SendPdfEmail,
    SendStatementEmail,
    SetEmailSettings,
    SetEmailTemplate,
)
from application.emails.views import EmailMessageCursor
from entrypoints.graphql.common import actor, bus, business_result
from entrypoints.graphql.api import RENDER, SEND, ApiDomain
from entrypoints.graphql.loaders import keyed
from application.emails.commands import GetClientEmails

query = QueryType()
mutation = MutationType()
client_type = ObjectType("Client")
attempt_type = ObjectType("EmailAttempt")

bindables = [query, mutation, client_type, attempt_type]
API = ApiDomain(
    bindables,
    sdl=("emails.graphql",),
    loaders={"client_emails": keyed(GetClientEmails, "client_ids")},
    costs={"Mutation": {
        **dict.fromkeys(("sendPdfEmail", "resendInvoiceEmail", "sendStatementEmail"), RENDER),
        **dict.fromkeys(("sendEmail", "retryEmail"), SEND),
    }},
)

EMPTY_PAGE = {"edges": [], "page_info": {"end_cursor": None, "has_next_page": False}}


def _strings(values: list[str] | None) -> tuple[str, ...]:
    return tuple(values or ())


@client_type.field("emails")
def resolve_client_emails(client: Any, info: GraphQLResolveInfo) -> Any:
    return info.context["loaders"].client_emails.load(client.id)


@attempt_type.field("outcome")
def resolve_attempt_outcome(attempt: Any, _: GraphQLResolveInfo) -> str | None:
    return None if attempt.outcome is None else str(attempt.outcome)


# --- client defaults -----------------------------------------------------------------------------


@mutation.field("createClientEmail")
@business_result(client_email=None)
def resolve_create_client_email(
    _: Any, info: GraphQLResolveInfo, client_id: str, email: str, kind: str | None = None
) -> dict[str, Any]:
    command = CreateClientEmail(actor=actor(info), client_id=client_id, email=email, kind=kind or "TO")
    return {"client_email": bus(info).handle(command)}


@mutation.field("deleteClientEmail")
@business_result(deleted_id=None)
def resolve_delete_client_email(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
    return {"deleted_id": bus(info).handle(DeleteClientEmail(actor=actor(info), client_email_id=id))}


# --- sending ----------------------------------------------------------------------------------------


@mutation.field("sendEmail")
@business_result(email_message=None)
def resolve_send_email(_: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:
    command = SendEmail(
        actor=actor(info),
        to=_strings(input.get("to")),
        cc=_strings(input.get("cc")),
        bcc=_strings(input.get("bcc")),
        reply_to=_strings(input.get("reply_to")),
        subject=input.get("subject"),
        html=input.get("html"),
        text=input.get("text"),
        message=input.get("message"),
        kind=input.get("kind") or "GENERIC",
        action_url=input.get("action_url"),
        locale=input.get("locale"),
        attachment_file_ids=_strings(input.get("attachment_file_ids")),
        entity_type=input.get("entity_type"),
        entity_id=input.get("entity_id"),
    )
    return {"email_message": bus(info).handle(command)}


@mutation.field("sendPdfEmail")
@business_result(email_message=None)
def resolve_send_pdf_email(
    _: Any,
    info: GraphQLResolveInfo,
    entity_type: str,
    entity_id: str,
    template_id: str | None = None,
    to: list[str] | None = None,
    cc: list[str] | None = None,
    bcc: list[str] | None = None,
    message: str | None = None,
    locale: str | None = None,
) -> dict[str, Any]:
    command = SendPdfEmail(
        actor=actor(info), entity_type=entity_type, entity_id=entity_id, template_id=template_id,
        to=_strings(to), cc=_strings(cc), bcc=_strings(bcc), message=message, locale=locale,
    )
    return {"email_message": bus(info).handle(command)}


@mutation.field("resendInvoiceEmail")
@business_result(email_message=None)
def resolve_resend_invoice_email(
    _: Any,
    info: GraphQLResolveInfo,
    invoice_id: str,
    email: str | None = None,
    message: str | None = None,
    locale: str | None = None,
) -> dict[str, Any]:
    command = ResendInvoiceEmail(actor=actor(info), invoice_id=invoice_id, email=email, message=message, locale=locale)
    return {"email_message": bus(info).handle(command)}


@mutation.field("sendStatementEmail")
@business_result(email_message=None)
def resolve_send_statement_email(
    _: Any,
    info: GraphQLResolveInfo,
    client_id: str,
    to: Any,
    currency: str | None = None,
    template_id: str | None = None,
    recipients: list[str] | None = None,
    cc: list[str] | None = None,
    bcc: list[str] | None = None,
    message: str | None = None,
    locale: str | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    command = SendStatementEmail(
        actor=actor(info), client_id=client_id, period_from=kwargs["from"], period_to=to,
        currency=currency, template_id=template_id, to=_strings(recipients), cc=_strings(cc),
        bcc=_strings(bcc), message=message, locale=locale,
    )
    return {"email_message": bus(info).handle(command)}


@mutation.field("retryEmail")
@business_result(email_message=None)
def resolve_retry_email(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
    return {"email_message": bus(info).handle(RetryEmail(actor=actor(info), message_id=id))}


# --- the log ------------------------------------------------------------------------------------------


@query.field("emailMessages")
@business_result(**EMPTY_PAGE)
def resolve_email_messages(
    _: Any, info: GraphQLResolveInfo, filter: dict[str, Any] | None = None, first: int | None = None,
    after: str | None = None,
) -> dict[str, Any]:
    filter = filter or {}
    page = bus(info).handle(
        FindEmailMessages(
            actor=actor(info),
            statuses=_strings(filter.get("status")),
            kind=filter.get("kind"),
            direction=filter.get("direction"),
            entity_type=filter.get("entity_type"),
            entity_id=filter.get("entity_id"),
            first=first,
            after=after,
        )
    )
    return {
        "edges": [{"cursor": EmailMessageCursor.of(item).encode(), "node": item} for item in page.items],
        "page_info": {"end_cursor": page.end_cursor, "has_next_page": page.has_next_page},
    }


@query.field("getEmailMessageById")
@business_result(email_message=None)
def resolve_get_email_message(_: Any, info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
    return {"email_message": bus(info).handle(GetEmailMessage(actor=actor(info), message_id=id))}


# --- templates ------------------------------------------------------------------------------------------


@query.field("emailTemplates")
@business_result(templates=[])
def resolve_email_templates(_: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
    return {"templates": bus(info).handle(FindEmailTemplates(actor=actor(info)))}


@mutation.field("setEmailTemplate")
@business_result(email_template=None)
def resolve_set_email_template(
    _: Any, info: GraphQLResolveInfo, kind: str, locale: str, subject: str, html: str | None = None,
    text: str | None = None,
) -> dict[str, Any]:
    command = SetEmailTemplate(actor=actor(info), kind=kind, locale=locale, subject=subject, html=html, text=text)
    return {"email_template": bus(info).handle(command)}


@mutation.field("deleteEmailTemplate")
@business_result(email_template=None)
def resolve_delete_email_template(_: Any, info: GraphQLResolveInfo, kind: str, locale: str) -> dict[str, Any]:
    return {"email_template": bus(info).handle(DeleteEmailTemplate(actor=actor(info), kind=kind, locale=locale))}




# --- settings ------------------------------------------------------------------------------------------


@query.field("emailSettings")
@business_result(email_settings=None)
def resolve_email_settings(_: Any, info: GraphQLResolveInfo) -> dict[str, Any]:
    return {"email_settings": bus(info).handle(GetEmailSettings(actor=actor(info)))}


@mutation.field("setEmailSettings")
@business_result(email_settings=None)
def resolve_set_email_settings(
    _: Any, info: GraphQLResolveInfo, smtp_url: str | None = None, from_address: str | None = None
) -> dict[str, Any]:
    command = SetEmailSettings(actor=actor(info), smtp_url=smtp_url, from_address=from_address)
    return {"email_settings": bus(info).handle(command)}
