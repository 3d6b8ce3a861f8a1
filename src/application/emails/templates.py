"""Built-in subject and body templates per kind and language, and the context they are rendered with.

Templates are Jinja source rendered by the ``EmailTemplateRenderer`` port in the documents'
sandbox (the HTML body autoescaped; subject and text as plain text). A tenant may replace any of
them (``SetEmailTemplate``); what a template sees is the same either way:

- ``tenant.name``, ``client.name``, ``message`` (the sender's own words, or nothing), ``locale``;
- INVOICE: ``invoice.number``, ``.issue_date``, ``.due_date``, ``.total``, ``.balance``, ``.currency``;
- QUOTE: ``quote.number``, ``.issue_date``, ``.valid_until``, ``.total``, ``.currency``;
- STATEMENT: ``statement.period_from``, ``.period_to``, ``.closing_balance``, ``.currency``;
- SIGNATURE_APPROVAL: ``action_url`` (where to review and sign), ``document.name``.

Amounts come formatted (``1,234.50``) and dates as ``dd/mm/yyyy``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from domain.emails.model import EmailKind, EmailLocale


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateSource:
    subject: str
    html: str | None
    text: str | None


_MESSAGE_HTML = "{% if message %}<p>{{ message }}</p>{% endif %}"
_MESSAGE_TEXT = "{% if message %}{{ message }}\n\n{% endif %}"
_SIGN_HTML = "<p>{{ tenant.name }}</p>"
_SIGN_TEXT = "{{ tenant.name }}"


def _both(subject: str, greeting: str, html_body: str, text_body: str, closing: str) -> TemplateSource:
    return TemplateSource(
        subject=subject,
        html=f"<p>{greeting}</p>{_MESSAGE_HTML}{html_body}<p>{closing}</p>{_SIGN_HTML}",
        text=f"{greeting}\n\n{_MESSAGE_TEXT}{text_body}\n\n{closing}\n{_SIGN_TEXT}\n",
    )


_ES_HELLO = "Estimado(a) {{ client.name or 'cliente' }}:"
_EN_HELLO = "Dear {{ client.name or 'customer' }},"
_ES_BYE = "Saludos cordiales,"
_EN_BYE = "Kind regards,"

BUILT_IN: dict[tuple[EmailKind, EmailLocale], TemplateSource] = {
    (EmailKind.INVOICE, EmailLocale.ES): _both(
        "Factura {{ invoice.number }} de {{ tenant.name }}",
        _ES_HELLO,
        "<p>Adjuntamos la factura <strong>{{ invoice.number }}</strong> del {{ invoice.issue_date }} por "
        "{{ invoice.currency }} {{ invoice.total }}, con vencimiento el {{ invoice.due_date }}. "
        "Saldo pendiente: {{ invoice.currency }} {{ invoice.balance }}.</p>",
        "Adjuntamos la factura {{ invoice.number }} del {{ invoice.issue_date }} por {{ invoice.currency }} "
        "{{ invoice.total }}, con vencimiento el {{ invoice.due_date }}. Saldo pendiente: "
        "{{ invoice.currency }} {{ invoice.balance }}.",
        _ES_BYE,
    ),
    (EmailKind.INVOICE, EmailLocale.EN): _both(
        "Invoice {{ invoice.number }} from {{ tenant.name }}",
        _EN_HELLO,
        "<p>Please find attached invoice <strong>{{ invoice.number }}</strong> of {{ invoice.issue_date }} for "
        "{{ invoice.currency }} {{ invoice.total }}, due on {{ invoice.due_date }}. "
        "Balance due: {{ invoice.currency }} {{ invoice.balance }}.</p>",
        "Please find attached invoice {{ invoice.number }} of {{ invoice.issue_date }} for {{ invoice.currency }} "
        "{{ invoice.total }}, due on {{ invoice.due_date }}. Balance due: {{ invoice.currency }} "
        "{{ invoice.balance }}.",
        _EN_BYE,
    ),
    (EmailKind.QUOTE, EmailLocale.ES): _both(
        "Cotización {{ quote.number }} de {{ tenant.name }}",
        _ES_HELLO,
        "<p>Adjuntamos la cotización <strong>{{ quote.number }}</strong> por {{ quote.currency }} "
        "{{ quote.total }}, válida hasta el {{ quote.valid_until }}.</p>",
        "Adjuntamos la cotización {{ quote.number }} por {{ quote.currency }} {{ quote.total }}, válida hasta "
        "el {{ quote.valid_until }}.",
        _ES_BYE,
    ),
    (EmailKind.QUOTE, EmailLocale.EN): _both(
        "Quote {{ quote.number }} from {{ tenant.name }}",
        _EN_HELLO,
        "<p>Please find attached quote <strong>{{ quote.number }}</strong> for {{ quote.currency }} "
        "{{ quote.total }}, valid until {{ quote.valid_until }}.</p>",
        "Please find attached quote {{ quote.number }} for {{ quote.currency }} {{ quote.total }}, valid until "
        "{{ quote.valid_until }}.",
        _EN_BYE,
    ),
    (EmailKind.STATEMENT, EmailLocale.ES): _both(
        "Estado de cuenta de {{ tenant.name }} ({{ statement.period_from }} al {{ statement.period_to }})",
        _ES_HELLO,
        "<p>Adjuntamos su estado de cuenta del {{ statement.period_from }} al {{ statement.period_to }}. "
        "Saldo al cierre: {{ statement.currency }} {{ statement.closing_balance }}.</p>",
        "Adjuntamos su estado de cuenta del {{ statement.period_from }} al {{ statement.period_to }}. "
        "Saldo al cierre: {{ statement.currency }} {{ statement.closing_balance }}.",
        _ES_BYE,
    ),
    (EmailKind.STATEMENT, EmailLocale.EN): _both(
        "Statement of account from {{ tenant.name }} ({{ statement.period_from }} to {{ statement.period_to }})",
        _EN_HELLO,
        "<p>Please find attached your statement of account from {{ statement.period_from }} to "
        "{{ statement.period_to }}. Closing balance: {{ statement.currency }} {{ statement.closing_balance }}.</p>",
        "Please find attached your statement of account from {{ statement.period_from }} to "
        "{{ statement.period_to }}. Closing balance: {{ statement.currency }} {{ statement.closing_balance }}.",
        _EN_BYE,
    ),
    (EmailKind.GENERIC, EmailLocale.ES): _both(
        "Mensaje de {{ tenant.name }}", _ES_HELLO, "", "", _ES_BYE
    ),
    (EmailKind.GENERIC, EmailLocale.EN): _both(
        "Message from {{ tenant.name }}", _EN_HELLO, "", "", _EN_BYE
    ),
    (EmailKind.SIGNATURE_APPROVAL, EmailLocale.ES): _both(
        "{{ tenant.name }} le solicita firmar {{ document.name or 'un documento' }}",
        _ES_HELLO,
        "<p>Le solicitamos revisar y firmar {{ document.name or 'el documento' }}.</p>"
        "{% if action_url %}<p><a href=\"{{ action_url }}\">Revisar y firmar</a></p>{% endif %}",
        "Le solicitamos revisar y firmar {{ document.name or 'el documento' }}."
        "{% if action_url %}\n\nRevisar y firmar: {{ action_url }}{% endif %}",
        _ES_BYE,
    ),
    (EmailKind.SIGNATURE_APPROVAL, EmailLocale.EN): _both(
        "{{ tenant.name }} asks you to sign {{ document.name or 'a document' }}",
        _EN_HELLO,
        "<p>Please review and sign {{ document.name or 'the document' }}.</p>"
        "{% if action_url %}<p><a href=\"{{ action_url }}\">Review and sign</a></p>{% endif %}",
        "Please review and sign {{ document.name or 'the document' }}."
        "{% if action_url %}\n\nReview and sign: {{ action_url }}{% endif %}",
        _EN_BYE,
    ),
}


def money(value: Decimal) -> str:
    return f"{value:,.2f}"


def day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def sample_context(kind: EmailKind, locale: EmailLocale) -> dict[str, Any]:
    """What a template of ``kind`` sees, with sample values: a template is tried on it when saved."""
    context: dict[str, Any] = {
        "tenant": {"name": "Mi PYME, S.A."},
        "client": {"name": "Cliente de Ejemplo"},
        "message": "Gracias por su preferencia.",
        "locale": locale.value,
        "action_url": None,
        "document": {"name": None},
    }
    if kind is EmailKind.INVOICE:
        context["invoice"] = {
            "number": "F-000123", "issue_date": "01/12/2026", "due_date": "31/12/2026",
            "total": "1,070.00", "balance": "1,070.00", "currency": "USD",
        }
    elif kind is EmailKind.QUOTE:
        context["quote"] = {
            "number": "COT-000045", "issue_date": "01/12/2026", "valid_until": "31/12/2026",
            "total": "535.00", "currency": "USD",
        }
    elif kind is EmailKind.STATEMENT:
        context["statement"] = {
            "period_from": "01/11/2026", "period_to": "30/11/2026", "closing_balance": "2,140.00",
            "currency": "USD",
        }
    elif kind is EmailKind.SIGNATURE_APPROVAL:
        context["action_url"] = "https://example.com/firmar/abc"
        context["document"] = {"name": "Contrato de servicios"}
    return context
