"""The golden questions end to end on each provider: GraphQL send -> the worker runs the turn ->
the provider's own SDK against a local server speaking its wire format -> a scripted model calls
the tools -> the tools run invoicing's queries through the bus -> the stored answer. The answer's
figures are checked against SQL over the same fixtures."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text

from tests.integration.chats_support import CHAT, Chats, chats_factory, last_user, results_after_last_user  # noqa: F401
from tests.providers.llm import Call, Said, Step
from tests.providers.server import provider_server  # noqa: F401 - fixture

PROVIDERS = ["OPENAI", "ANTHROPIC", "DEEPSEEK"]


def golden(conversation: list[Said]) -> Step:
    question = last_user(conversation)
    results = results_after_last_user(conversation)
    if "más grande" in question:
        if not results:
            return Step(calls=(Call("list_invoices", {"status": "unpaid", "sort": "balance_desc", "limit": 1}),))
        row = results[0]["invoices"][0]
        return Step(text=f"Su factura más grande sin pagar es la {row['number']} de {row['client']}: {row['balance']} {row['currency']}.")
    if "owe me" in question:
        if not results:
            return Step(calls=(Call("search_clients", {"query": "El Sol"}),))
        if len(results) == 1:
            return Step(calls=(Call("client_balance", {"client_id": results[0]["clients"][0]["id"]}),))
        return Step(text=f"{results[1]['client']} owes you {results[1]['balance']} {results[1]['currency']}.")
    if "ITBMS" in question:
        if not results:
            return Step(calls=(Call("period_totals", {"from": "2026-10-01", "to": "2026-10-31"}),))
        return Step(text=f"En octubre facturó ITBMS por {results[0]['itbms_total']} {results[0]['currency']}.")
    if "overdue" in question:
        if not results:
            return Step(calls=(Call("list_invoices", {"overdue_more_than_days": 60, "sort": "date_asc", "limit": 50}),))
        numbers = ", ".join(row["number"] for row in results[0]["invoices"])
        return Step(text=f"More than 60 days overdue: {numbers}.")
    return Step(text="No sé.")


def _sql(chats: Chats, query: str) -> list[Any]:
    with chats.service.container.engine().connect() as connection:
        rows = list(connection.execute(text(query), {"t": chats.tenant_id}))
        if connection.dialect.name == "sqlite":  # money is kept in whole cents there
            rows = [tuple(Decimal(v).scaleb(-2) if isinstance(v, int) else v for v in row) for row in rows]
        return rows


def _money(value: Any) -> str:
    return format(Decimal(str(value)).quantize(Decimal("0.01")), "f")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_golden_questions_are_answered_from_the_tenants_records(chats_factory: Any, provider: str) -> None:
    chats = chats_factory(golden)
    chats.books()
    chats.books("otro")  # another tenant's identical books must change nothing
    settings = chats.configure(provider)
    assert settings["ownKey"] is True and settings["keyHint"] == "…9a1c" and settings["status"] == "VALID"

    _, messages = chats.ask("¿Cuál es mi factura más grande sin pagar?")
    biggest = _sql(chats, "SELECT i.number, i.balance FROM invoices i WHERE i.tenant_id = :t AND i.voided_at IS NULL ORDER BY i.balance DESC LIMIT 1")[0]
    answer = messages[-1]
    assert answer["role"] == "ASSISTANT" and answer["status"] == "COMPLETE", answer
    assert f"{biggest[0]}" in answer["text"] and f"{_money(biggest[1])} USD" in answer["text"]
    assert [m["role"] for m in messages] == ["USER", "ASSISTANT", "TOOL", "ASSISTANT"]
    assert messages[0]["status"] == "COMPLETE"
    assert messages[1]["toolCalls"][0]["name"] == "list_invoices"
    assert answer["provider"] == provider and answer["tokensIn"] > 0 and answer["tokensOut"] > 0

    chat, messages = chats.ask("How much does Ferretería El Sol owe me?")
    owed = _sql(chats, "SELECT SUM(i.balance) FROM invoices i JOIN clients c ON c.id = i.client_id WHERE i.tenant_id = :t AND c.name = 'Ferretería El Sol'")[0][0]
    assert messages[-1]["text"] == f"Ferretería El Sol owes you {_money(owed)} USD."
    assert [m["name"] for m in (*messages[-5]["toolCalls"], *messages[-3]["toolCalls"])] == ["search_clients", "client_balance"]

    _, messages = chats.ask("¿Cuánto ITBMS cobré en octubre?")
    itbms = _sql(chats, "SELECT SUM(tax_total) FROM invoices WHERE tenant_id = :t AND voided_at IS NULL AND issue_date BETWEEN '2026-10-01' AND '2026-10-31'")[0][0]
    assert messages[-1]["text"] == f"En octubre facturó ITBMS por {_money(itbms)} USD."

    _, messages = chats.ask("Which invoices are more than 60 days overdue?")
    overdue = _sql(chats, "SELECT number FROM invoices WHERE tenant_id = :t AND voided_at IS NULL AND balance > 0 AND due_date < '2026-09-25' ORDER BY issue_date")
    assert messages[-1]["text"] == "More than 60 days overdue: " + ", ".join(row[0] for row in overdue) + "."
    assert len(overdue) == 2
    assert chat["provider"] == provider and chat["model"] is not None
